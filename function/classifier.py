"""LiteRT inference for a bundle's ``model.tflite``: the runtime the function ships (no TensorFlow).

Training's ``evaluate`` runs bundles through this same class, so a reported figure is the served model's.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
from ai_edge_litert.interpreter import Interpreter


class Classifier:
    """Wraps one LiteRT interpreter; ``predict`` maps a batch of model inputs to softmax probabilities."""

    def __init__(self, model_content: bytes, labels: Sequence[str], num_threads: int | None = None) -> None:
        self.labels = tuple(labels)
        self._interpreter = Interpreter(model_content=model_content, num_threads=num_threads)
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        self.input_shape = tuple(int(d) for d in self._input["shape"][1:])
        self._lock = threading.Lock()  # an interpreter is not thread-safe; FastAPI may call from threads
        if int(self._output["shape"][-1]) != len(self.labels):
            raise ValueError(f"model has {self._output['shape'][-1]} outputs but {len(self.labels)} labels")

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """(N, H, W, 1) float32 in [0, 1] -> (N, len(labels)) probabilities, one image at a time."""
        batch = np.asarray(batch, dtype=np.float32)
        if batch.shape[1:] != self.input_shape:
            raise ValueError(f"expected inputs of shape {self.input_shape}, got {batch.shape[1:]}")
        outputs = np.empty((len(batch), len(self.labels)), dtype=np.float32)
        with self._lock:
            for row, image in enumerate(batch):
                self._interpreter.set_tensor(self._input["index"], image[np.newaxis])
                self._interpreter.invoke()
                outputs[row] = self._interpreter.get_tensor(self._output["index"])[0]
        return outputs

    def predict_one(self, model_input: np.ndarray) -> dict[str, float]:
        """One (H, W, 1) input -> {label: probability} in the bundle's label order."""
        probabilities = self.predict(model_input[np.newaxis])[0]
        return {label: float(p) for label, p in zip(self.labels, probabilities, strict=True)}
