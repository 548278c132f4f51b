"""``python -m training ensemble``: one bundle whose model averages the probabilities of several bundles.

Members are trained on the same split by the same recipe and differ in the seed of their weights and
augmentation (``train --init-seed``), in their network (``train --architecture``), or both. Their errors
are partly independent, so the mean probability is more often right than any one member, and never needs
another look at the validation split to choose. The ensemble is a single Keras model exported to a single
``model.tflite``, so the bundle contract, the function and the explanation heatmap stay as they are. Its
weights are stored as int8 (dynamic range) unless asked otherwise, which makes the whole ensemble cheaper
to run than one float32 member.

Temperature and screening thresholds are refitted for the ensemble on the tuning split, exactly as in
training. The consistency check depends on the split and the negatives, not on the classifier, so the first
member's is reused unchanged.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from function.bundle import FolderSource, load_bundle
from function.bundle_format import (
    INT8_DYNAMIC_WEIGHTS,
    MODEL_KERAS,
    VALIDATION_FILES,
    BundleError,
    verify_file,
)
from training.bundle_split import RECORD_DEFAULTS, prepare_as_trained
from training.data import DatasetError
from training.machine import machine_description
from training.train import TrainConfig, weights_seed, write_bundle

# training-record keys that decide the data, the split and the recipe: members must agree on all of them
SHARED_RECORD = (
    "data",
    "recipe",
    "split",
    "val_fraction",
    "image_size",
    "seed",
    "limit_per_class",
    "epochs",
    "batch_size",
    "learning_rate",
    "tuning_strata",
    "fit_without_reported_normal",
)
SHARED_MANIFEST = ("labels", "input", "preprocessing_version")  # the network may differ


def check_members(manifests: list[dict[str, Any]], validation_lists: list[str]) -> None:
    """Refuse members that were not trained on one split by one recipe, or that repeat a network with its
    weights seed (a repeated member only weights one model twice)."""
    if len(manifests) < 2:
        raise DatasetError("an ensemble needs at least two members")
    first = manifests[0]
    for index, manifest in enumerate(manifests[1:], start=2):
        differing = [key for key in SHARED_MANIFEST if manifest.get(key) != first.get(key)] + [
            f"training.{key}"
            for key in SHARED_RECORD
            if _record_value(manifest, key) != _record_value(first, key)
        ]
        if differing:
            raise DatasetError(f"member {index} differs from member 1 in {', '.join(differing)}")
        if validation_lists[index - 1] != validation_lists[0]:
            raise DatasetError(f"member {index} has another validation_files.txt than member 1")
    networks = [(manifest["architecture"], _member_weights_seed(manifest)) for manifest in manifests]
    repeated = sorted({f"{name} seed {seed}" for name, seed in networks if networks.count((name, seed)) > 1})
    if repeated:
        raise DatasetError(
            f"members repeat a network and weights seed ({', '.join(repeated)}): "
            "train them with distinct --init-seed"
        )


def _record_value(manifest: dict[str, Any], key: str) -> Any:
    return manifest["training"].get(key, RECORD_DEFAULTS.get(key))


def verified_member(bundle: Path) -> dict[str, Any]:
    """The member's manifest, once its served files and the ``model.keras`` the ensemble is built from
    match their recorded sha256: an edited or half-copied member must not slip into a release."""
    try:
        manifest = load_bundle(FolderSource(bundle)).manifest
        verify_file(manifest, MODEL_KERAS, (bundle / MODEL_KERAS).read_bytes())
    except (BundleError, OSError) as error:
        raise DatasetError(f"member {bundle} does not verify: {error}") from None
    return manifest


def ensemble_model(member_bundles: list[Path], views: tuple[float, ...] = (1.0,)) -> Any:
    """A functional Keras model: one input, every member on every view of it (``training.views``), the
    mean of all their softmax outputs."""
    import keras

    from training.views import views_of

    members = [keras.models.load_model(bundle / MODEL_KERAS, compile=False) for bundle in member_bundles]
    for index, member in enumerate(members, start=1):
        member.name = f"member_{index}"  # loaded members share a name; a functional model needs unique ones
    image = keras.Input(members[0].input_shape[1:], name="image")
    outputs = [member(view) for view in views_of(image, views) for member in members]
    mean = keras.layers.Average(name="mean_probability")(outputs)
    return keras.Model(image, mean, name="ensemble")


def build_ensemble(
    member_bundles: list[Path],
    data: list[Path],
    out: Path,
    tflite_weights: str = INT8_DYNAMIC_WEIGHTS,
    views: str = "none",
    adult_normal_floor: float | None = None,
) -> Path:
    """Verify the members, rebuild their split from ``data``, write the ensemble bundle to ``out``.

    int8 weights by default: N members cost N float inferences, and int8 dynamic-range brings the whole
    ensemble back under one float member's time and size (docs/benchmarks.md, "The released model").
    ``adult_normal_floor`` overrides the members' (training.calibration.normal_floor_threshold)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DatasetError(f"{out} is not empty: an ensemble bundle is written to a new folder")
    manifests = [verified_member(bundle) for bundle in member_bundles]
    check_members(manifests, [(bundle / VALIDATION_FILES).read_text() for bundle in member_bundles])
    _, config, prepared = prepare_as_trained(member_bundles[0], data)
    config = dataclasses.replace(config, out=out, init_seed=None)
    if adult_normal_floor is not None:  # a calibration choice: the ensemble may make it for its members
        config = dataclasses.replace(config, adult_normal_floor=adult_normal_floor)

    from training.model import layer_table
    from training.views import VIEW_SETS

    scales = VIEW_SETS[views]
    model = ensemble_model(member_bundles, scales)
    first = manifests[0]
    described = {
        "architecture": ensemble_description([manifest["architecture"] for manifest in manifests], scales),
        "layers": layer_table(model),
        "training": {
            **_shared_record(config, first),
            "members": [_member_record(manifest) for manifest in manifests],
            "test_time_views": list(scales),
            "seconds_total": round(sum(m["training"]["seconds_total"] for m in manifests), 1),
            "machine": machine_description(),
            "gate_from": first["bundle_version"],
        },
    }
    # model.h5 is the paper's single-network format; an ensemble's would repeat every member's weights
    return write_bundle(
        config,
        prepared,
        model,
        described,
        gate_from=member_bundles[0],
        legacy_h5=False,
        tflite_weights=tflite_weights,
    )


