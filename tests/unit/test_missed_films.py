"""bench.missed_films counts a film as caught exactly as the API flags it (score at or over the threshold)."""

from __future__ import annotations

import numpy as np

from bench.missed_films import _caught_line
from function.calibration import Calibration


def test_a_film_at_the_threshold_is_caught_as_the_api_flags_it() -> None:
    threshold = 0.1733
    scores = np.array([threshold, 0.17329, 0.9, 0.01])
    calibration = Calibration(temperature=1.0, min_confidence=0.0, flag_thresholds={"COVID-19": threshold})
    flagged = sum(calibration.flagged({"COVID-19": float(s)}) == "COVID-19" for s in scores)
    assert flagged == 2
    assert _caught_line("films", scores, threshold) == "films: 2 of 4 at or over 0.1733 (50.0%)"
