"""The COVID-19 films no allowed screening threshold can catch: which they are, and what they look like.

    .venv/bin/python -m bench.missed_films models/release --sheet build/missed_films.png

Lists the validation split's COVID-19 films whose served (calibrated) COVID-19 probability is under
``MIN_FLAG_THRESHOLD``, the lowest threshold the tuning-split rule may choose, with their source, age
group and the reading the API gives them, and writes them side by side to one PNG (numbered as in the
table) for a person to look at. Whether a missed film shows disease at all is a radiologist's call, not
this script's: it only gathers the films. It also counts the validation films that a source labels
COVID-19 although their radiograph was reported without abnormality (the MANIFEST.csv note, from
COVID-CXNet's file names), and how the model reads them: a model that calls such films COVID-19 has
learnt something other than what the lungs show. Reporting only; the split is recomputed and verified.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

from bench.threshold_by_source import covid_films
from training.calibration import MIN_FLAG_THRESHOLD
from training.cohorts import REPORTED_NORMAL

SHEET_COLUMNS = 6


def _caught_line(films: str, scores: np.ndarray, threshold: float) -> str:
    """Sensitivity at the served threshold (at or over it, as the API flags), for one set of films."""
    caught = int((scores >= threshold).sum())
    return f"{films}: {caught} of {len(scores)} at or over {threshold:g} ({caught / len(scores):.1%})"


def missed_films(bundle: Path, sheet: Path | None = None) -> str:
    loaded, prepared, parts = covid_films(bundle)
    covid = loaded.labels.index("COVID-19")
    validation = parts["validation"]
    order = np.argsort(validation.probabilities[:, covid], kind="stable")
    missed = [row for row in order if validation.probabilities[row, covid] < MIN_FLAG_THRESHOLD]
    lines = [
        f"bundle {loaded.version}: {len(missed)} of {len(validation.indices)} validation COVID-19 films "
        f"score under {MIN_FLAG_THRESHOLD:g}",
        "",
        "| # | COVID-19 probability | read as | source | age group | file |",
        "|---|---|---|---|---|---|",
    ]
    for number, row in enumerate(missed):
        index = validation.indices[row]
        example, cohort = prepared.examples[index], prepared.cohorts[index]
        reading = loaded.labels[int(np.argmax(validation.probabilities[row]))]
        lines.append(
            f"| {number} | {validation.probabilities[row, covid]:.4f} | {reading} | {cohort.source} | "
            f"{cohort.age} | {example.path.parent.parent.name}/{example.path.name} |"
        )
    ages = Counter(prepared.cohorts[validation.indices[row]].age for row in missed)
    lines += ["", "by age group: " + ", ".join(f"{age} {count}" for age, count in sorted(ages.items()))]
    reported_normal = [
        row
        for row in range(len(validation.indices))
        if prepared.cohorts[validation.indices[row]].reported_normal
    ]
    if reported_normal:
        threshold = loaded.calibration.flag_thresholds.get("COVID-19", 0.5)
        scores = validation.probabilities[reported_normal, covid]
        lines.append(
            f"COVID-19 films whose radiograph was {REPORTED_NORMAL}: {len(reported_normal)} in validation, "
            f"{(scores >= threshold).sum()} read as COVID-19 (served threshold {threshold:g}; "
            f"{(validation.probabilities[reported_normal].argmax(axis=1) == covid).sum()} by argmax), "
            f"{(scores < MIN_FLAG_THRESHOLD).sum()} under {MIN_FLAG_THRESHOLD:g}"
        )
        lines.append(
            _caught_line("all validation COVID-19 films", validation.probabilities[:, covid], threshold)
        )
        others = np.delete(validation.probabilities[:, covid], reported_normal)
        lines.append(_caught_line(f"the films not {REPORTED_NORMAL}", others, threshold))
    if sheet is not None and missed:
        sheet.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(sheet), contact_sheet([prepared.inputs[validation.indices[row]] for row in missed]))
        lines.append(f"contact sheet: {sheet}")
    return "\n".join(lines) + "\n"


def contact_sheet(images: list[np.ndarray]) -> np.ndarray:
    """Model inputs ([0, 1], HxWx1) as one 8-bit BGR grid, each tile numbered in red in its corner."""
    tiles = []
    for number, image in enumerate(images):
        tile = cv2.cvtColor((image[..., 0] * 255).round().astype(np.uint8), cv2.COLOR_GRAY2BGR)
        cv2.putText(tile, str(number), (2, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 255), 1)
        tiles.append(tile)
    tiles += [np.zeros_like(tiles[0])] * (-len(tiles) % SHEET_COLUMNS)
    rows = [np.hstack(tiles[start : start + SHEET_COLUMNS]) for start in range(0, len(tiles), SHEET_COLUMNS)]
    return np.vstack(rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--sheet", type=Path, default=None, help="write the missed films to this PNG")
    arguments = parser.parse_args()
    print(missed_films(arguments.bundle, arguments.sheet))


if __name__ == "__main__":
    main()
