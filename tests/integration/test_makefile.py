"""The Makefile installs a virtual environment when its requirement files' content changes, not their
dates: a fresh clone, or a checkout, rewrites them unchanged and newer, and helper clones symlink .venv and
.venv-sam to a venv another checkout uses, so a date rule reinstalled into it on every `make lint`.

Each test copies the Makefile and the requirement files into a temporary folder and asks the real `make`
what `make test` would run (``-n``: nothing runs, no pip). `make -t` (touch) marks the venvs installed the
Makefile's own way, whatever its stamps are.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from infra.locations import REPO_ROOT

VENV_REQUIREMENTS = ("requirements.txt", "function/requirements.txt", "training/requirements.txt")
SAM_REQUIREMENTS = ("infra/requirements-sam.txt",)
INSTALLS = {
    ".venv": ".venv/bin/python -m pip install --quiet -r requirements.txt",
    ".venv-sam": "pip install --quiet -r infra/requirements-sam.txt",
}
"""The line of each venv's install recipe that `make -n` prints when it would install."""


def make(folder: Path, *arguments: str) -> str:
    done = subprocess.run(
        ["make", "--no-print-directory", "-C", str(folder), *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def planned_installs(folder: Path) -> list[str]:
    """The venvs `make test` would install into, from its dry run."""
    plan = make(folder, "-n", "test")
    return [venv for venv, line in INSTALLS.items() if line in plan]


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The Makefile and its requirement files, with both venvs marked installed by `make -t`."""
    for name in ("Makefile", *VENV_REQUIREMENTS, *SAM_REQUIREMENTS):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, tmp_path / name)
    assert planned_installs(tmp_path) == [".venv", ".venv-sam"], "a fresh machine installs both"
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv-sam").mkdir()
    make(tmp_path, "-t", "test")
    assert planned_installs(tmp_path) == []
    return tmp_path


def test_requirement_files_rewritten_unchanged_install_nothing(checkout: Path) -> None:
    """As a fresh clone or `git checkout` leaves them: the same bytes, dated after the venvs' stamps."""
    later = time.time() + 60
    for name in (*VENV_REQUIREMENTS, *SAM_REQUIREMENTS):
        os.utime(checkout / name, (later, later))
    assert planned_installs(checkout) == []


@pytest.mark.parametrize(
    ("requirement", "venv"),
    [
        ("requirements.txt", ".venv"),
        ("function/requirements.txt", ".venv"),
        ("training/requirements.txt", ".venv"),
        ("infra/requirements-sam.txt", ".venv-sam"),
    ],
)
def test_a_changed_requirement_file_installs_its_venv(checkout: Path, requirement: str, venv: str) -> None:
    with (checkout / requirement).open("a") as file:
        file.write("# changed\n")
    assert planned_installs(checkout) == [venv]
