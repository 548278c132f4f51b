"""Does the model tell children's viral pneumonia from children's normals by the film's shape?

    .venv/bin/python -m bench.aspect_probe models/release

Every training file was resized straight to a square, so a wide original comes out with its chest
squeezed sideways. In the pediatric folder (Kermany) the two classes differ in shape: its MANIFEST.csv
gives the originals' sizes, and the viral pneumonia films are wider than the normals (the model card,
"Does the film's shape carry the class?"). If the model learned that, narrowing a normal child's chest
should turn readings towards Viral Pneumonia and widening a viral pneumonia film towards Normal.

Each pediatric Normal and Viral Pneumonia film of the bundle's validation split (its recomputed split,
verified) is re-shaped both ways: the chest narrowed by ``NARROWER`` (stretched in height, the middle
rows kept) and widened by ``WIDER`` (stretched in width, the middle columns kept). Both cut a fifth of
the picture away, so each is the other's control for the crop: only the direction of the change differs.
Readings as served (threshold, then the most probable class; consistency check aside). Reporting only.
"""

from __future__ import annotations

import argparse
import csv
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from function.bundle import FolderSource, load_bundle
from function.bundle_format import LABELS
from function.calibration import decide
from tests.conftest import ADULT_SET, TRAINING_SET
from training.augment import reshaped
from training.bundle_split import prepare_as_trained
from training.cohorts import Cohort

NARROWER = 0.8  # about Normal's median aspect (1.21) over Viral Pneumonia's (1.51), from MANIFEST.csv
WIDER = 1 / NARROWER


SHAPES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "as stored": lambda gray: gray,
    f"chest narrowed x{NARROWER:g}": lambda gray: reshaped(gray, NARROWER),
    f"chest widened x{WIDER:g}": lambda gray: reshaped(gray, WIDER),
}


def original_aspects(folder: Path) -> dict[str, list[float]]:
    """Width over height of each original film of ``folder`` (its MANIFEST.csv), by class: the copies
    a source had already resized to a square (224x224) do not say what their original was."""
    aspects: dict[str, list[float]] = {}
    with (folder / "MANIFEST.csv").open(newline="") as manifest:
        for row in csv.DictReader(manifest):
            width, height = int(row["orig_width"]), int(row["orig_height"])
            if width != height:
                aspects.setdefault(row["class"], []).append(width / height)
    return aspects


def best_single_cut(first: list[float], second: list[float]) -> float:
    """The accuracy of the best rule "above this value: one class, below: the other" on the two lists."""
    values = sorted(set(first) | set(second))
    best = 0.0
    for cut in values:
        above = sum(v > cut for v in first) + sum(v <= cut for v in second)
        best = max(best, above, len(first) + len(second) - above)
    return best / (len(first) + len(second))


def shape_in_manifest(folder: Path) -> str:
    aspects = original_aspects(folder)
    normal, viral = aspects.get("Normal", []), aspects.get("Viral Pneumonia", [])
    lines = [
        f"{folder.name}, originals that were not square (MANIFEST.csv): width / height",
        "",
        "| class | films | median | quartiles |",
        "|---|---|---|---|",
    ]
    for name, values in sorted(aspects.items()):
        quartiles = statistics.quantiles(values, n=4)
        lines.append(
            f"| {name} | {len(values)} | {statistics.median(values):.2f} "
            f"| {quartiles[0]:.2f}-{quartiles[2]:.2f} |"
        )
    if normal and viral:
        majority = max(len(normal), len(viral)) / (len(normal) + len(viral))
        lines += [
            "",
            f"Normal against Viral Pneumonia by the shape alone (best single cut): "
            f"{best_single_cut(normal, viral):.1%} (the larger class: {majority:.1%})",
        ]
    return "\n".join(lines)


def group_films(age: str, label: str, labels: np.ndarray, cohorts: Sequence[Cohort]) -> np.ndarray:
    """Which films are of one age group and class (a boolean mask over ``labels``)."""
    ages = np.array([cohort.age for cohort in cohorts])
    return (ages == age) & (labels == LABELS.index(label))


GROUPS = (
    ("pediatric", "Normal"),
    ("pediatric", "Viral Pneumonia"),
    ("adult", "Normal"),
    ("adult", "COVID-19"),
)
"""(age, class) of the validation films probed: the children's classes the shape separates, and the adult
films a user uploads most, whose originals the manifests do not give."""


def aspect_probe(bundle_path: Path) -> str:
    loaded = load_bundle(FolderSource(bundle_path))
    _, _, prepared = prepare_as_trained(bundle_path, [TRAINING_SET, ADULT_SET])
    lines = [
        f"bundle {loaded.version}: validation films by age and class, each read as stored and re-shaped, "
        "as served (consistency check aside)",
        "",
        "| films | shape | read Normal | read COVID-19 | read Viral Pneumonia |",
        "|---|---|---|---|---|",
    ]
    labels = list(loaded.labels)
    validation = prepared.split.validation
    cohorts = [prepared.cohorts[i] for i in validation]
    for age, label in GROUPS:
        films = validation[group_films(age, label, prepared.labels[validation], cohorts)]
        grays = [cv2.imread(str(prepared.examples[i].path), cv2.IMREAD_GRAYSCALE) for i in films]
        for name, shape in SHAPES.items():
            inputs = np.stack([loaded.input_spec.model_input(shape(gray)) for gray in grays])
            calibrated = loaded.calibration.calibrate(loaded.classifier.predict(inputs))
            read, _ = decide(loaded.labels, calibrated, loaded.calibration)
            cells = [
                _share(read == labels.index(reading)) for reading in ("Normal", "COVID-19", "Viral Pneumonia")
            ]
            lines.append(f"| {age} {label} ({len(films)}) | {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _share(hits: np.ndarray) -> str:
    return f"{int(hits.sum())} of {len(hits)} ({hits.mean():.1%})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("bundle", type=Path)
    print(shape_in_manifest(TRAINING_SET), aspect_probe(parser.parse_args().bundle), sep="\n\n")


if __name__ == "__main__":
    main()
