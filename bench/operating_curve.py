"""The COVID-19 screening trade-off of a bundle on its own validation split, as a markdown table.

    .venv/bin/python -m bench.operating_curve models/release

For a range of COVID-19 flag thresholds (and the bundle's own), the served rule's COVID-19 sensitivity,
the share of adult and of all Normal films read as Normal, and overall accuracy. Reporting only: the
released threshold is chosen on the tuning split by training, never from this table.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from bench.report_cli import print_bundle_report
from function.bundle import FolderSource, load_bundle
from function.calibration import decide
from infra.locations import ADULT_SET, TRAINING_SET
from training.cohorts import cohorts_for
from training.data import load_images
from training.evaluate import bundle_validation_set

THRESHOLDS = (0.5, 0.3, 0.2, 0.15, 0.1, 0.07, 0.05, 0.03)


def operating_curve(bundle: Path) -> str:
    loaded = load_bundle(FolderSource(bundle))
    examples, roots = bundle_validation_set(bundle, (TRAINING_SET, ADULT_SET))
    truth = np.array([e.label for e in examples])
    adult = np.array([c.age == "adult" for c in cohorts_for(examples, roots)])
    calibrated = loaded.calibration.calibrate(
        loaded.classifier.predict(load_images(examples, loaded.input_spec, progress=False))
    )
    covid, normal = loaded.labels.index("COVID-19"), loaded.labels.index("Normal")
    own = loaded.calibration.flag_thresholds.get("COVID-19")
    lines = [
        f"| COVID-19 threshold | COVID-19 sensitivity (n={int((truth == covid).sum())}) | adult Normal read "
        f"Normal (n={int(((truth == normal) & adult).sum())}) | all Normal read Normal | accuracy |",
        "|---|---|---|---|---|",
    ]
    for threshold in sorted({*THRESHOLDS, *([own] if own else [])}, reverse=True):
        rule = dataclasses.replace(loaded.calibration, flag_thresholds={"COVID-19": threshold})
        chosen, _ = decide(loaded.labels, calibrated, rule)
        marker = " (released)" if threshold == own else " (argmax)" if threshold == 0.5 else ""
        lines.append(
            f"| {threshold:g}{marker} | {(chosen[truth == covid] == covid).mean():.1%} | "
            f"{(chosen[(truth == normal) & adult] == normal).mean():.1%} | "
            f"{(chosen[truth == normal] == normal).mean():.1%} | {(chosen == truth).mean():.1%} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    print_bundle_report(__doc__, operating_curve)


if __name__ == "__main__":
    main()
