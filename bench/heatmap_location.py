"""Where the served heatmaps point: how much of each falls on the lung fields, how much on the border.

    .venv/bin/python -m bench.heatmap_location models/release [--every 4]

The model card says a heatmap "over the edges, labels or collimation suggests a shortcut" and that on
some web-sourced COVID-19 figures the hottest region is a corner marker; this counts it. Every ``every``-th
validation film of the bundle (its recomputed split, verified against validation_files.txt) is sent as
its stored file through ``function.service.read_image(..., explain=True)``, the API's own path, and its
heatmap (occlusion sensitivity for the class the API reads) is split into three zones of the model input:
the lung fields (``training.report.lung_field_mask``, the ellipses the shortcut check blacks out), the
border (the outer 15% a side, what ``crop_border`` cuts away) and the rest (mediastinum, diaphragm, the
space between). For each film: the share of the heatmap's mass in each zone, and the zone of its hottest
cell. A heatmap spread evenly would put each zone's share of the area there (the "area" row), so a zone
draws the model's attention when its mass share is above its area share. Films the check refuses have no
heatmap and are counted apart. Reporting only: the zones are fixed geometry, not segmented lungs, so a
film framed unlike the usual (a child's, a rotated one) puts its lungs partly outside them.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from function.bundle import FolderSource, load_bundle
from function.service import read_image
from infra.locations import ADULT_SET, TRAINING_SET
from training.bundle_split import prepare_as_trained
from training.report import lung_field_mask

BORDER_FRACTION = 0.15
"""The band ``training.report.crop_border`` cuts away, so the two probes and this count agree."""
ZONES = ("lungs", "border", "rest")


@dataclass(frozen=True)
class Placement:
    """Where one heatmap points: its mass share per zone and the zone of its hottest cell."""

    shares: dict[str, float]
    hottest: str


def zone_masks(size: int) -> dict[str, np.ndarray]:
    """Three disjoint boolean (size, size) masks covering the model input: lungs, border, rest (a lung
    ellipse reaching into the border band counts as lungs)."""
    lungs = lung_field_mask(size) > 0.5
    margin = round(size * BORDER_FRACTION)
    border = np.ones((size, size), dtype=bool)
    border[margin : size - margin, margin : size - margin] = False
    border &= ~lungs
    return {"lungs": lungs, "border": border, "rest": ~(lungs | border)}


def placement(values: np.ndarray, masks: dict[str, np.ndarray]) -> Placement | None:
    """The heatmap's mass share per zone and its hottest cell's zone; None for a heatmap of zeros (hiding
    no patch lowered the reading: it points nowhere)."""
    total = float(values.sum())
    if total <= 0:
        return None
    shares = {zone: float(values[mask].sum()) / total for zone, mask in masks.items()}
    row, column = np.unravel_index(int(np.argmax(values)), values.shape)
    hottest = next(zone for zone, mask in masks.items() if mask[row, column])
    return Placement(shares, hottest)


def heatmap_values(heatmap: dict[str, object], size: int) -> np.ndarray:
    """The API's heatmap (rows of [0, 1], over the whole upload for a bundle that cuts nothing away)
    resized to the zone masks' grid."""
    values = np.asarray(heatmap["values"], dtype=np.float32)
    if values.shape != (size, size):
        values = cv2.resize(values, (size, size), interpolation=cv2.INTER_NEAREST)
    return values


def table_rows(groups: dict[str, list[Placement]], areas: dict[str, float]) -> list[str]:
    """Markdown rows: films, mean mass share per zone, and the share of films whose hottest cell is in
    the lungs and in the border; first the area each zone covers (an even heatmap's shares)."""
    rows = [
        "| films | heatmaps | mass on lungs | on border | on rest | hottest cell on lungs | on border |",
        "|---|---|---|---|---|---|---|",
        f"| area of the zone (an even heatmap) | | {areas['lungs']:.1%} | {areas['border']:.1%} | "
        f"{areas['rest']:.1%} | {areas['lungs']:.1%} | {areas['border']:.1%} |",
    ]
    for name, placements in groups.items():
        if not placements:
            continue
        mean = {zone: float(np.mean([p.shares[zone] for p in placements])) for zone in ZONES}
        hottest = {zone: sum(p.hottest == zone for p in placements) / len(placements) for zone in ZONES}
        rows.append(
            f"| {name} | {len(placements)} | {mean['lungs']:.1%} | {mean['border']:.1%} | {mean['rest']:.1%} "
            f"| {hottest['lungs']:.1%} | {hottest['border']:.1%} |"
        )
    return rows


def heatmap_location(bundle: Path, every: int = 4) -> str:
    loaded = load_bundle(FolderSource(bundle))
    _, _, prepared = prepare_as_trained(bundle, [TRAINING_SET, ADULT_SET])
    size = loaded.input_spec.size
    masks = zone_masks(size)
    areas = {zone: float(mask.mean()) for zone, mask in masks.items()}
    groups: dict[str, list[Placement]] = defaultdict(list)
    refused = flat = 0
    films = prepared.split.validation[::every]
    for index in films:
        example, cohort = prepared.examples[index], prepared.cohorts[index]
        answer = read_image(loaded, example.path.read_bytes(), explain=True)
        if answer.heatmap is None:
            refused += 1
            continue
        found = placement(heatmap_values(answer.heatmap.model_dump(), size), masks)
        if found is None:
            flat += 1
            continue
        truth = loaded.labels[int(prepared.labels[index])]
        reading = answer.diagnosis or answer.result
        groups["all"].append(found)
        groups[f"truth {truth}"].append(found)
        groups[f"truth {truth}, {cohort.age}"].append(found)
        groups[f"truth {truth}, source {cohort.source}"].append(found)
        if cohort.reported_normal:
            groups["COVID-19 films their source reports radiographically normal"].append(found)
        groups[f"read {reading}, " + ("correctly" if reading == truth else "wrongly")].append(found)
    ordered = {"all": groups.pop("all", [])} | dict(sorted(groups.items()))
    lines = [
        f"bundle {loaded.version}: every {every}th validation film ({len(films)}), stored file through "
        f"read_image(explain=True); {refused} refused by the check (no heatmap), {flat} with a heatmap of "
        f"zeros; zones of the {size}x{size} model input",
        "",
        *table_rows(ordered, areas),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--every", type=int, default=4, help="every n-th validation film (default 4)")
    arguments = parser.parse_args()
    print(heatmap_location(arguments.bundle, arguments.every))


if __name__ == "__main__":
    main()
