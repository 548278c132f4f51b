"""The comparison path of the cold-start benchmark: the same bundle served with model.keras under TensorFlow.

Only the benchmark uses this; the function never imports TensorFlow. The loader reads the same manifest
from the same place, verifies model.keras, average.png and gate.json against it like
``function.bundle.load_bundle`` does for model.tflite, and hands the app a classifier with the same
``labels`` / ``predict_one`` interface, so the only difference between the two runs is the runtime.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from typing import Any

import numpy as np

from function.bundle import LoadedBundle, load_gate, parse_calibration, source_for
from function.bundle_format import MANIFEST, MODEL_KERAS, parse_manifest, verify_file


class KerasClassifier:
    """model.keras under TensorFlow, called eagerly one image at a time (as the function calls LiteRT)."""

    def __init__(self, model_content: bytes, labels: Sequence[str]) -> None:
        import keras  # imports TensorFlow: this is the cost being measured

        self.labels = tuple(labels)
        # Keras 3 loads .keras archives from a path, not from bytes.
        with tempfile.NamedTemporaryFile(suffix=".keras", delete=False) as handle:
            handle.write(model_content)
        try:
            self._model = keras.saving.load_model(handle.name, compile=False)
        finally:
            os.unlink(handle.name)
        self.input_shape = tuple(int(d) for d in self._model.input_shape[1:])

    def predict_one(self, model_input: np.ndarray) -> dict[str, float]:
        batch = np.asarray(model_input, dtype=np.float32)[np.newaxis]
        probabilities = np.asarray(self._model(batch, training=False))[0]
        return {label: float(p) for label, p in zip(self.labels, probabilities, strict=True)}


def load_keras_bundle(location: str) -> LoadedBundle:
    """Like ``function.bundle.load_bundle`` but with model.keras on TensorFlow instead of LiteRT.

    The consistency check (average.png, gate.json and any stage-2 model) is the served one.
    """
    source = source_for(location)
    manifest = parse_manifest(source.read(MANIFEST))
    model = verify_file(manifest, MODEL_KERAS, source.read(MODEL_KERAS))
    gate, gate_config = load_gate(source, manifest)
    classifier: Any = KerasClassifier(model, manifest["labels"])
    return LoadedBundle(
        manifest=manifest,
        classifier=classifier,
        gate=gate,
        gate_config=gate_config,
        calibration=parse_calibration(manifest),
    )
