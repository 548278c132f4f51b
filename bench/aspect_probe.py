"""Does the model tell children's viral pneumonia from children's normals by the film's shape?

    .venv/bin/python -m bench.aspect_probe models/release

Every training file was resized straight to a square, so a wide original comes out with its chest
squeezed sideways. In the pediatric folder (Kermany) the two classes differ in shape: its MANIFEST.csv
gives the originals' sizes, and the viral pneumonia films are wider than the normals (the experiment log,
"Does the film's shape carry the class?"). If the model learned that, narrowing a normal child's chest
should turn readings towards Viral Pneumonia and widening a viral pneumonia film towards Normal.

Each pediatric Normal and Viral Pneumonia film of the bundle's validation split (its recomputed split,
verified) is re-shaped both ways: the chest narrowed by ``NARROWER`` (stretched in height, the middle
rows kept) and widened by ``WIDER`` (stretched in width, the middle columns kept). Both cut a fifth of
the picture away, so each is the other's control for the crop: only the direction of the change differs.
Readings as served (threshold, then the most probable class; consistency check aside).

Second, without re-shaping anything: the children's validation films whose original size the manifest
gives are read as stored, grouped by whether their original's shape lies on their own class's side of the
manifest's best single cut (a normal as narrow as most normals) or on the other's (a normal as wide as a
viral pneumonia film). A model that reads the class off the shape gets the second group wrong more often.
Reporting only.
"""

from __future__ import annotations

import argparse
import csv
import statistics
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from function.bundle import FolderSource, LoadedBundle, load_bundle
from function.bundle_format import LABELS
from function.calibration import decide
from infra.locations import ADULT_SET, TRAINING_SET
from training.augment import reshaped
from training.bundle_split import prepare_as_trained
from training.cohorts import Cohort
from training.train import Prepared

NARROWER = 0.8  # about Normal's median aspect (1.21) over Viral Pneumonia's (1.51), from MANIFEST.csv
WIDER = 1 / NARROWER


SHAPES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "as stored": lambda gray: gray,
    f"chest narrowed x{NARROWER:g}": lambda gray: reshaped(gray, NARROWER),
    f"chest widened x{WIDER:g}": lambda gray: reshaped(gray, WIDER),
}


def _non_square_originals(folder: Path) -> Iterator[tuple[str, str, float]]:
    """(path in ``folder``, class, width over height) of each original film of ``folder``'s MANIFEST.csv
    that was not square: the copies a source had already resized to a square (224x224) do not say what
    their original was."""
    with (folder / "MANIFEST.csv").open(newline="") as manifest:
        for row in csv.DictReader(manifest):
            width, height = int(row["orig_width"]), int(row["orig_height"])
            if width != height:
                yield row["path"], row["class"], width / height


def original_aspects(folder: Path) -> dict[str, list[float]]:
    """Width over height of the non-square originals of ``folder``, by class."""
    aspects: dict[str, list[float]] = {}
    for _, name, aspect in _non_square_originals(folder):
        aspects.setdefault(name, []).append(aspect)
    return aspects


@dataclass(frozen=True)
class ShapeCut:
    """The best rule "wider than ``cut``: one class, otherwise the other" on two lists of shapes."""

    accuracy: float
    cut: float
    second_is_wider: bool  # the second list's class lies above the cut


def best_single_cut(first: list[float], second: list[float]) -> ShapeCut:
    values = sorted(set(first) | set(second))
    best = ShapeCut(0.0, values[0], True)
    for cut in values:
        second_above = (sum(v <= cut for v in first) + sum(v > cut for v in second)) / (
            len(first) + len(second)
        )
        for accuracy, second_is_wider in ((second_above, True), (1 - second_above, False)):
            if accuracy > best.accuracy:
                best = ShapeCut(accuracy, cut, second_is_wider)
    return best


def shape_agrees_with_class(aspect: float, is_second: bool, cut: ShapeCut) -> bool:
    """Whether a film's original shape lies on its own class's side of ``cut`` (``is_second``: the film is
    of the cut's second class), so that a model reading the shape would read it right."""
    return (aspect > cut.cut) == (is_second == cut.second_is_wider)


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
            f"{best_single_cut(normal, viral).accuracy:.1%} (the larger class: {majority:.1%})",
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


