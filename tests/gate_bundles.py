"""Copies of the shipped bundle with or without a learned second stage in the consistency check.

The stage-2 model for tests is built here with Keras and converted to LiteRT (a few seconds of
TensorFlow, so its users are marked ``slow``): global average pooling into a dense softmax whose
"frontal" logit is ``SLOPE * mean(pixels) + INTERCEPT`` against 0 for "other". Its output is therefore
known in closed form for any model input, so a test can tell whether the served gate fed it the right
image and read the right output.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from function.bundle_format import GATE, MANIFEST, sha256_hex
from infra.locations import PAPER_BUNDLE

STAGE2_FILE = "gate_model.tflite"
STAGE2_LABELS = ["other", "frontal_chest_radiograph"]
STAGE2_KEYS = ("model", "model_labels", "model_threshold")
SLOPE = 6.0
INTERCEPT = -2.0


def expected_frontal_probability(model_input: np.ndarray) -> float:
    """What the test model answers for P(frontal) on one model input."""
    logit = SLOPE * float(np.mean(model_input, dtype=np.float64)) + INTERCEPT
    return float(1.0 / (1.0 + np.exp(-logit)))


def mean_brightness_model(size: int) -> bytes:
    """The test stage-2 model as a float32 TFLite flatbuffer for ``size`` x ``size`` x 1 inputs."""
    import keras

    from training.export import to_tflite

    model = keras.Sequential(
        [
            keras.Input(shape=(size, size, 1)),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    model.layers[-1].set_weights(
        [np.array([[0.0, SLOPE]], np.float32), np.array([0.0, INTERCEPT], np.float32)]
    )
    return to_tflite(model)


def reference_size() -> int:
    """Input side of the reference bundle that ``copy_reference`` copies."""
    return int(json.loads((PAPER_BUNDLE / MANIFEST).read_text())["input"]["height"])


def copy_reference(destination: Path) -> Path:
    """The paper's bundle: 64x64, SSIM-only gate, no calibration; the stage-2 tests add to it."""
    shutil.copytree(PAPER_BUNDLE, destination)
    return destination


def write_listed(bundle: Path, name: str, content: bytes) -> None:
    """Write a file into the bundle and list it (with its hash) in the manifest."""
    (bundle / name).write_bytes(content)
    manifest = json.loads((bundle / MANIFEST).read_text())
    manifest["files"][name] = {"sha256": sha256_hex(content), "bytes": len(content)}
    (bundle / MANIFEST).write_text(json.dumps(manifest, indent=2))


def edit_gate(bundle: Path, **fields: Any) -> dict[str, Any]:
    """Set gate.json fields (``None`` removes one) and re-list gate.json in the manifest."""
    gate = json.loads((bundle / GATE).read_text())
    for key, value in fields.items():
        if value is None:
            gate.pop(key, None)
        else:
            gate[key] = value
    write_listed(bundle, GATE, json.dumps(gate, indent=2).encode())
    return gate


def without_stage2(destination: Path) -> Path:
    """The paper's bundle with any learned second stage removed from gate.json."""
    bundle = copy_reference(destination)
    edit_gate(bundle, **dict.fromkeys(STAGE2_KEYS))
    return bundle


def with_stage2(
    destination: Path,
    model: bytes,
    threshold: float,
    labels: list[str] | None = None,
) -> Path:
    """The paper's bundle with ``model`` as its stage 2, accepting P(frontal) >= ``threshold``."""
    bundle = copy_reference(destination)
    write_listed(bundle, STAGE2_FILE, model)
    edit_gate(bundle, model=STAGE2_FILE, model_labels=labels or STAGE2_LABELS, model_threshold=threshold)
    return bundle
