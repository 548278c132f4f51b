"""Two models compared at one operating point: COVID-19 films caught with as many adult normals kept Normal.

Each bundle's served counts carry the luck of its own screening threshold, fitted on a few hundred tuning
films (``bench.threshold_bootstrap``: the release's refits catch 1081 to 1139 COVID-19 films). Setting the
threshold on the compared films themselves so that every model keeps the same number of adult normals
Normal leaves only how well each model ranks COVID-19 above healthy adults. For comparing models only: a
threshold set on the validation split is never a served one.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from function.bundle_format import LABELS
from function.calibration import Calibration, decide


def covid_caught_keeping_adult_normals(
    calibrated: np.ndarray, truth: np.ndarray, adult_normal: np.ndarray, calibration: Calibration, keep: int
) -> int | None:
    """COVID-19 films caught with the COVID-19 threshold as low as it goes while ``keep`` of the
    ``adult_normal`` films are still read Normal (the served rule otherwise: ``decide``). None when argmax
    alone reads fewer than ``keep`` of them Normal."""
    normal, covid = LABELS.index("Normal"), LABELS.index("COVID-19")
    read_normal = np.asarray(adult_normal, dtype=bool) & (calibrated.argmax(axis=1) == normal)
    scores = np.sort(calibrated[read_normal, covid])
    if keep > len(scores):
        return None
    threshold = float(np.nextafter(scores[keep - 1], 1.0)) if keep else 0.0
    rule = dataclasses.replace(calibration, flag_thresholds={"COVID-19": threshold})
    served, _ = decide(LABELS, calibrated, rule)
    return int((served[truth == covid] == covid).sum())
