"""Batch-norm statistics recomputed on clean films, the weights left as they are.

A ``BatchNormalization`` layer normalises served inputs with moving statistics that training kept as an
exponential average over its last batches (``momentum=0.9`` in ``screening-cnn``: about the last dozen),
and those batches were augmented (rotated, shifted, brightness- and contrast-jittered) while the service
reads clean films. Replacing every layer's moving mean and variance with the exact mean and (biased, as
training computes it) variance of its inputs over the fit split's clean films matches the statistics to
clean films, without a gradient step and without touching the tuning or validation films.

Measured (docs/model-experiments.md, "Batch-norm statistics recomputed on clean films"): stored films read
a little better, letterboxed uploads worse (the augmented batches' statistics carried part of the tolerance
for black bars); statistics of one augmented pass read stored films worse than the trained ones, so the gain
is the match to clean films, not less noise. Not part of the recipe; a tool for experiments.

Layers are recomputed in order, each on the activations the already recomputed layers before it produce,
so every layer's statistics are those of what it will really see when served. One layer's activations
for every film are held at once (about 2 GB for the release's 4105 fit films at 128x128).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

BATCH = 128  # films per forward pass: bounds the memory of one step, not the result


def networks_of(model: Any) -> list[Any]:
    """The Sequential networks whose layers run in order: the model itself, or an ensemble's members."""
    import keras

    if isinstance(model, keras.Sequential):
        return [model]
    members = [layer for layer in model.layers if isinstance(layer, keras.Sequential)]
    if not members:
        raise ValueError(f"{model.name} is neither a Sequential network nor an ensemble of them")
    return members


def _forward(layer: Any, activations: np.ndarray) -> np.ndarray:
    return np.concatenate(
        [
            np.asarray(layer(activations[start : start + BATCH], training=False))
            for start in range(0, len(activations), BATCH)
        ]
    )


def _channel_moments(activations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and biased variance per channel (last axis) over every other axis, summed in float64 batch by
    batch so a large split needs no float64 copy of its activations."""
    channels = activations.shape[-1]
    total, squares, count = np.zeros(channels), np.zeros(channels), 0
    for start in range(0, len(activations), BATCH):
        block = activations[start : start + BATCH].reshape(-1, channels).astype(np.float64)
        total += block.sum(axis=0)
        squares += np.square(block).sum(axis=0)
        count += len(block)
    mean = total / count
    return mean, np.maximum(squares / count - np.square(mean), 0.0)


def recompute_network(network: Any, inputs: np.ndarray) -> int:
    """Set each batch-norm layer of ``network`` (a Sequential) to its inputs' exact statistics over
    ``inputs``; returns how many layers were set."""
    import keras

    recomputed = 0
    activations = inputs.astype(np.float32)
    for layer in network.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            if layer.axis % activations.ndim != activations.ndim - 1:
                raise ValueError(f"{layer.name} normalises axis {layer.axis}, not the channels (last axis)")
            mean, variance = _channel_moments(activations)
            layer.moving_mean.assign(mean.astype(np.float32))
            layer.moving_variance.assign(variance.astype(np.float32))
            recomputed += 1
        activations = _forward(layer, activations)
    return recomputed


def recompute_batchnorm(model: Any, inputs: np.ndarray) -> int:
    """Recompute every batch-norm layer of ``model`` (one network or an ensemble of them, each member on
    the same ``inputs``); returns how many layers were set in all."""
    return sum(recompute_network(network, inputs) for network in networks_of(model))


def recompute_bundle(bundle: Path, data: list[Path], out: Path) -> Path:
    """``python -m training recompute-batchnorm``: ``bundle`` (a member or an ensemble) with every
    batch-norm layer recomputed on its own fit split, written to ``out`` as training writes a bundle: the
    exported model evaluated, the served rule refitted on the tuning split, the consistency check copied
    (it does not depend on the classifier). The split is rebuilt from ``data`` and verified first."""
    import keras

    from function.bundle_format import FLOAT32_WEIGHTS, MODEL_KERAS
    from training.bundle_split import prepare_as_trained
    from training.data import DatasetError
    from training.ensemble import verified_member
    from training.machine import machine_description
    from training.model import layer_table
    from training.train import write_bundle

    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DatasetError(f"{out} is not empty: a recomputed bundle is written to a new folder")
    manifest = verified_member(bundle)
    views = manifest["training"].get("test_time_views", [1.0])
    if views != [1.0]:
        raise DatasetError(
            f"{bundle} reads each film on the views {views}: its members see zoomed films, which "
            "statistics of the plain fit films would not describe; recompute its members, then combine them"
        )
    _, config, prepared = prepare_as_trained(bundle, data)
    model = keras.models.load_model(bundle / MODEL_KERAS, compile=False)
    fit = prepared.split.fit
    layers = recompute_batchnorm(model, prepared.inputs[fit])
    if not layers:
        raise DatasetError(f"{bundle}'s model has no batch-norm layer to recompute")
    described = {
        "architecture": manifest["architecture"],
        "layers": layer_table(model),
        "training": {
            **manifest["training"],  # its machine is the one that trained the weights
            "batchnorm_statistics": {
                "recomputed_from": manifest["bundle_version"],
                "films": f"the fit split's {len(fit)} films, as preprocessed for serving, no augmentation",
                "layers": layers,
                "machine": machine_description(),
            },
        },
    }
    return write_bundle(
        dataclasses.replace(config, out=out),
        prepared,
        model,
        described,
        gate_from=bundle,
        legacy_h5=(bundle / "model.h5").exists(),
        tflite_weights=manifest.get("tflite_weights", FLOAT32_WEIGHTS),
    )
