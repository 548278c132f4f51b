"""Which bundles may be averaged into one ensemble (only members of one split and one recipe), and the
split a bundle is recomputed with from its manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from training.bundle_split import config_from_manifest
from training.data import DatasetError
from training.ensemble import check_members


def _manifest(init_seed: int, **training: Any) -> dict[str, Any]:
    """A member manifest as an older bundle wrote it (no ``tuning_strata`` key), with ``training`` on top."""
    record = {
        "data": ["covid19-radiography-128"],
        "recipe": "screening",
        "split": "grouped",
        "val_fraction": 0.4,
        "image_size": 128,
        "seed": 0,
        "init_seed": init_seed,
        "limit_per_class": None,
        "epochs": 40,
        "batch_size": 32,
        "learning_rate": 0.001,
    }
    return {
        "labels": ["Normal", "COVID-19", "Viral Pneumonia"],
        "input": {"height": 128, "width": 128},
        "preprocessing_version": "1",
        "architecture": "screening-cnn",
        "training": {**record, **training},
    }


def test_a_bundle_from_before_tuning_strata_joins_one_drawn_by_class() -> None:
    check_members([_manifest(0), _manifest(1, tuning_strata="class")], ["v", "v"])


def test_members_with_tuning_splits_drawn_differently_are_refused() -> None:
    """Same validation list, different tuning split: the ensemble's temperature and threshold would be
    fitted on films one member trained on."""
    with pytest.raises(DatasetError, match=r"training\.tuning_strata"):
        check_members([_manifest(0), _manifest(1, tuning_strata="class-and-source")], ["v", "v"])


def test_a_bundle_is_recomputed_with_the_split_options_its_manifest_records() -> None:
    data = [Path("covid19-radiography-128")]
    older = config_from_manifest(Path("b"), _manifest(0), data, None)
    assert (older.tuning_strata, older.fit_without_reported_normal) == ("class", False)
    newer = config_from_manifest(
        Path("b"),
        _manifest(0, tuning_strata="class-and-source", fit_without_reported_normal=True),
        data,
        None,
    )
    assert (newer.tuning_strata, newer.fit_without_reported_normal) == ("class-and-source", True)


def test_a_bundle_whose_check_was_rebuilt_is_recomputed_with_the_checks_drawn_negatives() -> None:
    """`training gate` without --synthetic-negatives keeps what the check was last built with: a rebuild
    must not quietly train the second stage without the drawn images again."""
    data = [Path("covid19-radiography-128")]
    assert config_from_manifest(Path("b"), _manifest(0), data, None).synthetic_negatives == 0
    rebuilt = {**_manifest(0), "gate_rebuilt": {"negatives": "not-chest-xray", "synthetic_negatives": 270}}
    assert config_from_manifest(Path("b"), rebuilt, data, None).synthetic_negatives == 270
    trained_with = _manifest(0, synthetic_negatives=40)
    assert config_from_manifest(Path("b"), trained_with, data, None).synthetic_negatives == 40