def served_readings(loaded: LoadedBundle, inputs: np.ndarray) -> np.ndarray:
    """Each input's reading as served: calibrated, the screening threshold, then the most probable class."""
    read, _ = decide(
        loaded.labels, loaded.calibration.calibrate(loaded.classifier.predict(inputs)), loaded.calibration
    )
    return read


def aspect_probe(loaded: LoadedBundle, prepared: Prepared) -> str:
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
        grays = [_stored(prepared, i) for i in films]
        for name, shape in SHAPES.items():
            inputs = np.stack([loaded.input_spec.model_input(shape(gray)) for gray in grays])
            read = served_readings(loaded, inputs)
            cells = [
                _share(read == labels.index(reading)) for reading in ("Normal", "COVID-19", "Viral Pneumonia")
            ]
            lines.append(f"| {age} {label} ({len(films)}) | {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def by_original_shape(loaded: LoadedBundle, prepared: Prepared, folder: Path = TRAINING_SET) -> str:
    """The children's validation films of known original shape, read as stored, by whether that shape
    agrees with their class (``shape_agrees_with_class``) under the manifest's best single cut."""
    aspects = original_aspects(folder)
    cut = best_single_cut(aspects["Normal"], aspects["Viral Pneumonia"])
    aspect_of = {path: aspect for path, _, aspect in _non_square_originals(folder)}
    validation = prepared.split.validation
    cohorts = [prepared.cohorts[i] for i in validation]
    lines = [
        f"bundle {loaded.version}: children's validation films whose original size MANIFEST.csv gives, "
        f"read as stored, as served; the shape agrees with the class when it lies on the class's side of "
        f"the manifest's best single cut (width / height {cut.cut:.3f}: "
        f"{'Viral Pneumonia' if cut.second_is_wider else 'Normal'} wider)",
        "",
        "| films | shape agrees with the class: read correctly "
        "| shape points to the other class: read correctly |",
        "|---|---|---|",
    ]
    totals: dict[bool, list[np.ndarray]] = {True: [], False: []}
    for label in ("Normal", "Viral Pneumonia"):
        films = validation[group_films("pediatric", label, prepared.labels[validation], cohorts)]
        known = [
            (index, aspect_of[key])
            for index in films
            if (key := prepared.examples[index].path.relative_to(folder).as_posix()) in aspect_of
        ]
        inputs = np.stack([loaded.input_spec.model_input(_stored(prepared, i)) for i, _ in known])
        correct = served_readings(loaded, inputs) == LABELS.index(label)
        agrees = np.array([shape_agrees_with_class(a, label == "Viral Pneumonia", cut) for _, a in known])
        for side in (True, False):
            totals[side].append(correct[agrees == side])
        lines.append(
            f"| children's {label} ({len(known)}) | {_share(correct[agrees])} | {_share(correct[~agrees])} |"
        )
    both = {side: np.concatenate(parts) for side, parts in totals.items()}
    lines.append(f"| both | {_share(both[True])} | {_share(both[False])} |")
    return "\n".join(lines)


def _stored(prepared: Prepared, index: int) -> np.ndarray:
    return cv2.imread(str(prepared.examples[index].path), cv2.IMREAD_GRAYSCALE)


def _share(hits: np.ndarray) -> str:
    return f"{int(hits.sum())} of {len(hits)} ({hits.mean():.1%})" if len(hits) else "none"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("bundle", type=Path)
    bundle = parser.parse_args().bundle
    loaded = load_bundle(FolderSource(bundle))
    _, _, prepared = prepare_as_trained(bundle, [TRAINING_SET, ADULT_SET])
    print(
        shape_in_manifest(TRAINING_SET),
        aspect_probe(loaded, prepared),
        by_original_shape(loaded, prepared),
        sep="\n\n",
    )


if __name__ == "__main__":
    main()
