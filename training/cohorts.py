"""Who each image is from: patient group, source group and age group, read from a folder's MANIFEST.csv.

Random image-level splits put films of one patient on both sides, and the sources confound class with
hospital and age (see the data READMEs). These groups make the grouped split and the per-source and
per-age reports possible. A folder without a manifest (a plain Kaggle download) gets one group per file,
its folder name as source and "unknown" age: the reports still run, they just say less.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training.data import Example, dataset_folder

MANIFEST_CSV = "MANIFEST.csv"
_SOURCE_NAMES = {
    "hida6/covid-chestxray-dataset": "ieee8023 (web, papers)",
    "ml-workgroup/covid-19-image-repository": "Hannover (clinical)",
    "armiro/COVID-CXNet": "COVID-CXNet (web)",
    "lecuong1502/BTL_Machine_Learning": "Kermany (pediatric)",
    "waliatushar/ai-pneumonia-detection": "Kermany (pediatric)",
}
_KAGGLE_NUMBER = re.compile(r"Kaggle-2021 (COVID|Normal)-(\d+)\.png")
_SAME_PATIENT = re.compile(r"possibly the same patient as[^A-Za-z0-9]*((?:COVID|Normal)-\d+)")


# The MANIFEST.csv note of COVID-19 films whose source (COVID-CXNet) reports the radiograph itself as
# without abnormality: labelled by a test, not by anything the film shows.
REPORTED_NORMAL = "reported without abnormality"


@dataclass(frozen=True)
class Cohort:
    group: str  # patient (or best available stand-in): images of one group never straddle a split
    source: str
    age: str  # "pediatric", "adult" or "unknown"
    reported_normal: bool = False  # the source reports the radiograph without abnormality (REPORTED_NORMAL)


def adult_normals(cohorts: Sequence[Cohort], labels: np.ndarray) -> np.ndarray:
    """Which films are adult normals (label "Normal", adult cohort): the group a model trained on the
    pediatric folder alone misreads, which the release rule and the screening threshold's floor count."""
    from function.bundle_format import LABELS

    adult = np.array([cohort.age == "adult" for cohort in cohorts], dtype=bool)
    return adult & (np.asarray(labels) == LABELS.index("Normal"))


