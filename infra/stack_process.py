"""``make run``'s stack (``python -m infra.local_stack``) in a subprocess, for the browser tests and benches.

The stack is the real one: loopback S3 server, the function's app, the page. It is stopped with SIGINT,
as Ctrl-C would stop it, so its shutdown path is exercised too.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2

from infra.locations import RELEASE_BUNDLE, REPO_ROOT
from infra.ports import free_port

STARTUP_SECONDS = 90
LOGS = REPO_ROOT / "test-artifacts"


class StackStartError(RuntimeError):
    """The stack exited or did not answer /health in time; the message ends with its log."""


class StackProcess:
    """A running ``python -m infra.local_stack``: its URL, its log, and (once stopped) its exit code."""

    def __init__(self, url: str, log_path: Path) -> None:
        self.url = url
        self.log_path = log_path
        self.returncode: int | None = None

    def log(self) -> str:
        return self.log_path.read_text()


@contextlib.contextmanager
def local_stack(bundle: Path = RELEASE_BUNDLE, log_name: str = "local-stack") -> Iterator[str]:
    """Run ``python -m infra.local_stack`` on a free port until /health answers; yield its base URL."""
    with local_stack_process(bundle, log_name) as stack:
        yield stack.url


@contextlib.contextmanager
def local_stack_process(
    bundle: Path = RELEASE_BUNDLE, log_name: str = "local-stack"
) -> Iterator[StackProcess]:
    """Like ``local_stack``, yielding the process's details; its output goes to
    test-artifacts/<log_name>.log."""
    if not (bundle / "manifest.json").is_file():
        raise StackStartError(f"no model bundle at {bundle}: the local stack serves a bundle folder")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = LOGS / f"{log_name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.local_stack", "--port", str(port), "--bundle", str(bundle)],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        stack = StackProcess(url, log_path)
        try:
            _wait_until_answering(url, process, log_path)
            yield stack
        finally:
            process.send_signal(signal.SIGINT)
            try:
                stack.returncode = process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_answering(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StackStartError(
                f"local stack exited with {process.returncode}:\n{log_path.read_text()[-3000:]}"
            )
        try:
            httpx2.get(f"{url}/health", timeout=30)  # any answer: the tampered stack answers 503
            return
        except httpx2.TransportError:
            time.sleep(0.25)
    raise StackStartError(
        f"local stack did not answer within {STARTUP_SECONDS} s:\n{log_path.read_text()[-3000:]}"
    )
