"""The bundle contract between training (writer) and the function (reader).

A bundle is one folder (or one S3 prefix) holding ``manifest.json`` and the files it lists. The manifest
is the only thing a reader trusts: every other file is accepted only if its sha256 matches the manifest.
Readers fetch ``manifest.json`` first; ``publish`` uploads it last, so a reader never sees half a bundle.

manifest.json (``BUNDLE_FORMAT`` 1)::

    {
      "bundle_format": 1,
      "bundle_version": "20261127T140000Z-3f2a9c1d",   # creation time + first 8 hex of model.tflite's sha256
      "created": "2026-11-27T14:00:00Z",
      "labels": ["Normal", "COVID-19", "Viral Pneumonia"],  # model output order: index 0, 1, 2
      "input": {"height": 64, "width": 64, "channels": 1, "dtype": "float32", "range": [0.0, 1.0]},
      "preprocessing_version": "1",                       # a key of function.imaging.PREPROCESSING_VERSIONS
      "architecture": "paper-cnn",
      "training": {...parameters..., "preprocessing": "1"},  # must agree with preprocessing_version
      "data": {...counts per class and split...},
      "files": {"model.tflite": {"sha256": "...", "bytes": 123}, "average.png": {...}, ...}
    }

gate.json::

    {"method": "ssim", "threshold": 0.15, "calibration": {...how it was chosen...},
     "rejection_rate": {"ct": 0.9, ...}, "false_rejection_rate": {"validation": 0.01}}

    # optional learned second stage (the ``screening`` recipe); the model is listed in the manifest too
    {..., "model": "gate_model.tflite", "model_labels": ["other", "frontal_chest_radiograph"],
     "model_threshold": 0.5}                           # accepted when P(frontal_chest_radiograph) >= it

crop_note.json (optional; ``python -m training crop-note``), the crop detector behind the "cropped" note::

    {"model": "crop_model.tflite", "model_labels": ["whole", "cropped"], "threshold": 0.9,
     "validation": {...whole films noted, crops caught...}}   # noted when P(cropped) >= threshold

``SERVED_FILES`` are what the function always needs (plus gate.json's ``model`` when it names one, and
crop_note.json and its model when the manifest lists crop_note.json); the
rest (Keras and h5 models, plots, metrics) are for people.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

BUNDLE_FORMAT = 1
MANIFEST = "manifest.json"
MODEL_TFLITE = "model.tflite"
MODEL_KERAS = "model.keras"
MODEL_H5 = "model.h5"
AVERAGE_IMAGE = "average.png"
GATE = "gate.json"
METRICS = "metrics.json"
VALIDATION_FILES = "validation_files.txt"
HISTORY = "history.csv"
CROP_NOTE = "crop_note.json"
CROP_MODEL = "crop_model.tflite"

SERVED_FILES: tuple[str, ...] = (MODEL_TFLITE, AVERAGE_IMAGE, GATE)

FLOAT32_WEIGHTS = "float32"
INT8_DYNAMIC_WEIGHTS = "int8-dynamic-range"
TFLITE_WEIGHTS: tuple[str, ...] = (FLOAT32_WEIGHTS, INT8_DYNAMIC_WEIGHTS)
"""The manifest's ``tflite_weights``: how model.tflite stores its weights (absent in older bundles: float32).
LiteRT runs either; float32 gives Keras's outputs to rounding, int8 dynamic-range is a quarter of the size
and faster on CPU at a small change in the probabilities, which the bundle's own figures include."""
LABELS: tuple[str, ...] = ("Normal", "COVID-19", "Viral Pneumonia")


class BundleError(RuntimeError):
    """A bundle that cannot be served: missing file, hash mismatch, unknown format."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_manifest(raw: bytes) -> dict[str, Any]:
    """Parse and sanity-check manifest.json; raise BundleError with a reason a person can act on."""
    try:
        manifest = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BundleError(f"{MANIFEST} is not valid JSON: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("bundle_format") != BUNDLE_FORMAT:
        raise BundleError(f"{MANIFEST} is not a bundle of format {BUNDLE_FORMAT}")
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise BundleError(f"{MANIFEST} lists no files")
    missing = [name for name in SERVED_FILES if name not in files]
    if missing:
        raise BundleError(f"{MANIFEST} does not list {', '.join(missing)}")
    for key in ("labels", "input", "preprocessing_version", "bundle_version"):
        if key not in manifest:
            raise BundleError(f"{MANIFEST} has no {key!r}")
    _check_preprocessing_agrees(manifest)
    return manifest


def _check_preprocessing_agrees(manifest: dict[str, Any]) -> None:
    """The version is written twice: at the top for the service, in the training record for a rerun. If
    they differ the bundle was edited by hand and nobody knows which one its model was trained under, so
    it is refused rather than served with one of them. Records older than the field name none."""
    training = manifest.get("training")
    trained_under = training.get("preprocessing") if isinstance(training, dict) else None
    if trained_under is not None and str(trained_under) != str(manifest["preprocessing_version"]):
        raise BundleError(
            f"{MANIFEST} says preprocessing version {manifest['preprocessing_version']} but its training "
            f"record says {trained_under}"
        )


def verify_file(manifest: dict[str, Any], name: str, data: bytes) -> bytes:
    """Return ``data`` if its sha256 matches the manifest entry for ``name``; else raise BundleError."""
    entry = manifest["files"].get(name)
    if entry is None:
        raise BundleError(f"{name} is not listed in {MANIFEST}")
    actual = sha256_hex(data)
    if actual != entry.get("sha256"):
        raise BundleError(f"{name} fails its sha256 check (manifest {entry.get('sha256')}, file {actual})")
    return data
