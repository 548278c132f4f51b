"""How far a whole ensemble of one recipe moves when only its members' weights seeds change.

    .venv/bin/python -m bench.ensemble_spread models/release models/candidates/seed-spread/seed3 \\
        models/candidates/seed-spread/seed4 models/candidates/seed-spread/seed5 [--size 3]

Every argument is a bundle trained on one split by one recipe: a member (its ``model.keras``) or an
ensemble (``training ensemble``), which counts as its members, taken out of its ``model.keras``. Every
``--size``-member combination of them is averaged as ``training.ensemble`` averages, its temperature and
screening threshold fitted on the tuning split by ``training.calibration.fit_screening_calibration`` (the
function a bundle's are fitted by), and scored on the grouped validation split as served (the threshold
first, then the most probable class: ``function.calibration.decide``, the consistency check aside, as in
``bench.release_rule``): the rule's three counts; adult normals read Normal when the film arrives
letterboxed to 4:3 or cropped 8% a side (``bench.upload_robustness``'s framings), and children's normals
read Normal with the chest narrowed as in ``bench.aspect_probe`` (how much the film's shape decides), each
through the bundle's ``InputSpec``. Float32 weights throughout: a served bundle's int8 weights move a few
films (the experiment log, "int8 weights"). The spread of these counts is what a candidate recipe has to
beat to be told from a luckier draw of the release's (docs/model-experiments.md, "Seed-to-seed spread of the
release's recipe").
"""

from __future__ import annotations

import argparse
import itertools
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bench.aspect_probe import NARROWER, group_films
from bench.operating_point import covid_caught_keeping_adult_normals
from bench.served_counts import served_counts
from bench.upload_robustness import cropped, letterboxed, png_bytes
from function.bundle import FolderSource, load_bundle
from function.bundle_format import LABELS, MODEL_KERAS, VALIDATION_FILES
from function.calibration import decide
from function.imaging import InputSpec, decode_grayscale
from infra.locations import ADULT_SET, TRAINING_SET
from training.augment import reshaped
from training.bundle_split import prepare_as_trained
from training.calibration import fit_screening_calibration
from training.cohorts import Cohort, adult_normals
from training.recipes import RECIPES
from training.train import weights_seed


@dataclass(frozen=True)
class Framing:
    """Another framing of the validation films, and the films counted on it: those of one age and class,
    counted when read as their class."""

    frame: Callable[[np.ndarray], np.ndarray]
    age: str
    label: str


SHAPE_PROBE = f"chest narrowed x{NARROWER:g}"
FRAMINGS = {
    "letterboxed": Framing(letterboxed, "adult", "Normal"),
    "cropped 8%": Framing(cropped, "adult", "Normal"),
    SHAPE_PROBE: Framing(lambda gray: reshaped(gray, NARROWER), "pediatric", "Normal"),
}
"""Uploads as people make them (the two framings the release reads worst), and the shape probe."""


@dataclass(frozen=True)
class MemberOutputs:
    """One member's raw probabilities on the tuning split, the validation split and each framing's films."""

    name: str
    tune: np.ndarray
    validation: np.ndarray
    framed: dict[str, np.ndarray]


@dataclass(frozen=True)
class Truth:
    """What the counts are taken against: labels and the adult-normal mask of both splits."""

    tune: np.ndarray
    tune_adult_normal: np.ndarray
    validation: np.ndarray
    validation_adult_normal: np.ndarray


@dataclass(frozen=True)
class EnsembleFigures:
    members: tuple[str, ...]
    threshold: float | None
    correct: int
    adult_normals_normal: int
    covid_caught: int
    framed_read_as_labelled: dict[str, int]
    covid_caught_keeping: int | None = None  # with --keep-adult-normals (bench.operating_point)


def member_networks(bundle: Path) -> list[tuple[str, Any]]:
    """(name, Keras model) of each member a bundle holds: itself, or an ensemble's ``member_N`` layers in
    the order of its manifest's members, named by their weights seed."""
    import keras

    manifest = load_bundle(FolderSource(bundle)).manifest
    model = keras.models.load_model(bundle / MODEL_KERAS, compile=False)
    training = manifest["training"]
    if "members" not in training:
        return [(f"seed {weights_seed(training['seed'], training.get('init_seed'))}", model)]
    return [
        (f"seed {member['weights_seed']}", model.get_layer(f"member_{index}"))
        for index, member in enumerate(training["members"], start=1)
    ]


