"""bench.threshold_bootstrap: resamples draw whole patient groups, as many as there are, seeded."""

from __future__ import annotations

from collections import Counter

import numpy as np

from bench.threshold_bootstrap import TuningReadings, covid_tail, group_resamples
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


def test_a_scaled_resample_draws_that_multiple_of_the_patient_groups() -> None:
    sizes = Counter(GROUPS)
    for scale, expected in ((2.0, 10), (0.4, 2), (3.0, 15)):
        for rows in group_resamples(GROUPS, resamples=20, seed=5, scale=scale):
            drawn = Counter(GROUPS[i] for i in rows)
            assert all(films % sizes[group] == 0 for group, films in drawn.items())
            assert sum(films // sizes[group] for group, films in drawn.items()) == expected


def _covid_probabilities(scores: list[float]) -> np.ndarray:
    return np.array([[1 - s, s, 0.0] for s in scores])


def test_the_covid_tail_counts_the_films_under_the_threshold_and_the_lowest_films_patients() -> None:
    tune = [0.9, 0.05, 0.1, 0.95, 0.3, 0.2, 0.6, 0.7, 0.8, 0.85, 0.88, 0.99]
    readings = TuningReadings(
        version="v",
        calibration=Calibration(flag_thresholds={"COVID-19": 0.25}),
        raw_tune=_covid_probabilities([*tune, 0.01]),
        tune_truth=np.array([1] * len(tune) + [0]),  # the last film is a normal: not counted
        tune_adult_normal=np.zeros(len(tune) + 1, dtype=bool),
        tune_groups=["p1", "p1", "p2", "p3", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "p10", "n"],
        raw_validation=_covid_probabilities([0.1, 0.2, 0.3, 0.01]),
        validation_truth=np.array([1, 1, 1, 0]),
        validation_adult_normal=np.zeros(4, dtype=bool),
        flag_sensitivity=(("COVID-19", 0.98),),
        min_confidence=0.0,
        adult_normal_floor=None,
    )
    line = covid_tail(readings)
    assert line.startswith("the 10 lowest COVID-19 scores of the tuning split: 0.050, 0.100, 0.200, 0.300,")
    assert "(9 patients)" in line  # 0.95 and 0.99 are not among the lowest ten; p1 brings two of them
    assert line.endswith("tuning 3 of 12, validation 2 of 3")