def ensemble_description(architectures: list[str], views: tuple[float, ...] = (1.0,)) -> str:
    """'ensemble of 3 screening-cnn + 2 screening-cnn-fullres': each network and its count, member order;
    with more than one view, ', each on 3 views (zoom 1, 1.06, 0.94)' after it."""
    counts = {name: architectures.count(name) for name in architectures}
    described = "ensemble of " + " + ".join(f"{count} {name}" for name, count in counts.items())
    if len(views) > 1:
        described += f", each on {len(views)} views (zoom {', '.join(f'{scale:g}' for scale in views)})"
    return described


def _shared_record(config: TrainConfig, first: dict[str, Any]) -> dict[str, Any]:
    record = config.as_record()
    record["negatives"] = first["training"].get("negatives")  # the copied gate was trained on these
    del record["init_seed"], record["architecture"]  # per member, below
    return record


def _member_record(manifest: dict[str, Any]) -> dict[str, Any]:
    training = manifest["training"]
    return {
        "bundle_version": manifest["bundle_version"],
        "architecture": manifest["architecture"],
        "weights_seed": _member_weights_seed(manifest),
        "epochs_run": training["epochs_run"],
        "seconds_total": training["seconds_total"],
        "resumed_at_epochs": training.get("resumed_at_epochs", []),  # none before training.resume existed
    }


def _member_weights_seed(manifest: dict[str, Any]) -> int:
    training = manifest["training"]
    return weights_seed(training["seed"], training.get("init_seed"))
