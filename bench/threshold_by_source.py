"""Why the served COVID-19 sensitivity misses the tuning split's target: the COVID-19 films of the tuning
and validation splits, by source, and the share of each caught at the bundle's screening threshold.

    .venv/bin/python -m bench.threshold_by_source models/release

The threshold is the largest that keeps 98% recall on the tuning split (training.calibration.flag_threshold).
This table shows whether the tuning split's COVID-19 films look like the validation split's (same sources,
same shares) and how many validation films score under the lowest threshold the rule may ever choose
(``MIN_FLAG_THRESHOLD``): those no threshold can catch. Reporting only; the split is recomputed from the
bundle's manifest and must reproduce its validation list.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.report_cli import print_bundle_report
from function.bundle import FolderSource, LoadedBundle, load_bundle
from infra.locations import ADULT_SET, TRAINING_SET
from training.bundle_split import prepare_as_trained
from training.calibration import MIN_FLAG_THRESHOLD
from training.train import Prepared


@dataclass
class CovidFilms:
    """A bundle's COVID-19 films in one part of its split, with the served (calibrated) probabilities."""

    indices: np.ndarray  # into ``prepared``'s examples
    probabilities: np.ndarray  # calibrated, one row per film


def covid_films(bundle: Path) -> tuple[LoadedBundle, Prepared, dict[str, CovidFilms]]:
    """The bundle, its recomputed split (verified against validation_files.txt) and its COVID-19 films
    of the tuning and validation splits, as the API would score them."""
    loaded = load_bundle(FolderSource(bundle))
    _, _, prepared = prepare_as_trained(bundle, [TRAINING_SET, ADULT_SET])
    covid = loaded.labels.index("COVID-19")
    parts = {}
    for name, indices in {"tuning": prepared.split.tune, "validation": prepared.split.validation}.items():
        films = indices[prepared.labels[indices] == covid]
        probabilities = loaded.calibration.calibrate(loaded.classifier.predict(prepared.inputs[films]))
        parts[name] = CovidFilms(films, probabilities)
    return loaded, prepared, parts


def threshold_by_source(bundle: Path) -> str:
    loaded, prepared, parts = covid_films(bundle)
    covid = loaded.labels.index("COVID-19")
    threshold = loaded.calibration.flag_thresholds.get("COVID-19", 0.5)
    scores = {name: part.probabilities[:, covid] for name, part in parts.items()}
    sources = {
        name: np.array([prepared.cohorts[i].source for i in part.indices]) for name, part in parts.items()
    }
    lines = [
        f"bundle {loaded.version}: COVID-19 threshold {threshold:g} (tuning-split rule), floor "
        f"{MIN_FLAG_THRESHOLD:g}",
        "",
        "| source | tuning films (share) | caught at threshold | validation films (share) | caught at "
        f"threshold | validation films under {MIN_FLAG_THRESHOLD:g} |",
        "|---|---|---|---|---|---|",
    ]
    for source in [*sorted(set(sources["tuning"]) | set(sources["validation"])), "all"]:
        cells = []
        for name in parts:
            mine = (sources[name] == source) | (source == "all")
            caught = scores[name][mine] >= threshold
            cells += [f"{mine.sum()} ({mine.mean():.0%})", f"{caught.mean():.1%}" if mine.any() else "-"]
        unreachable = scores["validation"][(sources["validation"] == source) | (source == "all")]
        lines.append(
            f"| {source} | " + " | ".join(cells) + f" | {(unreachable < MIN_FLAG_THRESHOLD).sum()} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    print_bundle_report(__doc__, threshold_by_source)


if __name__ == "__main__":
    main()
