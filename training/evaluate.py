"""``python -m training evaluate``: run a bundle's model.tflite (as served) on a Kaggle-layout folder."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from function.bundle import FolderSource, load_bundle
from function.bundle_format import MANIFEST, VALIDATION_FILES
from function.calibration import decide
from training.cohorts import cohorts_for
from training.data import Example, list_examples, load_images
from training.metrics import classification_report
from training.report import PERTURBATIONS, cohort_report, count_of


def validation_hashes(bundle_or_list: Path) -> set[str]:
    """sha256 of each validation image, from a bundle's validation_files.txt (or that file itself)."""
    listing = bundle_or_list / VALIDATION_FILES if bundle_or_list.is_dir() else bundle_or_list
    lines = listing.read_text().splitlines()
    return {line.split()[0] for line in lines if line.strip()}


def _only(examples: list[Example], hashes: set[str]) -> list[Example]:
    return [e for e in examples if hashlib.sha256(e.path.read_bytes()).hexdigest() in hashes]


def bundle_validation_set(bundle: Path, folders: Sequence[Path]) -> tuple[list[Example], list[Path]]:
    """The bundle's validation images found in ``folders`` (only those it was trained on count), and
    those folders: what the bench reports score."""
    trained_on = json.loads((bundle / MANIFEST).read_text())["training"]["data"]
    roots = [folder for folder in folders if folder.name in trained_on]
    return _only(list_examples(roots, required=()), validation_hashes(bundle)), roots


def evaluate_bundle(
    bundle: Path,
    data: Sequence[Path],
    validation_only: bool = False,
    validation_files: Path | None = None,
    cohorts: bool = False,
    perturbation: str | None = None,
    progress: bool = True,
    served_rule: bool = False,
) -> dict[str, Any]:
    """Accuracy, per-class figures and confusion matrix of the bundle's served model on ``data``;
    with ``cohorts``, figures by source and age group; with ``perturbation``, a shortcut probe; with
    ``served_rule``, the readings the API gives (calibration and screening flag thresholds) rather than
    the model's argmax."""
    loaded = load_bundle(FolderSource(bundle))  # verifies every hash: we evaluate what would be served
    examples = list_examples(data, required=())
    if validation_only or validation_files:
        examples = _only(examples, validation_hashes(validation_files or bundle))
    if not examples:
        raise SystemExit("no images to evaluate")
    inputs = load_images(examples, loaded.input_spec, progress=progress)
    if perturbation:
        inputs = PERTURBATIONS[perturbation](inputs)
    probabilities = loaded.classifier.predict(inputs)
    if served_rule:
        decided, _ = decide(loaded.labels, loaded.calibration.calibrate(probabilities), loaded.calibration)
        probabilities = np.eye(len(loaded.labels))[decided]
    truth = [e.label for e in examples]
    report = classification_report(truth, probabilities, loaded.labels)
    if perturbation:
        report["perturbation"] = perturbation
    if cohorts:
        report["cohorts"] = cohort_report(truth, probabilities, cohorts_for(examples, data))
    return report


def format_report(report: dict[str, Any]) -> str:
    lines = [f"accuracy {report['accuracy']:.4f} on {report['n']} images", ""]
    lines.append(f"{'class':<18}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}")
    for label, row in report["per_class"].items():
        lines.append(
            f"{label:<18}{row['precision']:>10.4f}{row['recall']:>10.4f}{row['f1']:>10.4f}{row['support']:>10}"
        )
    lines += ["", "confusion matrix (rows true, columns predicted):"]
    lines += ["  " + " ".join(f"{v:>6}" for v in row) for row in report["confusion_matrix"]]
    for key in ("by_source", "by_age"):
        for name, figures in report.get("cohorts", {}).get(key, {}).items():
            recalls = ", ".join(  # counts, not shares printed twice rounded (training.report.count_of)
                f"{label} {count_of(r, 'recall')} of {r['n']}" for label, r in figures["recall"].items()
            )
            low, high = figures["ci95"]
            lines.append(
                f"{name:<36} accuracy {figures['accuracy']:.4f} ({count_of(figures, 'accuracy')} of "
                f"{figures['n']}) [{low:.3f}, {high:.3f}]  recall: {recalls}"
            )
    return "\n".join(lines)
