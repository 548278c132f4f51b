"""How far the screening threshold moves with the tuning films it is fitted on, the model held fixed.

    .venv/bin/python -m bench.threshold_bootstrap models/release [--resamples 500] [--tuning-scale 2]
        [--quantile-estimator harrell-davis]

The served rule (the temperature, then the COVID-19 threshold that keeps the recipe's share of the tuning
split's COVID-19 films) is fitted on the tuning split alone, 723 films for the release. This refits it
exactly as training does (``training.calibration.fit_screening_calibration``, on the bundle's own served
model's outputs) on resamples of the tuning split, drawn with replacement by patient group as the
evaluation's intervals are, and reads the grouped validation split as served under each refit. The spread
is what the tuning split's size alone leaves in the threshold and in the service's answers; beside the
spread across reseeded ensembles (``bench.ensemble_spread``: 0.159 to 0.402), where the models change too,
it says how much of that is the tuning split. Reporting only; consistency check aside.

``--tuning-scale k`` draws k times as many patient groups into each resample: a prediction, the model
held fixed, of the spread a tuning split k times larger would leave, before any film is moved out of
training to get one (moving them costs the model training films, which this cannot see).

``--quantile-estimator harrell-davis`` refits with another reading of the recall target off the tuning
scores (``training.calibration.QUANTILE_ESTIMATORS``): is the served rule steadier if the threshold is a
weighted average of the lowest COVID-19 films' scores rather than one film's? The bundle's own rule, fitted
with the order statistic, stays in its column.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.served_counts import ServedCounts, served_counts
from function.bundle import FolderSource, load_bundle
from function.bundle_format import LABELS
from function.calibration import Calibration
from infra.locations import ADULT_SET, TRAINING_SET
from training.bundle_split import prepare_as_trained
from training.calibration import (
    DEFAULT_QUANTILE_ESTIMATOR,
    QUANTILE_ESTIMATORS,
    QuantileEstimator,
    fit_screening_calibration,
)
from training.cohorts import adult_normals
from training.recipes import RECIPES


def group_resamples(groups: Sequence[str], resamples: int, seed: int, scale: float = 1.0) -> list[np.ndarray]:
    """Row indices of ``resamples`` bootstrap draws: ``scale`` times as many patient groups as there are
    (rounded), drawn with replacement, each bringing all of its films (a patient's films are not
    independent draws). ``scale`` 1 is the ordinary bootstrap; above 1, a larger tuning split's draws."""
    if scale <= 0:
        raise ValueError(f"scale is a positive multiple of the tuning split, not {scale}")
    names, group_index = np.unique(np.asarray(groups), return_inverse=True)
    rows_of = [np.flatnonzero(group_index == g) for g in range(len(names))]
    drawn = max(1, round(scale * len(names)))
    rng = np.random.default_rng(seed)
    return [
        np.concatenate([rows_of[g] for g in rng.integers(0, len(names), drawn)]) for _ in range(resamples)
    ]


def _spread(values: Sequence[float]) -> str:
    low, middle, high = np.percentile(values, [2.5, 50, 97.5], method="nearest")
    return f"{middle:.4g} [{low:.4g}, {high:.4g}] (all: {min(values):.4g} to {max(values):.4g})"


@dataclass(frozen=True)
class TuningReadings:
    """A bundle's served model on its tuning and validation splits, and the recipe's rule to refit."""

    version: str
    calibration: Calibration  # the bundle's own
    raw_tune: np.ndarray
    tune_truth: np.ndarray
    tune_adult_normal: np.ndarray
    tune_groups: list[str]
    raw_validation: np.ndarray
    validation_truth: np.ndarray
    validation_adult_normal: np.ndarray
    flag_sensitivity: tuple[tuple[str, float], ...]
    min_confidence: float
    adult_normal_floor: float | None

    def refit(
        self, rows: np.ndarray, estimator: QuantileEstimator = DEFAULT_QUANTILE_ESTIMATOR
    ) -> Calibration:
        """The served rule fitted on these tuning rows, as training fits it on all of them."""
        rule, _ = fit_screening_calibration(
            self.raw_tune[rows],
            self.tune_truth[rows],
            self.tune_adult_normal[rows],
            self.flag_sensitivity,
            self.min_confidence,
            self.adult_normal_floor,
            estimator,
        )
        return rule

    def served(self, rule: Calibration) -> ServedCounts:
        return served_counts(
            rule, rule.calibrate(self.raw_validation), self.validation_truth, self.validation_adult_normal
        )


