"""Recompute the data split a bundle was trained on, and prove it is the same split.

Rebuilding a bundle's consistency check and combining bundles into an ensemble both fit or calibrate
something on that bundle's training images. If the recomputed split differed from the recorded one,
radiographs the bundle was validated on would leak into that fitting and every reported figure would be
optimistic; so the recomputed validation list must reproduce ``validation_files.txt`` byte for byte.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from function.bundle import FolderSource, load_bundle
from function.bundle_format import MANIFEST, VALIDATION_FILES
from training.data import DatasetError
from training.train import Prepared, TrainConfig, prepare, validation_lines

# training-record keys added after the first bundles were made: the value those older bundles were made with
RECORD_DEFAULTS = {
    "tuning_strata": "class",
    "fit_without_reported_normal": False,
    "augment_framing": False,
    "augment_aspect": False,
    "augment_border": False,
    "adult_normal_floor": None,
    "synthetic_negatives": 0,
}


def config_from_manifest(
    bundle: Path, manifest: dict[str, Any], data: list[Path], negatives: Path | None
) -> TrainConfig:
    """The TrainConfig the bundle's manifest records, with ``data`` matched to its folders by name; the
    consistency check's own options as its last rebuild (``gate_rebuilt``) set them, if it had one."""
    record = manifest["training"]
    by_name = {path.name: path for path in data}
    missing = [name for name in record["data"] if name not in by_name]
    if missing:
        raise DatasetError(f"the bundle was trained on {record['data']}; pass --data for {missing}")
    config = TrainConfig(
        data=[by_name[name] for name in record["data"]],
        out=bundle,
        recipe=record["recipe"],
        split=record["split"],
        epochs=record["epochs"],
        val_fraction=record["val_fraction"],
        image_size=record["image_size"],
        seed=record["seed"],
        init_seed=record.get("init_seed"),
        batch_size=record["batch_size"],
        learning_rate=record["learning_rate"],
        negatives=negatives,
        limit_per_class=record.get("limit_per_class"),
        architecture=record.get("architecture"),
        preprocessing=str(manifest["preprocessing_version"]),
        **{key: record.get(key, default) for key, default in RECORD_DEFAULTS.items()},
    )
    rebuilt = manifest.get("gate_rebuilt")  # the check as it stands: `training gate` may have changed it
    if rebuilt:
        config = dataclasses.replace(config, synthetic_negatives=int(rebuilt.get("synthetic_negatives", 0)))
    return config


def prepare_as_trained(
    bundle: Path, data: list[Path], negatives: Path | None = None
) -> tuple[dict[str, Any], TrainConfig, Prepared]:
    """The bundle's manifest, its training config and its data split, refusing a bundle that does not
    verify or data that does not reproduce its validation list."""
    load_bundle(FolderSource(bundle))
    manifest = json.loads((bundle / MANIFEST).read_text())
    config = config_from_manifest(bundle, manifest, data, negatives)
    prepared = prepare(config)
    recorded = (bundle / VALIDATION_FILES).read_text()
    if validation_lines(prepared.examples, prepared.split.validation) != recorded:
        raise DatasetError(
            f"the recomputed split does not reproduce {bundle.name}'s validation_files.txt: "
            "is this the data the bundle was trained on?"
        )
    return manifest, config, prepared
