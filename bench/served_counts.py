"""The three counts every model comparison here reads off a served rule: films read correctly, adult
normals read Normal, COVID-19 films caught (the release rule's, ``bench.ensemble_spread``'s and
``bench.threshold_bootstrap``'s)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from function.bundle_format import LABELS
from function.calibration import Calibration, decide


@dataclass(frozen=True)
class ServedCounts:
    """What one fitted rule makes of a split."""

    threshold: float | None  # COVID-19's; None: argmax alone
    correct: int
    adult_normals_normal: int
    covid_caught: int


def served_counts(
    calibration: Calibration, calibrated: np.ndarray, truth: np.ndarray, adult_normal: np.ndarray
) -> ServedCounts:
    """Count the served readings (``decide``: flag thresholds first, then argmax) of ``calibrated``
    probabilities, already calibrated by ``calibration``."""
    read, _ = decide(LABELS, calibrated, calibration)
    normal, covid = LABELS.index("Normal"), LABELS.index("COVID-19")
    return ServedCounts(
        threshold=calibration.flag_thresholds.get("COVID-19"),
        correct=int((read == truth).sum()),
        adult_normals_normal=int((read[adult_normal] == normal).sum()),
        covid_caught=int((read[truth == covid] == covid).sum()),
    )