def read_tuning(bundle: Path, data: Sequence[Path]) -> TuningReadings:
    loaded = load_bundle(FolderSource(bundle))
    _, config, prepared = prepare_as_trained(bundle, list(data))
    recipe = RECIPES[config.recipe]
    tune, validation = prepared.split.tune, prepared.split.validation
    adult_normal = adult_normals(prepared.cohorts, prepared.labels)
    return TuningReadings(
        version=loaded.version,
        calibration=loaded.calibration,
        raw_tune=loaded.classifier.predict(prepared.inputs[tune]),
        tune_truth=prepared.labels[tune],
        tune_adult_normal=adult_normal[tune],
        tune_groups=[prepared.cohorts[i].group for i in tune],
        raw_validation=loaded.classifier.predict(prepared.inputs[validation]),
        validation_truth=prepared.labels[validation],
        validation_adult_normal=adult_normal[validation],
        flag_sensitivity=tuple(recipe.flag_sensitivity),
        min_confidence=recipe.min_confidence,
        adult_normal_floor=config.adult_normal_floor,
    )


LOWEST = 10  # the tuning split's lowest-scoring COVID-19 films shown: where the threshold falls


def covid_tail(readings: TuningReadings) -> str:
    """Where the bundle's threshold sits among the COVID-19 scores (calibrated, served model): the lowest
    tuning films and their patients, and how many films of each split score under it."""
    covid = LABELS.index("COVID-19")
    threshold = readings.calibration.flag_thresholds.get("COVID-19")
    tune = readings.calibration.calibrate(readings.raw_tune)[:, covid][readings.tune_truth == covid]
    groups = np.asarray(readings.tune_groups)[readings.tune_truth == covid]
    lowest = np.argsort(tune, kind="stable")[:LOWEST]
    validation = readings.calibration.calibrate(readings.raw_validation)[:, covid][
        readings.validation_truth == covid
    ]
    line = (
        f"the {LOWEST} lowest COVID-19 scores of the tuning split: "
        f"{', '.join(f'{v:.3f}' for v in tune[lowest])} ({len(set(groups[lowest]))} patients)"
    )
    if threshold is None:
        return line
    return (
        f"{line}; under the threshold {threshold}: tuning {int((tune < threshold).sum())} of {len(tune)}, "
        f"validation {int((validation < threshold).sum())} of {len(validation)}"
    )


def threshold_bootstrap(
    bundle: Path,
    resamples: int,
    seed: int,
    data: Sequence[Path],
    scale: float = 1.0,
    estimator: QuantileEstimator = DEFAULT_QUANTILE_ESTIMATOR,
) -> str:
    readings = read_tuning(bundle, data)
    tuned, checked = len(readings.tune_truth), len(readings.validation_truth)
    whole = readings.refit(np.arange(tuned), estimator)
    own = readings.served(readings.calibration)
    draws = [
        readings.served(readings.refit(rows, estimator))
        for rows in group_resamples(readings.tune_groups, resamples, seed, scale)
    ]
    covid_films = int((readings.validation_truth == LABELS.index("COVID-19")).sum())
    thresholds = [d.threshold if d.threshold is not None else 0.5 for d in draws]
    lines = [
        f"bundle {readings.version}: the served rule refitted on {resamples} patient-group resamples of its "
        f"{tuned} tuning films (seed {seed}"
        + (f"; {scale:g} times as many groups per resample" if scale != 1 else "")
        + (
            f"; recall target read by the {estimator} estimator"
            if estimator != DEFAULT_QUANTILE_ESTIMATOR
            else ""
        )
        + f"); the grouped validation split ({checked} films) "
        "read as served under each, consistency check aside",
        "",
        f"refitted on the whole tuning split ({estimator}): temperature {whole.temperature:g}, "
        f"COVID-19 threshold {whole.flag_thresholds.get('COVID-19')} "
        f"(the bundle's: {readings.calibration.temperature:g}, "
        f"{readings.calibration.flag_thresholds.get('COVID-19')})",
        covid_tail(readings),
        "",
        "| | the bundle's rule | median [95% of resamples] (lowest to highest) |",
        "|---|---|---|",
        f"| COVID-19 threshold (0.5: argmax) | {own.threshold} | {_spread(thresholds)} |",
        f"| read correctly (of {checked}) | {own.correct} | {_spread([d.correct for d in draws])} |",
        f"| adult normals read Normal (of {int(readings.validation_adult_normal.sum())}) "
        f"| {own.adult_normals_normal} | {_spread([d.adult_normals_normal for d in draws])} |",
        f"| COVID-19 caught (of {covid_films}) | {own.covid_caught} "
        f"| {_spread([d.covid_caught for d in draws])} |",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--resamples", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--tuning-scale", type=float, default=1.0, help="groups per resample, a multiple of the tuning split"
    )
    parser.add_argument(
        "--quantile-estimator",
        choices=QUANTILE_ESTIMATORS,
        default=DEFAULT_QUANTILE_ESTIMATOR,
        help="how each refit reads the recall target off the tuning scores (the bundles': order-statistic)",
    )
    arguments = parser.parse_args()
    if arguments.tuning_scale <= 0:
        parser.error(f"--tuning-scale is a positive multiple, not {arguments.tuning_scale}")
    print(
        threshold_bootstrap(
            arguments.bundle,
            arguments.resamples,
            arguments.seed,
            [TRAINING_SET, ADULT_SET],
            arguments.tuning_scale,
            arguments.quantile_estimator,
        )
    )


if __name__ == "__main__":
    main()
