"""Cohort shares are printed from their counts (``training.report.count_of``), not rounded twice: the
tables of the model card and the experiment log (``bench.model_report``), ``evaluate --cohorts`` and
``bench.release_rule`` must name the same figure for one count."""

from __future__ import annotations

import numpy as np

from bench.model_report import to_markdown
from function.bundle_format import LABELS
from training.cohorts import Cohort
from training.evaluate import format_report
from training.metrics import classification_report
from training.report import cohort_report

NORMAL, COVID = LABELS.index("Normal"), LABELS.index("COVID-19")


def _report(truth: np.ndarray, predicted: np.ndarray, cohorts: list[Cohort]) -> dict:
    """The fields of ``bench.model_report.report_bundle`` that ``to_markdown`` reads, argmax = served."""
    probabilities = np.eye(len(LABELS))[predicted]
    figures = cohort_report(truth, probabilities, cohorts)
    return {
        "bundle": "b",
        "recipe": "screening",
        "split": "grouped",
        "size": 128,
        "epochs_run": "40",
        "validation": classification_report(truth, probabilities),
        "cohorts": figures,
        "first_folder": classification_report(truth, probabilities),
        "ece_raw": 0.0,
        "ece_served": 0.0,
        "flag_thresholds": {},
        "served": classification_report(truth, probabilities),
        "served_cohorts": figures,
        "probes": {"lungs-blacked-out": 0.5, "border-cropped": 0.5},
        "gate": {"rejection_rate": {"photo": 1.0}, "false_rejection_rate": {"validation": 0.006}},
    }


def _misprinted_if_rounded_twice() -> dict:
    """946 of 987 adult normals (95.846%, stored as 0.9585), 1037 of 1158 COVID-19 films (89.551%, stored
    as 0.8955) and 1983 of 2145 films (92.448%, stored as 0.9245)."""
    truth = np.array([NORMAL] * 987 + [COVID] * 1158)
    predicted = truth.copy()
    predicted[:41] = COVID  # 946 of 987 normals read Normal
    predicted[987 : 987 + 121] = NORMAL  # 1037 of 1158 COVID-19 films caught
    cohorts = [Cohort(group=f"p{i}", source="s", age="adult") for i in range(len(truth))]
    return _report(truth, predicted, cohorts)


def test_evaluate_prints_the_counts_of_each_group() -> None:
    report = _misprinted_if_rounded_twice()
    printed = format_report({**report["validation"], "cohorts": report["cohorts"]})
    line = next(line for line in printed.splitlines() if line.startswith("adult "))
    assert "(1983 of 2145)" in line and "Normal 946 of 987" in line and "COVID-19 1037 of 1158" in line


def test_a_cohort_share_is_printed_from_its_count_not_from_its_rounded_value() -> None:
    """They print as 95.8%, 89.6% and 92.4%, the percentages of their counts; one more rounding of the
    stored values would print 95.9%, 89.5% and 92.5%."""
    report = _misprinted_if_rounded_twice()
    assert report["served_cohorts"]["by_age"]["adult"]["recall"]["Normal"]["recall"] == 0.9585
    served_row = next(line for line in to_markdown([report]).splitlines() if line.startswith("| b | none"))
    cells = [cell.strip() for cell in served_row.split("|")]
    assert cells[4].startswith("89.6% [") and cells[5].startswith("95.8% [")
    by_age = next(line for line in to_markdown([report]).splitlines() if line.startswith("| adult |"))
    assert "Normal 95.8% [" in by_age and "COVID-19 89.6% [" in by_age
    assert "| 2145 | 92.4% [" in by_age  # the accuracy, too
