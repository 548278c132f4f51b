"""bench.served_counts: the served rule's readings counted (threshold first; adult normals only)."""

from __future__ import annotations

import numpy as np

from bench.served_counts import ServedCounts, served_counts
from function.bundle_format import LABELS
from function.calibration import Calibration


def test_served_counts_read_with_the_threshold_first() -> None:
    normal, covid = LABELS.index("Normal"), LABELS.index("COVID-19")
    raw = np.array([[0.7, 0.3, 0.0], [0.9, 0.1, 0.0], [0.2, 0.8, 0.0], [0.95, 0.05, 0.0], [0.9, 0.1, 0.0]])
    truth = np.array([covid, normal, covid, normal, normal])
    adult_normal = np.array([False, True, False, True, False])  # the last normal is a child's
    flagged = served_counts(Calibration(1.0, 0.0, {"COVID-19": 0.25}), raw, truth, adult_normal)
    assert flagged == ServedCounts(0.25, correct=5, adult_normals_normal=2, covid_caught=2)
    lower = served_counts(Calibration(1.0, 0.0, {"COVID-19": 0.08}), raw, truth, adult_normal)
    assert lower == ServedCounts(0.08, correct=3, adult_normals_normal=1, covid_caught=2)
    plain = served_counts(Calibration(), raw, truth, adult_normal)
    assert plain == ServedCounts(None, correct=4, adult_normals_normal=2, covid_caught=1)
