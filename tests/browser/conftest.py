"""Browser-test fixtures: `make run`'s stack in a subprocess, Debian's Chromium driven by Playwright.

The stack is the real one (``python -m infra.local_stack``: loopback S3 server, the function's app, the
page). Every page opened through the ``page`` fixture records Content-Security-Policy violations and
uncaught script errors; a test that leaves any behind fails at teardown.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import RELEASE_BUNDLE, REPO_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
STARTUP_SECONDS = 90
RESULT = "#result-region .result"
"""The page's result card: present once an answer (a reading, a refusal or an error) is shown."""

RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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
    """Like ``local_stack``, yielding the process's details. Stopped with SIGINT, as Ctrl-C would.

    Its output goes to test-artifacts/<log_name>.log.
    """
    if not (bundle / "manifest.json").is_file():
        pytest.fail(f"no model bundle at {bundle}: the browser tests serve models/release")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = REPO_ROOT / "test-artifacts" / f"{log_name}.log"
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
            pytest.fail(f"local stack exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            httpx2.get(f"{url}/health", timeout=30)  # any answer: the tampered stack answers 503
            return
        except httpx2.TransportError:
            time.sleep(0.25)
    pytest.fail(f"local stack did not answer within {STARTUP_SECONDS} s:\n{log_path.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def stack_url() -> Iterator[str]:
    with local_stack() as url:
        health = httpx2.get(f"{url}/health", timeout=30)
        assert health.status_code == 200, health.text
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class PageWatch:
    """What a page reported while a test ran: CSP violations and uncaught errors."""

    def __init__(self, page: Page) -> None:
        self.console_csp: list[str] = []
        self.page_errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def _console(self, message: object) -> None:
        text = message.text  # type: ignore[attr-defined]
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.console_csp.append(text)


@pytest.fixture
def page_watch(browser: Browser) -> Iterator[tuple[Page, PageWatch]]:
    context = browser.new_context(viewport=DESKTOP, locale="es-ES")
    page = context.new_page()
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    watch = PageWatch(page)
    yield page, watch
    context.close()


@pytest.fixture
def page(page_watch: tuple[Page, PageWatch]) -> Iterator[Page]:
    """A desktop-sized page that must end the test with no CSP violation and no uncaught script error."""
    page, watch = page_watch
    yield page
    in_page = page.evaluate("window.__cspViolations || []") if not page.is_closed() else []
    assert not watch.console_csp and not in_page, f"CSP violations: {watch.console_csp} {in_page}"
    assert not watch.page_errors, f"uncaught errors in the page: {watch.page_errors}"


def screenshot(page: Page, name: str) -> Path:
    """Save the state on a desktop and a phone-sized viewport; the phone layout must not scroll sideways."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.mouse.move(0, 0)  # no hover highlight left where the last click was
    desktop = SCREENSHOTS / f"{name}-desktop.png"
    page.screenshot(path=str(desktop), full_page=True)
    size = page.viewport_size or DESKTOP
    page.set_viewport_size(PHONE)
    try:
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name}: the phone layout is {overflow}px wider than the screen"
        page.screenshot(path=str(SCREENSHOTS / f"{name}-phone.png"), full_page=True)
    finally:
        page.set_viewport_size(size)
    return desktop
