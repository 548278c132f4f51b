"""configure_logging: a process with no log handler (``python -m infra.local_stack``: uvicorn configures
only its own loggers) still prints the service's INFO lines; one with a handler (Lambda's runtime) gets
none added.

Run in a fresh interpreter each: pytest installs its own root handlers, which would hide the first case.
"""

from __future__ import annotations

import subprocess
import sys

from infra.locations import REPO_ROOT

SCRIPT = """
import logging, sys
{before}
from function.logging_setup import configure_logging
configure_logging("info")
logging.getLogger("cxr.access").info("the access line")
print(len(logging.getLogger().handlers))
"""


def run(before: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT.format(before=before)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_info_lines_are_printed_when_nobody_configured_logging() -> None:
    result = run()
    assert "INFO cxr.access the access line" in result.stderr
    assert result.stdout.strip() == "1"


def test_a_handler_already_there_is_the_only_one() -> None:
    result = run(before="logging.basicConfig(stream=sys.stdout, format='RUNTIME %(message)s')")
    assert "RUNTIME the access line" in result.stdout
    assert "the access line" not in result.stderr
    assert result.stdout.strip().endswith("1")
