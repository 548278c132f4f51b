"""Temperature scaling and the "indeterminate" rule, shared by training (which fits them) and the API.

A softmax network trained to near-100% training accuracy is over-confident. Temperature scaling divides
the log-probabilities by one number T fitted on held-out data (Guo et al. 2017); it never changes the
argmax, only how sure the answer claims to be. Readings whose calibrated top probability is below
``min_confidence`` are answered "indeterminate" rather than as a confident wrong reading.

A screening service must not miss the disease it screens for. ``flag_thresholds`` (e.g.
``{"COVID-19": 0.2}``) set a per-class operating point chosen on held-out data for a target sensitivity:
a class whose calibrated probability reaches its threshold is the reading even when another class is
more probable. Such a reading is a flag to see a physician, and says so; it is never "indeterminate".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
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
    flag_thresholds: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any]) -> Calibration:
        entry = manifest.get("calibration") or {}
        return cls(
            temperature=float(entry.get("temperature", 1.0)),
            min_confidence=float(entry.get("min_confidence", 0.0)),
            flag_thresholds={
                str(label): float(value) for label, value in (entry.get("flag_thresholds") or {}).items()
            },
        )

    def calibrate(self, probabilities: np.ndarray) -> np.ndarray:
        if self.temperature == 1.0:
            return probabilities
        return apply_temperature(probabilities, self.temperature)

    def is_confident(self, calibrated: np.ndarray) -> bool:
        return float(np.max(calibrated)) >= self.min_confidence

    def flagged(self, probabilities: dict[str, float]) -> str | None:
        """The most probable class among those at or above their flag threshold, if any."""
        reached = [label for label, t in self.flag_thresholds.items() if probabilities.get(label, 0.0) >= t]
        return max(reached, key=probabilities.__getitem__) if reached else None


def decide(
    labels: Sequence[str], calibrated: np.ndarray, calibration: Calibration
) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the class index the service answers (flag thresholds first, then argmax) and whether a
    flag threshold was reached (such a reading is never "indeterminate"). What training and evaluation
    report as the served decision."""
    rows = np.atleast_2d(calibrated)
    chosen = rows.argmax(axis=-1)
    flagged = np.zeros(len(rows), dtype=bool)
    for index, probabilities in enumerate(rows):
        label = calibration.flagged(dict(zip(labels, map(float, probabilities), strict=True)))
        if label is not None:
            chosen[index], flagged[index] = list(labels).index(label), True
    return chosen, flagged
