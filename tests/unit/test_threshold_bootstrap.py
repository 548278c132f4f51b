"""bench.threshold_bootstrap: resamples draw whole patient groups, as many as there are, seeded."""

from __future__ import annotations

from collections import Counter

import numpy as np

from bench.threshold_bootstrap import group_resamples

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
