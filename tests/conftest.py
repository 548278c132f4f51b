"""Shared test locations: the repo, the released bundle and the read-only data beside the repo (../shared)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
RELEASE_BUNDLE = REPO_ROOT / "models" / "release"
PAPER_BUNDLE = REPO_ROOT / "models" / "paper"  # the paper's protocol, kept as the reference
SHARED_DATA = (REPO_ROOT.parent / "shared" / "data").resolve()
TRAINING_SET = SHARED_DATA / "covid19-radiography-128"
ADULT_SET = SHARED_DATA / "covid19-radiography-adult-128"
NOT_CHEST = SHARED_DATA / "not-chest-xray"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder; CI lays it beside the clone, so a missing folder is an error, not a skip."""
    if not TRAINING_SET.is_dir():
        raise RuntimeError(
            f"shared data not found at {SHARED_DATA}: the tests need ../shared beside the repo"
        )
    return SHARED_DATA


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API keeps an asyncio loop running in the main thread for the
    session-scoped browser, and Mangum's handler (called directly by other tests) needs that thread free."""
    items.sort(key=lambda item: "tests/browser/" in item.path.as_posix())
