"""Write a trained model and its companions as a bundle folder, manifest.json last (see bundle_format)."""

from __future__ import annotations

import contextlib
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import keras
import matplotlib
import numpy as np

from function.bundle_format import (
    BUNDLE_FORMAT,
    FLOAT32_WEIGHTS,
    INT8_DYNAMIC_WEIGHTS,
    MANIFEST,
    MODEL_H5,
    MODEL_KERAS,
    MODEL_TFLITE,
    TFLITE_WEIGHTS,
    sha256_hex,
)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # backend chosen first


def to_tflite(model: keras.Model, weights: str = FLOAT32_WEIGHTS) -> bytes:
    """TFLite flatbuffer of the model with ``weights`` (one of TFLITE_WEIGHTS). int8 dynamic-range stores
    weights as int8 and quantizes activations on the fly: on LiteRT's CPU kernels the released three-member
    ensemble runs about 3.4x faster than in float32 (docs/benchmarks.md, "The released model")."""
    import tensorflow as tf

    if weights not in TFLITE_WEIGHTS:
        raise ValueError(f"unknown tflite weights {weights!r}; expected one of {TFLITE_WEIGHTS}")
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if weights == INT8_DYNAMIC_WEIGHTS:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]  # no representative data: weights only
    with contextlib.redirect_stdout(io.StringIO()):  # the converter prints every captured tensor
        return converter.convert()


def save_models(
    model: keras.Model, out: Path, legacy_h5: bool = True, weights: str = FLOAT32_WEIGHTS
) -> bytes:
    """model.keras (and the paper's model.h5 unless ``legacy_h5`` is off) without optimizer state (smaller,
    and nothing serving needs), and model.tflite with ``weights``."""
    inference_model = type(model).from_config(model.get_config())  # uncompiled: no optimizer state saved
    inference_model.set_weights(model.get_weights())
    inference_model.save(out / MODEL_KERAS)
    if legacy_h5:
        inference_model.save(out / MODEL_H5)
    tflite = to_tflite(inference_model, weights)
    (out / MODEL_TFLITE).write_bytes(tflite)
    return tflite


def average_image(train_inputs: np.ndarray) -> np.ndarray:
    """The mean training image as 8-bit grayscale (H, W): the paper's "average chest radiograph"."""
    mean = train_inputs.mean(axis=0)[..., 0]
    return np.clip(np.round(mean * 255.0), 0, 255).astype(np.uint8)


def write_png(path: Path, gray: np.ndarray) -> None:
    ok, encoded = cv2.imencode(".png", gray)
    if not ok:
        raise RuntimeError(f"cannot encode {path.name}")
    path.write_bytes(encoded.tobytes())


def write_json(path: Path, content: Any) -> None:
    path.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def plot_learning_curves(history: dict[str, list[float]], path: Path) -> None:
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for axis, metric in zip(axes, ("loss", "accuracy"), strict=True):
        axis.plot(history.get(metric, []), label="train")
        axis.plot(history.get(f"val_{metric}", []), label="validation")
        axis.set_xlabel("epoch")
        axis.set_title(metric)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def plot_confusion_matrix(matrix: list[list[int]], labels: tuple[str, ...], path: Path, title: str) -> None:
    figure, axis = plt.subplots(figsize=(5, 4.5))
    values = np.asarray(matrix)
    axis.imshow(values, cmap="Blues")
    axis.set_xticks(range(len(labels)), labels, rotation=20)
    axis.set_yticks(range(len(labels)), labels)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    for (row, column), value in np.ndenumerate(values):
        color = "white" if value > values.max() / 2 else "black"
        axis.text(column, row, str(value), ha="center", va="center", color=color)
    axis.set_title(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def write_manifest(
    out: Path, fields: dict[str, Any], model_sha256: str, preprocessing: str
) -> dict[str, Any]:
    """Hash every file in ``out`` (except the manifest) and write manifest.json last; ``preprocessing`` is
    the version (``function.imaging.PREPROCESSING_VERSIONS``) the bundle's models were trained with."""
    created = datetime.now(UTC).replace(microsecond=0)
    files = {
        path.name: {"sha256": sha256_hex(path.read_bytes()), "bytes": path.stat().st_size}
        for path in sorted(out.iterdir())
        if path.is_file() and path.name != MANIFEST
    }
    manifest = {
        "bundle_format": BUNDLE_FORMAT,
        "bundle_version": f"{created:%Y%m%dT%H%M%SZ}-{model_sha256[:8]}",
        "created": created.isoformat().replace("+00:00", "Z"),
        "preprocessing_version": preprocessing,
        **fields,
        "files": files,
    }
    write_json(out / MANIFEST, manifest)
    return manifest


MANIFEST_OWN_FIELDS = ("bundle_format", "bundle_version", "created", "preprocessing_version", "files")
"""What ``write_manifest`` sets itself; every other field of a bundle's manifest is carried over."""


def rewrite_manifest(bundle: Path, manifest: dict[str, Any], change: str, record: dict[str, Any]) -> None:
    """A new manifest (new version, every file re-hashed) for a bundle changed in place with its classifier
    untouched, keeping its fields and recording ``change``: when, from which version, ``record``."""
    fields = {key: value for key, value in manifest.items() if key not in MANIFEST_OWN_FIELDS}
    fields[change] = {
        "at": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        **record,
        "previous_bundle_version": manifest["bundle_version"],
    }
    model_sha256 = sha256_hex((bundle / MODEL_TFLITE).read_bytes())
    write_manifest(
        bundle, fields, model_sha256=model_sha256, preprocessing=str(manifest["preprocessing_version"])
    )
