"""Every candidate model under every protocol, as markdown tables.

    .venv/bin/python -m bench.model_report BUNDLE [BUNDLE ...] > /tmp/report.md

For each bundle: its own validation split (the protocol its manifest names: image-level or grouped by
patient), with 95% intervals from a patient-grouped bootstrap; the same split restricted to each source
and age group; the first folder's share of it (the paper's data); calibration (ECE); the shortcut probes
(lung fields blacked out, border cropped); the readings the API gives under the bundle's served rule
(calibration and screening flag thresholds); and the consistency check's measured rates from gate.json.
All figures come from the bundle's served model.tflite through the served preprocessing.

Where the tables are: the first two (every protocol; as served) are the tables of
docs/model-experiments.md, "Candidates (every candidate, every protocol)"; docs/model-card.md, "The two
committed models" gives the release's and the paper's figures from this same command (the paper model's
last two rows from ``training evaluate``, with the commands there). The per-bundle tables by source and
age and the consistency-check line cover what docs/model-card.md gives in "The released model by source
and age" (printed there by ``make evaluate``) and "Consistency check".
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from function.bundle import FolderSource, load_bundle
from function.calibration import decide
from infra.locations import ADULT_SET, TRAINING_SET
from training.calibration import expected_calibration_error
from training.cohorts import cohorts_for
from training.data import load_images
from training.evaluate import bundle_validation_set
from training.metrics import classification_report
from training.report import PERTURBATIONS, cohort_report, count_of


def _epochs_run(record: dict[str, Any]) -> str:
    """Epochs run as a label: one number, or an ensemble's members' joined by "+"."""
    if "members" in record:
        return "+".join(str(member["epochs_run"]) for member in record["members"])
    return str(record.get("epochs_run", record["epochs"]))


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _counted_pct(figures: dict[str, Any], key: str) -> str:
    """A cohort share as the percentage of its count (``training.report.count_of``), not of its rounded
    value."""
    return _pct(count_of(figures, key) / figures["n"] if figures["n"] else figures[key])


def _interval(ci: list[float] | tuple[float, float]) -> str:
    return f"[{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]"


def report_bundle(bundle: Path) -> dict[str, Any]:
    manifest = json.loads((bundle / "manifest.json").read_text())
    loaded = load_bundle(FolderSource(bundle))
    examples, roots = bundle_validation_set(bundle, (TRAINING_SET, ADULT_SET))
    inputs = load_images(examples, loaded.input_spec, progress=False)
    truth = np.array([e.label for e in examples])
    probabilities = loaded.classifier.predict(inputs)
    cohorts = cohorts_for(examples, roots)
    first_folder = np.array([e.source == TRAINING_SET.name for e in examples])
    calibration = loaded.calibration
    calibrated = calibration.calibrate(probabilities)
    served = np.eye(len(loaded.labels))[decide(loaded.labels, calibrated, calibration)[0]]
    result: dict[str, Any] = {
        "bundle": bundle.name,
        "version": manifest["bundle_version"],
        "recipe": manifest["training"].get("recipe", "paper"),
        "split": manifest["training"].get("split", "image"),
        "size": loaded.input_size,
        "data": manifest["training"]["data"],
        "epochs_run": _epochs_run(manifest["training"]),
        "validation": classification_report(truth, probabilities),
        "cohorts": cohort_report(truth, probabilities, cohorts),
        "first_folder": classification_report(truth[first_folder], probabilities[first_folder]),
        "ece_raw": expected_calibration_error(probabilities, truth),
        "ece_served": expected_calibration_error(calibrated, truth),
        "temperature": calibration.temperature,
        "flag_thresholds": calibration.flag_thresholds,
        "served": classification_report(truth, served),
        "served_cohorts": cohort_report(truth, served, cohorts),
        "indeterminate_share": float((calibrated.max(axis=1) < calibration.min_confidence).mean()),
        "probes": {
            name: classification_report(truth, loaded.classifier.predict(perturb(inputs)))["accuracy"]
            for name, perturb in PERTURBATIONS.items()
        },
        "gate": json.loads((bundle / "gate.json").read_text()),
    }
    return result


def to_markdown(reports: list[dict[str, Any]]) -> str:
    lines = [
        "| bundle | recipe | split | size | epochs | validation accuracy [95% CI] | COVID-19 recall | "
        "Normal recall | VP recall | first folder only | ECE raw / served | lungs blacked out "
        "| border cropped |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in reports:
        overall = r["cohorts"]["overall"]
        recall = {k: v["recall"] for k, v in r["validation"]["per_class"].items()}
        lines.append(
            f"| {r['bundle']} | {r['recipe']} | {r['split']} | {r['size']} | {r['epochs_run']} | "
            f"{_pct(r['validation']['accuracy'])} {_interval(overall['ci95'])} | "
            f"{_pct(recall['COVID-19'])} | {_pct(recall['Normal'])} | {_pct(recall['Viral Pneumonia'])} | "
            f"{_pct(r['first_folder']['accuracy'])} | "
            f"{r['ece_raw']:.3f} / {r['ece_served']:.3f} | {_pct(r['probes']['lungs-blacked-out'])} | "
            f"{_pct(r['probes']['border-cropped'])} |"
        )
    lines += [
        "",
        "Served readings (what the API answers: calibration, screening flag thresholds, argmax otherwise):",
        "",
        "| bundle | flag thresholds | accuracy | COVID-19 recall [95% CI] | adult Normal recall [95% CI] |",
        "|---|---|---|---|---|",
    ]
    for r in reports:
        covid = r["served_cohorts"]["overall"]["recall"]["COVID-19"]
        adult_normal = r["served_cohorts"]["by_age"].get("adult", {}).get("recall", {}).get("Normal")
        adult = (
            f"{_counted_pct(adult_normal, 'recall')} {_interval(adult_normal['ci95'])}"
            if adult_normal
            else "-"
        )
        flags = ", ".join(f"{k} {v}" for k, v in r["flag_thresholds"].items()) or "none"
        lines.append(
            f"| {r['bundle']} | {flags} | {_pct(r['served']['accuracy'])} | "
            f"{_counted_pct(covid, 'recall')} {_interval(covid['ci95'])} | {adult} |"
        )
    for r in reports:
        lines += [
            "",
            f"**{r['bundle']}** by source and age (validation split, recall per class, 95% CI):",
            "",
        ]
        lines += ["| group | n | accuracy [95% CI] | recall |", "|---|---|---|---|"]
        for key in ("by_source", "by_age"):
            for name, figures in r["cohorts"][key].items():
                recalls = ", ".join(
                    f"{label} {_counted_pct(v, 'recall')} {_interval(v['ci95'])} (n={v['n']})"
                    for label, v in figures["recall"].items()
                )
                accuracy = f"{_counted_pct(figures, 'accuracy')} {_interval(figures['ci95'])}"
                lines.append(f"| {name} | {figures['n']} | {accuracy} | {recalls} |")
        gate = r["gate"]
        rates = ", ".join(f"{kind} {_pct(rate)}" for kind, rate in gate["rejection_rate"].items())
        frr = ", ".join(f"{split} {_pct(rate)}" for split, rate in gate["false_rejection_rate"].items())
        stages = "SSIM + learned stage" if gate.get("model") else "SSIM only"
        lines += ["", f"Consistency check ({stages}): rejected {rates}; radiographs falsely rejected: {frr}."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("bundles", type=Path, nargs="+")
    parser.add_argument("--json", type=Path, default=None, help="also write the raw figures here")
    args = parser.parse_args()
    reports = [report_bundle(bundle) for bundle in args.bundles]
    if args.json:
        args.json.write_text(json.dumps(reports, indent=2))
    print(to_markdown(reports))


if __name__ == "__main__":
    main()