def framing_films(framing: Framing, labels: np.ndarray, cohorts: Sequence[Cohort]) -> np.ndarray:
    """Which of these films a framing counts."""
    return group_films(framing.age, framing.label, labels, cohorts)


def _framed_inputs(
    spec: InputSpec, examples: Sequence[Any], chosen: np.ndarray, framing: Framing
) -> np.ndarray:
    """The chosen films re-encoded in one framing and read through the bundle's InputSpec."""
    grays = [
        cv2.imread(str(e.path), cv2.IMREAD_GRAYSCALE)
        for e, keep in zip(examples, chosen, strict=True)
        if keep
    ]
    return np.stack([spec.read(decode_grayscale(png_bytes(framing.frame(gray))))[0] for gray in grays])


def score(
    outputs: Sequence[MemberOutputs],
    truth: Truth,
    flag_sensitivity: Sequence[tuple[str, float]],
    min_confidence: float,
    adult_normal_floor: float | None,
    keep_adult_normals: int | None = None,
) -> EnsembleFigures:
    """The mean of the members' probabilities, calibrated on the tuning split and read as served; with
    ``keep_adult_normals``, also the COVID-19 films caught at that many adult normals kept Normal."""
    calibration, _ = fit_screening_calibration(
        np.mean([member.tune for member in outputs], axis=0),
        truth.tune,
        truth.tune_adult_normal,
        flag_sensitivity,
        min_confidence,
        adult_normal_floor,
    )

    def served(probabilities: list[np.ndarray]) -> np.ndarray:
        return decide(LABELS, calibration.calibrate(np.mean(probabilities, axis=0)), calibration)[0]

    validation = calibration.calibrate(np.mean([member.validation for member in outputs], axis=0))
    counts = served_counts(calibration, validation, truth.validation, truth.validation_adult_normal)
    keeping = None
    if keep_adult_normals is not None:
        keeping = covid_caught_keeping_adult_normals(
            validation, truth.validation, truth.validation_adult_normal, calibration, keep_adult_normals
        )
    framed = {name: served([member.framed[name] for member in outputs]) for name in outputs[0].framed}
    framed_labels = {name: LABELS.index(FRAMINGS[name].label) for name in framed}
    return EnsembleFigures(
        members=tuple(member.name for member in outputs),
        threshold=counts.threshold,
        correct=counts.correct,
        adult_normals_normal=counts.adult_normals_normal,
        covid_caught=counts.covid_caught,
        framed_read_as_labelled={
            name: int((answers == framed_labels[name]).sum()) for name, answers in framed.items()
        },
        covid_caught_keeping=keeping,
    )


def spread_table(
    figures: Sequence[EnsembleFigures], truth: Truth, framed_films: dict[str, int], keep: int | None = None
) -> str:
    """One row per ensemble, then each count's minimum, median, maximum and standard deviation."""
    n = len(truth.validation)
    adults = int(truth.validation_adult_normal.sum())
    covid = int((truth.validation == LABELS.index("COVID-19")).sum())
    columns: dict[str, Callable[[EnsembleFigures], int]] = {
        f"read correctly (of {n})": lambda f: f.correct,
        f"adult normals Normal (of {adults})": lambda f: f.adult_normals_normal,
        f"COVID-19 caught (of {covid})": lambda f: f.covid_caught,
    }
    if figures and figures[0].covid_caught_keeping is not None:
        heading = f"COVID-19 caught, threshold set to keep {keep} adult normals Normal"
        columns[heading] = lambda f: f.covid_caught_keeping
    for name, films in framed_films.items():
        framing = FRAMINGS[name]
        heading = f"{framing.age} {framing.label} read {framing.label}, {name} (of {films})"
        columns[heading] = lambda f, name=name: f.framed_read_as_labelled[name]
    lines = [
        "| members | COVID-19 threshold | " + " | ".join(columns) + " |",
        "|---|---|" + "---|" * len(columns),
    ]
    for figure in figures:
        threshold = "argmax" if figure.threshold is None else f"{figure.threshold:.4f}"
        cells = [str(column(figure)) for column in columns.values()]
        lines.append(f"| {', '.join(figure.members)} | {threshold} | " + " | ".join(cells) + " |")
    summaries = (
        ("minimum", min),
        ("median", statistics.median),
        ("maximum", max),
        ("standard deviation", statistics.stdev),
    )
    for summary, function in summaries if len(figures) > 1 else ():
        cells = [f"{function([column(f) for f in figures]):g}" for column in columns.values()]
        lines.append(f"| **{summary}** | | " + " | ".join(cells) + " |")
    return "\n".join(lines)


