"""``python -m training gate``: rebuild a bundle's consistency check without retraining its classifier.

The check (SSIM threshold, learned second stage) depends on the classifier's data split but not on its
weights. New kinds of negatives, or a better stage-2 recipe, should not cost a classifier retrain that
would also change every reported accuracy. The split is recomputed from the manifest's training record and
must reproduce the bundle's validation_files.txt exactly, so the held-out radiographs stay held out.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from function.bundle import FolderSource, load_bundle
from function.bundle_format import GATE, MANIFEST, MODEL_TFLITE, VALIDATION_FILES
from training.data import DatasetError
from training.recipes import RECIPES
from training.train import TrainConfig, build_gate, prepare, validation_lines

MANIFEST_OWN_FIELDS = ("bundle_format", "bundle_version", "created", "preprocessing_version", "files")


def config_from_manifest(
    bundle: Path, manifest: dict[str, Any], data: list[Path], negatives: Path
) -> TrainConfig:
    record = manifest["training"]
    by_name = {path.name: path for path in data}
    missing = [name for name in record["data"] if name not in by_name]
    if missing:
        raise DatasetError(f"the bundle was trained on {record['data']}; pass --data for {missing}")
    return TrainConfig(
        data=[by_name[name] for name in record["data"]],
        out=bundle,
        recipe=record["recipe"],
        split=record["split"],
        epochs=record["epochs"],
        val_fraction=record["val_fraction"],
        image_size=record["image_size"],
        seed=record["seed"],
        batch_size=record["batch_size"],
        learning_rate=record["learning_rate"],
        negatives=negatives,
        limit_per_class=record.get("limit_per_class"),
    )


def rebuild_gate(bundle: Path, data: list[Path], negatives: Path) -> dict[str, Any]:
    """Rewrite the bundle's gate files and manifest in place; returns the new gate.json content."""
    load_bundle(FolderSource(bundle))  # refuse to touch a bundle that does not verify
    manifest = json.loads((bundle / MANIFEST).read_text())
    config = config_from_manifest(bundle, manifest, data, negatives)
    prepared = prepare(config)
    recorded = (bundle / VALIDATION_FILES).read_text()
    if validation_lines(prepared.examples, prepared.split.validation) != recorded:
        raise DatasetError(
            "the recomputed split does not reproduce the bundle's validation_files.txt: "
            "is this the data the bundle was trained on?"
        )
    import tensorflow as tf  # only once the data is known to match

    from training import export

    tf.config.experimental.enable_op_determinism()  # as in training: same seed, same gate
    gate = build_gate(config, RECIPES[config.recipe], prepared.inputs, prepared.split, bundle)

    export.write_json(bundle / GATE, gate)
    fields = {key: value for key, value in manifest.items() if key not in MANIFEST_OWN_FIELDS}
    fields["gate_rebuilt"] = {
        "at": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "negatives": negatives.name,
        "previous_bundle_version": manifest["bundle_version"],
    }
    model_sha256 = hashlib.sha256((bundle / MODEL_TFLITE).read_bytes()).hexdigest()
    export.write_manifest(bundle, fields, model_sha256=model_sha256)
    return gate
