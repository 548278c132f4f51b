"""Fit the temperature on held-out data and measure calibration (expected calibration error)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Literal, get_args

import numpy as np

from function.bundle_format import LABELS
from function.calibration import Calibration, apply_temperature


def negative_log_likelihood(probabilities: np.ndarray, truth: Sequence[int]) -> float:
    picked = np.asarray(probabilities)[np.arange(len(truth)), np.asarray(truth)]
    return float(-np.log(np.clip(picked, 1e-12, 1.0)).mean())


def fit_temperature(probabilities: np.ndarray, truth: Sequence[int]) -> float:
    """The T in [0.25, 20] minimizing NLL on the given (held-out) predictions; a 1-D search suffices."""
    candidates = np.exp(np.linspace(np.log(0.25), np.log(20.0), 400))
    losses = [negative_log_likelihood(apply_temperature(probabilities, t), truth) for t in candidates]
    return round(float(candidates[int(np.argmin(losses))]), 4)


def expected_calibration_error(probabilities: np.ndarray, truth: Sequence[int], bins: int = 10) -> float:
    """ECE: |accuracy - confidence| averaged over equal-width confidence bins, weighted by bin size."""
    probabilities = np.asarray(probabilities)
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == np.asarray(truth)
    edges = np.linspace(0.0, 1.0, bins + 1)
    error = 0.0
    for low, high in itertools.pairwise(edges):
        in_bin = (confidence > low) & (confidence <= high)
        if in_bin.any():
            error += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return round(float(error), 4)


MIN_FLAG_THRESHOLD = 0.05
"""Never flag a class at under 5%: below that the "screening" rule would be noise, whatever the target."""


QuantileEstimator = Literal["order-statistic", "harrell-davis"]
QUANTILE_ESTIMATORS: tuple[QuantileEstimator, ...] = get_args(QuantileEstimator)
DEFAULT_QUANTILE_ESTIMATOR: QuantileEstimator = "order-statistic"
"""How the recall target's threshold is read off the tuning scores. ``order-statistic`` (what every
bundle so far was fitted with) takes one film's score: the largest threshold that keeps the target share.
``harrell-davis`` averages the order statistics around it, weighted by a Beta distribution: no longer
exactly the target share on the tuning split, but a smoother function of which films that split holds
(measured against the first by ``bench.threshold_bootstrap --quantile-estimator``)."""


def recall_quantile(
    scores: np.ndarray, target_recall: float, estimator: QuantileEstimator = DEFAULT_QUANTILE_ESTIMATOR
) -> float:
    """The score under which ``1 - target_recall`` of ``scores`` lie, by the named estimator."""
    if estimator == "order-statistic":
        return float(np.quantile(scores, 1.0 - target_recall, method="lower"))
    if estimator == "harrell-davis":
        from scipy.stats.mstats import hdquantiles

        return float(np.asarray(hdquantiles(np.asarray(scores, dtype=float), prob=[1.0 - target_recall]))[0])
    raise ValueError(f"quantile estimator is one of {', '.join(QUANTILE_ESTIMATORS)}, not {estimator!r}")


def flag_threshold(
    calibrated: np.ndarray,
    truth: Sequence[int],
    class_index: int,
    target_recall: float,
    estimator: QuantileEstimator = DEFAULT_QUANTILE_ESTIMATOR,
) -> float | None:
    """The largest probability threshold for ``class_index`` that keeps ``target_recall`` of its true
    cases on these (held-out) predictions (``estimator``: see ``QUANTILE_ESTIMATORS``); None when plain
    argmax already reaches it (threshold >= 0.5)."""
    scores = np.asarray(calibrated)[np.asarray(truth) == class_index, class_index]
    if not len(scores):
        return None
    threshold = recall_quantile(scores, target_recall, estimator)
    if threshold >= 0.5:
        return None
    # stored with 4 decimals, rounded down: rounding up can put the quantile's own film under the threshold
    # (the 20261127T213814Z release flagged 0.1734 for a film at 0.17335, and kept 97.7%, not 98%)
    return max(math.floor(threshold * 10_000) / 10_000, MIN_FLAG_THRESHOLD)


def normal_floor_threshold(
    calibrated: np.ndarray, kept: np.ndarray, class_index: int, normal_index: int, floor: float
) -> float | None:
    """The smallest threshold for ``class_index`` at which at least ``floor`` of the ``kept`` rows (the
    tuning split's adult normals) are still read Normal, flagging none of them above it; 0.0 when no
    threshold flags too many; None when argmax alone already reads fewer than ``floor`` of them Normal.

    The second anchor of the screening threshold (docs/model-experiments.md, "Adult-normal floor"): a
    98% recall target on a tuning split of ~260 COVID-19 films moves with its last five films, and a lower
    threshold is paid for by healthy adults told to see a physician."""
    rows = np.asarray(calibrated)[np.asarray(kept, dtype=bool)]
    if not len(rows):
        return 0.0
    normal_by_argmax = rows[rows.argmax(axis=1) == normal_index]
    spare = len(normal_by_argmax) - math.ceil(floor * len(rows) - 1e-9)  # how many a flag may take
    if spare < 0:
        return None
    scores = np.sort(normal_by_argmax[:, class_index])[::-1]
    if spare >= len(scores):
        return 0.0
    # the threshold must lie above the (spare + 1)-th highest score: the next 4-decimal value past it
    above = float(scores[spare])
    threshold = math.floor(above * 10_000) / 10_000
    while threshold <= above:
        threshold = round(threshold + 0.0001, 4)
    return threshold


def screening_threshold(
    calibrated: np.ndarray,
    truth: np.ndarray,
    adult_normal: np.ndarray,
    label: str,
    target_recall: float,
    adult_normal_floor: float | None,
    estimator: QuantileEstimator = DEFAULT_QUANTILE_ESTIMATOR,
) -> dict[str, float | None]:
    """One class's flag threshold on the tuning split, with its two anchors: the recall target's and,
    when asked for, the adult-normal floor's (the threshold is the higher; None means argmax alone)."""
    for_recall = flag_threshold(calibrated, truth, LABELS.index(label), target_recall, estimator)
    if adult_normal_floor is None or for_recall is None:
        return {"threshold": for_recall, "for_recall": for_recall}
    for_floor = normal_floor_threshold(
        calibrated, adult_normal, LABELS.index(label), LABELS.index("Normal"), adult_normal_floor
    )
    threshold = None if for_floor is None else max(for_recall, for_floor)
    return {
        "threshold": threshold if threshold is not None and threshold < 0.5 else None,
        "for_recall": for_recall,
        "for_adult_normal_floor": for_floor,
    }


def fit_screening_calibration(
    tune_probabilities: np.ndarray,
    truth: np.ndarray,
    adult_normal: np.ndarray,
    flag_sensitivity: Sequence[tuple[str, float]],
    min_confidence: float,
    adult_normal_floor: float | None,
    estimator: QuantileEstimator = DEFAULT_QUANTILE_ESTIMATOR,
) -> tuple[Calibration, dict[str, dict[str, float | None]]]:
    """The served rule fitted on the tuning split's raw probabilities: the temperature, then each flagged
    class's screening threshold (``screening_threshold``) on the calibrated ones. One function for a
    trained bundle, an ensemble and ``bench.ensemble_spread``, so that all three serve the same rule
    (``estimator`` other than the default only in ``bench.threshold_bootstrap``'s comparison so far).
    Returns the rule and each threshold's anchors."""
    temperature = fit_temperature(tune_probabilities, truth)
    calibrated = apply_temperature(tune_probabilities, temperature)
    parts = {
        label: screening_threshold(
            calibrated, truth, adult_normal, label, target, adult_normal_floor, estimator
        )
        for label, target in flag_sensitivity
    }
    flags = {label: part["threshold"] for label, part in parts.items() if part["threshold"] is not None}
    return Calibration(temperature, min_confidence, flags), parts
