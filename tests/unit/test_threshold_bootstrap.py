"""bench.threshold_bootstrap: resamples draw whole patient groups, and the served counts are the rule's."""

from __future__ import annotations

from collections import Counter

import numpy as np

from bench.threshold_bootstrap import ServedCounts, group_resamples, served_counts
from function.bundle_format import LABELS
from function.calibration import Calibration

GROUPS = ["a", "a", "a", "b", "c", "c", "d", "e", "e", "e", "e"]


def test_a_resample_draws_whole_patient_groups_as_many_as_there_are() -> None:
    sizes = Counter(GROUPS)
    for rows in group_resamples(GROUPS, resamples=50, seed=1):
        drawn = Counter(GROUPS[i] for i in rows)
        for group, films in drawn.items():
            assert films % sizes[group] == 0  # every film of the group, once per time it was drawn
        assert sum(films // sizes[group] for group, films in drawn.items()) == len(sizes)


def test_resamples_differ_from_each_other_and_repeat_with_their_seed() -> None:
    first = group_resamples(GROUPS, resamples=20, seed=3)
    assert len({tuple(sorted(rows)) for rows in first}) > 1
    assert all(np.array_equal(a, b) for a, b in zip(first, group_resamples(GROUPS, 20, 3), strict=True))


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
