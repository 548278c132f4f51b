"""The suite's own rule: under ``make test`` (``CXR_NO_SKIPS=1``) a skipped test fails (tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from infra.locations import REPO_ROOT

SKIPPING = "import pytest\n\n\ndef test_needs_a_tool():\n    pytest.skip('the tool is not installed')\n"


def run_suite(folder: Path, no_skips: bool) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key != "CXR_NO_SKIPS"}
    if no_skips:
        environment["CXR_NO_SKIPS"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest", str(folder)],
        cwd=REPO_ROOT,
        env={**environment, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_skip_fails_under_make_test_and_only_there(tmp_path: Path) -> None:
    (tmp_path / "test_skipping.py").write_text(SKIPPING)
    assert "1 skipped" in run_suite(tmp_path, no_skips=False).stdout
    strict = run_suite(tmp_path, no_skips=True)
    assert "1 failed" in strict.stdout and "should have installed" in strict.stdout