@dataclass(frozen=True)
class Readings:
    """Every member's outputs on one split, and what and how they are counted: enough to score any
    ensemble of them."""

    outputs: list[MemberOutputs]
    truth: Truth
    framed_films: dict[str, int]
    flag_sensitivity: tuple[tuple[str, float], ...]
    min_confidence: float
    adult_normal_floor: float | None

    def ensembles(self, size: int, keep_adult_normals: int | None = None) -> list[EnsembleFigures]:
        """Every ``size``-member ensemble, scored as served (``score``)."""
        return [
            score(
                combination,
                self.truth,
                self.flag_sensitivity,
                self.min_confidence,
                self.adult_normal_floor,
                keep_adult_normals,
            )
            for combination in itertools.combinations(self.outputs, size)
        ]


def read_members(bundles: Sequence[Path], data: Sequence[Path]) -> Readings:
    """Run every member of ``bundles`` on the first bundle's recomputed (and verified) split."""
    listings = {(bundle / VALIDATION_FILES).read_text() for bundle in bundles}
    if len(listings) != 1:
        raise SystemExit("the bundles hold different validation lists: their members do not combine")
    _, config, prepared = prepare_as_trained(bundles[0], list(data))
    split, labels = prepared.split, prepared.labels
    adult_normal = adult_normals(prepared.cohorts, labels)
    truth = Truth(
        labels[split.tune], adult_normal[split.tune], labels[split.validation], adult_normal[split.validation]
    )
    examples, cohorts = (
        [prepared.examples[i] for i in split.validation],
        [prepared.cohorts[i] for i in split.validation],
    )
    chosen = {name: framing_films(framing, truth.validation, cohorts) for name, framing in FRAMINGS.items()}
    spec = load_bundle(FolderSource(bundles[0])).input_spec
    framed = {name: _framed_inputs(spec, examples, chosen[name], FRAMINGS[name]) for name in FRAMINGS}
    outputs = []
    for bundle in bundles:
        for name, network in member_networks(bundle):
            predict = lambda inputs, network=network: network.predict(inputs, batch_size=256, verbose=0)  # noqa: E731
            outputs.append(
                MemberOutputs(
                    name=name,
                    tune=predict(prepared.inputs[split.tune]),
                    validation=predict(prepared.inputs[split.validation]),
                    framed={framing: predict(inputs) for framing, inputs in framed.items()},
                )
            )
    names = [member.name for member in outputs]
    if len(set(names)) != len(names):
        raise SystemExit(f"members repeat a weights seed ({', '.join(names)})")
    recipe = RECIPES[config.recipe]
    return Readings(
        outputs,
        truth,
        {name: int(films.sum()) for name, films in chosen.items()},
        tuple(recipe.flag_sensitivity),
        recipe.min_confidence,
        config.adult_normal_floor,
    )


def ensemble_spread(
    bundles: Sequence[Path], size: int, data: Sequence[Path], keep_adult_normals: int | None = None
) -> str:
    readings = read_members(bundles, data)
    figures = readings.ensembles(size, keep_adult_normals)
    names = [member.name for member in readings.outputs]
    return (
        f"{len(figures)} ensembles of {size} from {len(names)} members ({', '.join(names)}), float32, "
        f"grouped validation split ({len(readings.truth.validation)} films), as served, consistency check "
        "aside\n\n" + spread_table(figures, readings.truth, readings.framed_films, keep_adult_normals)
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("bundles", type=Path, nargs="+")
    parser.add_argument("--size", type=int, default=3, help="members per ensemble (default 3)")
    parser.add_argument(
        "--keep-adult-normals",
        type=int,
        metavar="N",
        help="also count COVID-19 caught at the threshold keeping N adult normals Normal (the release: 943)",
    )
    arguments = parser.parse_args()
    print(
        ensemble_spread(
            arguments.bundles, arguments.size, [TRAINING_SET, ADULT_SET], arguments.keep_adult_normals
        )
    )


if __name__ == "__main__":
    main()
