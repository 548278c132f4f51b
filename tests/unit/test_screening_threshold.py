"""The screening operating point: how training picks a flag threshold and how the served rule applies it."""

from __future__ import annotations

import numpy as np
import pytest

from function.calibration import Calibration, decide
from training.calibration import MIN_FLAG_THRESHOLD, flag_threshold

LABELS = ("Normal", "COVID-19", "Viral Pneumonia")
COVID = LABELS.index("COVID-19")


def _rows(covid_probabilities: list[float]) -> np.ndarray:
    """Rows whose COVID-19 probability is given and whose remainder goes to Normal."""
    covid = np.array(covid_probabilities)
    return np.stack([1 - covid, covid, np.zeros_like(covid)], axis=1)


def test_the_threshold_keeps_the_target_share_of_true_cases() -> None:
    rng = np.random.default_rng(0)
    covid_scores = rng.uniform(0.1, 1.0, 500)
    probabilities = _rows(list(covid_scores))
    truth = np.full(500, COVID)
    threshold = flag_threshold(probabilities, truth, COVID, 0.98)
    assert threshold is not None
    assert (covid_scores >= threshold).mean() >= 0.98
    assert (covid_scores >= threshold + 0.01).mean() < 0.98  # and it is the largest such threshold


def test_no_threshold_when_the_argmax_already_reaches_the_target() -> None:
    probabilities = _rows([0.9] * 99 + [0.6])
    assert flag_threshold(probabilities, np.full(100, COVID), COVID, 0.98) is None


def test_the_threshold_never_goes_below_the_floor() -> None:
    probabilities = _rows([0.001] * 10 + [0.9] * 90)
    assert flag_threshold(probabilities, np.full(100, COVID), COVID, 0.98) == MIN_FLAG_THRESHOLD


def test_only_true_cases_of_the_class_set_the_threshold() -> None:
    covid = _rows([0.3] * 5 + [0.9] * 95)
    normals = _rows([0.01] * 100)  # many Normal films with a tiny COVID-19 probability: irrelevant
    probabilities = np.concatenate([covid, normals])
    truth = np.array([COVID] * 100 + [0] * 100)
    assert flag_threshold(probabilities, truth, COVID, 0.95) == pytest.approx(0.3)


def test_decide_flags_only_rows_that_reach_the_threshold() -> None:
    probabilities = np.array(
        [
            [0.70, 0.25, 0.05],  # COVID-19 below the argmax but over 0.2: flagged
            [0.85, 0.10, 0.05],  # under 0.2: Normal
            [0.10, 0.05, 0.85],  # Viral Pneumonia
            [0.05, 0.90, 0.05],  # COVID-19 by argmax, and over the threshold
        ]
    )
    chosen, flagged = decide(LABELS, probabilities, Calibration(flag_thresholds={"COVID-19": 0.2}))
    assert chosen.tolist() == [COVID, 0, 2, COVID]
    assert flagged.tolist() == [True, False, False, True]


def test_without_thresholds_decide_is_the_argmax() -> None:
    probabilities = np.random.default_rng(1).dirichlet(np.ones(3), 50)
    chosen, flagged = decide(LABELS, probabilities, Calibration())
    assert chosen.tolist() == probabilities.argmax(axis=1).tolist()
    assert not flagged.any()


def test_the_stored_threshold_still_catches_the_film_that_set_it() -> None:
    """The threshold is stored with 4 decimals; rounding it up would drop the film at the quantile."""
    covid_scores = [0.05, 0.173353] + [0.9] * 98  # at 98% of 100 only the lowest film may be missed
    threshold = flag_threshold(_rows(covid_scores), np.full(100, COVID), COVID, 0.98)
    assert threshold is not None
    assert 0.1732 < threshold <= 0.173353
    assert (np.array(covid_scores) >= threshold).sum() == 99
