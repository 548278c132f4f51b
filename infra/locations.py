"""Where things are: the repo, its bundles, and the read-only data laid beside it (``../shared/data``).

One definition for the local stack, the tests and the benches, so a bench never has to import the test
suite to find a film. CI lays ``../shared`` beside its clone exactly as a developer's checkout has it.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
FRONTEND = REPO_ROOT / "frontend"
RELEASE_BUNDLE = REPO_ROOT / "models" / "release"
PAPER_BUNDLE = REPO_ROOT / "models" / "paper"  # the paper's protocol, kept as the reference
SHARED_DATA = (REPO_ROOT.parent / "shared" / "data").resolve()
TRAINING_SET = SHARED_DATA / "covid19-radiography-128"
ADULT_SET = SHARED_DATA / "covid19-radiography-adult-128"
NOT_CHEST = SHARED_DATA / "not-chest-xray"
