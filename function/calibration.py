"""Temperature scaling and the "indeterminate" rule, shared by training (which fits them) and the API.

A softmax network trained to near-100% training accuracy is over-confident. Temperature scaling divides
the log-probabilities by one number T fitted on held-out data (Guo et al. 2017); it never changes the
argmax, only how sure the answer claims to be. Readings whose calibrated top probability is below
``min_confidence`` are answered "indeterminate" rather than as a confident wrong reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


def apply_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log(p) / T), row-wise; T = 1 returns the input (up to rounding)."""
    logits = np.log(np.clip(np.asarray(probabilities, dtype=np.float64), 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=-1, keepdims=True)
    scaled = np.exp(logits)
    return scaled / scaled.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class Calibration:
    """The manifest's ``calibration`` entry; the identity (T = 1, no indeterminate) when a bundle has none."""

    temperature: float = 1.0
    min_confidence: float = 0.0

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any]) -> Calibration:
        entry = manifest.get("calibration") or {}
        return cls(
            temperature=float(entry.get("temperature", 1.0)),
            min_confidence=float(entry.get("min_confidence", 0.0)),
        )

    def calibrate(self, probabilities: np.ndarray) -> np.ndarray:
        if self.temperature == 1.0:
            return probabilities
        return apply_temperature(probabilities, self.temperature)

    def is_confident(self, calibrated: np.ndarray) -> bool:
        return float(np.max(calibrated)) >= self.min_confidence