def _union_find(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    parent: dict[str, str] = {}

    def find(item: str) -> str:
        parent.setdefault(item, item)
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    for a, b in pairs:
        parent[find(a)] = find(b)
    return {item: find(item) for item in parent}


def _kaggle_2021_cohorts(rows: list[dict[str, str]], root: str) -> dict[str, Cohort]:
    """The adult supplement: no patient ids, so BIMCV runs of consecutive Kaggle numbers form one group."""
    numbers: dict[str, tuple[str, int]] = {}
    for row in rows:
        match = _KAGGLE_NUMBER.search(row["note"])
        if match:
            numbers[row["path"]] = (match.group(1), int(match.group(2)))
    pairs: list[tuple[str, str]] = []
    by_key = {value: path for path, value in numbers.items()}
    for path, (kind, number) in numbers.items():
        if kind == "COVID" and (kind, number - 1) in by_key:
            pairs.append((path, by_key[(kind, number - 1)]))
    for row in rows:
        for other in _SAME_PATIENT.findall(row["note"]):
            kind, _, number = other.partition("-")
            if (kind, int(number)) in by_key:
                pairs.append((row["path"], by_key[(kind, int(number))]))
    roots = _union_find(pairs)
    cohorts = {}
    for row in rows:
        kind, number = numbers.get(row["path"], (row["class"], 0))
        if kind == "COVID":
            source = (
                "BIMCV/PadChest (clinical, Spain)" if number > 1893 else "Kaggle-2021 COVID 1-1893 (mixed)"
            )
        else:
            source = "RSNA/NIH (clinical, US)"
        group = f"{root}:{roots.get(row['path'], row['path'])}"
        cohorts[row["path"]] = Cohort(group=group, source=source, age="adult")
    return cohorts


def _training_set_cohorts(rows: list[dict[str, str]], root: str) -> dict[str, Cohort]:
    cohorts = {}
    for row in rows:
        source = _SOURCE_NAMES.get(row["source_repo"], row["source_repo"])
        pediatric = "Kermany" in source or "pediatric" in row["note"].lower()
        group = row["patient_id"] or f"{root}:{row['path']}"
        cohorts[row["path"]] = Cohort(
            group=group,
            source=source,
            age="pediatric" if pediatric else "adult",
            reported_normal=REPORTED_NORMAL in row["note"],
        )
    return cohorts


def manifest_folder(root: Path) -> Path:
    """Where a --data folder's MANIFEST.csv is, and so what its paths are relative to: the folder holding
    the class folders (``training.data.dataset_folder``), else the --data folder itself above a wrapper."""
    dataset = dataset_folder(root)
    if not (dataset / MANIFEST_CSV).is_file() and (root / MANIFEST_CSV).is_file():
        return root
    return dataset


def has_manifest(root: Path) -> bool:
    """Whether a --data folder has a MANIFEST.csv (patient groups, sources, ages); Kaggle's own has none."""
    return (manifest_folder(root) / MANIFEST_CSV).is_file()


def read_cohorts(root: Path) -> dict[str, Cohort]:
    """{path relative to the manifest's folder: Cohort} from MANIFEST.csv; empty if there is none.

    The manifest is looked for where the class folders are (``manifest_folder``), so a download still
    inside the folder its zip unpacked to keeps it."""
    root = manifest_folder(root)
    manifest = root / MANIFEST_CSV
    if not manifest.is_file():
        return {}
    with manifest.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if any(_KAGGLE_NUMBER.search(row.get("note", "")) for row in rows[:50]):
        return _kaggle_2021_cohorts(rows, root.name)
    return _training_set_cohorts(rows, root.name)


def cohorts_for(examples: Sequence[Example], roots: Sequence[Path]) -> list[Cohort]:
    """One Cohort per example, in order (a per-file fallback where no manifest row exists)."""
    tables = {Path(root).name: (manifest_folder(Path(root)), read_cohorts(Path(root))) for root in roots}
    result = []
    for example in examples:
        root, table = tables[example.source]
        relative = example.path.relative_to(root).as_posix() if example.path.is_relative_to(root) else ""
        fallback = Cohort(
            group=f"{example.source}:{relative or example.path}", source=example.source, age="unknown"
        )
        result.append(table.get(relative, fallback))
    return result


def grouped_split(
    labels: Sequence[int],
    groups: Sequence[str],
    val_fraction: float,
    seed: int,
    strata: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Like ``stratified_split`` but whole patient groups go to one side; per class, seeded.

    With ``strata`` (e.g. each image's source) the fraction is also taken within every stratum of a
    class, so both sides get the same mix of sources. Without it, a source of a few large patient groups
    lands on one side by chance: seed 0's tuning split drew 11% of its COVID-19 films from BIMCV, where
    the rest of the training split holds 30%. A group counts in the class and the stratum of its first
    image, so a patient with films of two classes still lands on one side (none has today: with
    class-pure groups this is the per-class draw the release was split by).
    """
    groups = np.asarray(groups)
    classes = _first_of_group(groups, labels)
    cells = np.zeros(len(groups), dtype=np.int64) if strata is None else _first_of_group(groups, strata)
    rng = np.random.default_rng(seed)
    val_mask = np.zeros(len(groups), dtype=bool)
    for label in np.unique(classes):
        for cell in np.unique(cells[classes == label]):
            members = np.flatnonzero((classes == label) & (cells == cell))
            cell_groups = np.unique(groups[members])
            target = round(len(members) * val_fraction)
            taken = 0
            for group in cell_groups[rng.permutation(len(cell_groups))]:
                if taken >= target:
                    break
                in_group = members[groups[members] == group]
                val_mask[in_group] = True
                taken += len(in_group)
    return np.flatnonzero(~val_mask), np.flatnonzero(val_mask)


def _first_of_group(groups: np.ndarray, values: Sequence[int] | Sequence[str]) -> np.ndarray:
    """Per image, the index (in sorted order) of its group's first image's value: whole groups share it."""
    first: dict[str, int | str] = {}
    for group, value in zip(groups, values, strict=True):
        first.setdefault(str(group), value.item() if isinstance(value, np.generic) else value)
    names = sorted(set(first.values()))
    return np.array([names.index(first[str(group)]) for group in groups], dtype=np.int64)


def bootstrap_interval(
    correct: np.ndarray, groups: Sequence[str], seed: int = 0, resamples: int = 1000
) -> tuple[float, float]:
    """95% interval of the mean of ``correct`` (0/1 per image), resampling whole patient groups."""
    correct = np.asarray(correct, dtype=np.float64)
    if len(correct) == 0:
        return (float("nan"), float("nan"))
    _, group_index = np.unique(np.asarray(groups), return_inverse=True)
    sums = np.bincount(group_index, weights=correct)
    counts = np.bincount(group_index).astype(np.float64)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(sums), size=(resamples, len(sums)))
    means = sums[picks].sum(axis=1) / counts[picks].sum(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return (round(float(low), 4), round(float(high), 4))
