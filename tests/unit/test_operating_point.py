"""bench.operating_point: COVID-19 caught at the lowest threshold that keeps a given number of adult
normals read Normal."""

from __future__ import annotations

import numpy as np
import pytest

from bench.operating_point import covid_caught_keeping_adult_normals
from function.bundle_format import LABELS
from function.calibration import Calibration

SCORES = [0.05, 0.1, 0.2, 0.3, 0.7, 0.01, 0.08, 0.15, 0.2, 0.25, 0.6]
CALIBRATED = np.array([[1 - p, p, 0.0] for p in SCORES])
TRUTH = np.array([LABELS.index(label) for label in ["Normal"] * 6 + ["COVID-19"] * 5])
ADULT_NORMAL = np.array([True] * 5 + [False] * 6)  # the sixth normal is a child's


@pytest.mark.parametrize(("keep", "caught"), [(4, 1), (3, 2), (2, 4), (1, 5), (0, 5), (5, None)])
def test_covid_caught_is_counted_at_the_lowest_threshold_keeping_that_many_adult_normals(
    keep: int, caught: int | None
) -> None:
    """Four adult normals are read Normal by argmax (COVID-19 at 0.05 to 0.3; the child's normal does not
    count), so keeping all four leaves only the COVID-19 film argmax catches, and keeping fewer lowers the
    threshold past the COVID-19 films one by one (the one scored as an adult normal kept Normal is not
    caught: the threshold lies just above that normal); five cannot be kept."""
    assert covid_caught_keeping_adult_normals(CALIBRATED, TRUTH, ADULT_NORMAL, Calibration(), keep) == caught
