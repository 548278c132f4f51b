"""The screening operating point: how training picks a flag threshold and how the served rule applies it."""

from __future__ import annotations

import numpy as np
import pytest

from function.calibration import Calibration, decide
from training.calibration import (
    MIN_FLAG_THRESHOLD,
    flag_threshold,
    normal_floor_threshold,
    recall_quantile,
    screening_threshold,
)

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


def _read_normal(probabilities: np.ndarray, threshold: float) -> int:
    chosen, _ = decide(LABELS, probabilities, Calibration(flag_thresholds={"COVID-19": threshold}))
    return int((chosen == 0).sum())


def test_the_floor_threshold_is_the_lowest_that_keeps_the_share_of_normals() -> None:
    rng = np.random.default_rng(2)
    normals = _rows(list(rng.uniform(0.0, 0.45, 200)))  # all read Normal by argmax
    kept = np.ones(200, dtype=bool)
    threshold = normal_floor_threshold(normals, kept, COVID, 0, 0.95)
    assert threshold is not None
    assert _read_normal(normals, threshold) >= 190  # 95% of 200
    assert _read_normal(normals, threshold - 0.0001) < 190  # and no lower threshold keeps it
    assert round(threshold, 4) == threshold


def test_the_floor_counts_only_the_kept_rows() -> None:
    adults = _rows([0.01] * 100)
    children = _rows([0.4] * 100)  # would all be flagged at a low threshold, but they are not kept
    probabilities = np.concatenate([adults, children])
    kept = np.array([True] * 100 + [False] * 100)
    assert normal_floor_threshold(probabilities, kept, COVID, 0, 0.95) == pytest.approx(0.0101)


def test_no_floor_threshold_when_argmax_already_reads_too_few_normal() -> None:
    probabilities = _rows([0.1] * 90 + [0.7] * 10)  # 10% read COVID-19 by argmax
    assert normal_floor_threshold(probabilities, np.ones(100, dtype=bool), COVID, 0, 0.95) is None
    assert normal_floor_threshold(probabilities, np.ones(100, dtype=bool), COVID, 0, 0.90) is not None


def test_the_floor_threshold_is_above_a_score_stored_with_four_decimals() -> None:
    normals = _rows([0.1733] * 10 + [0.01] * 90)  # 10 must stay Normal for a floor of 100%
    threshold = normal_floor_threshold(normals, np.ones(100, dtype=bool), COVID, 0, 1.0)
    assert threshold == pytest.approx(0.1734)
    assert _read_normal(normals, threshold) == 100


def _tuning_split() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """100 COVID-19 films (two low scores) and 100 adult normals, 10 of them with COVID-19 scores of 0.3."""
    covid = _rows([0.02, 0.03] + [0.9] * 98)
    normals = _rows([0.3] * 10 + [0.01] * 90)
    truth = np.array([COVID] * 100 + [0] * 100)
    adult_normal = truth == 0
    return np.concatenate([covid, normals]), truth, adult_normal


def test_the_screening_threshold_is_the_higher_of_its_two_anchors() -> None:
    probabilities, truth, adult_normal = _tuning_split()
    without = screening_threshold(probabilities, truth, adult_normal, "COVID-19", 0.98, None)
    assert without["threshold"] == MIN_FLAG_THRESHOLD  # 98% recall asks for 0.03: floored at 0.05
    floored = screening_threshold(probabilities, truth, adult_normal, "COVID-19", 0.98, 0.95)
    assert floored["for_recall"] == MIN_FLAG_THRESHOLD
    assert floored["threshold"] == floored["for_adult_normal_floor"] == pytest.approx(0.3001)
    assert _read_normal(probabilities[adult_normal], floored["threshold"]) >= 95
    loose = screening_threshold(probabilities, truth, adult_normal, "COVID-19", 0.98, 0.85)
    assert loose["threshold"] == MIN_FLAG_THRESHOLD  # 10 flagged normals are within a 85% floor


def test_an_unreachable_floor_drops_the_threshold() -> None:
    probabilities, truth, adult_normal = _tuning_split()
    probabilities[100:120] = _rows([0.8] * 20)  # argmax reads 20 of the 100 adult normals COVID-19
    floored = screening_threshold(probabilities, truth, adult_normal, "COVID-19", 0.98, 0.95)
    assert floored["for_adult_normal_floor"] is None and floored["threshold"] is None


def test_the_harrell_davis_estimator_weighs_the_films_around_the_target_not_one_film() -> None:
    """Six films far under the rest: one film's score (the order statistic) falls in the gap's floor,
    the Harrell-Davis average between the gap's two sides (bench.threshold_bootstrap compares the two)."""
    covid_scores = [0.03] * 6 + list(np.linspace(0.6, 1.0, 252))
    truth = np.full(len(covid_scores), COVID)
    one_film = flag_threshold(_rows(covid_scores), truth, COVID, 0.98)
    averaged = flag_threshold(_rows(covid_scores), truth, COVID, 0.98, estimator="harrell-davis")
    assert one_film == pytest.approx(0.05)  # 0.03, lifted to MIN_FLAG_THRESHOLD
    assert averaged is not None and 0.05 < averaged < 0.6
    assert averaged == pytest.approx(recall_quantile(np.array(covid_scores), 0.98, "harrell-davis"), abs=1e-4)


def test_an_unknown_quantile_estimator_is_refused() -> None:
    with pytest.raises(ValueError, match="harrell-davis"):
        recall_quantile(np.array([0.5, 0.9]), 0.98, "mean")
