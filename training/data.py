"""Find the labelled images in a Kaggle "COVID-19 Radiography Database" download, as it comes.

Accepted layouts (folder names case-insensitive, spaces/underscores/hyphens alike, PNG and JPEG):

- 2020 releases: ``COVID-19/`` or ``COVID/``, ``NORMAL/``, ``Viral Pneumonia/`` with the images inside;
- 2021+ release: ``COVID/images/``, ``Normal/images/``, ``Viral Pneumonia/images/``
  (``Lung_Opacity/``, ``masks/`` and the metadata spreadsheets are ignored);
- either one wrapped in the single top folder the Kaggle zip unpacks to (``MANIFEST.csv``, where there is
  one, is read from the folder that holds the class folders).

Other folders (``Lung_Opacity/``: a class the model does not have) are named on the console and skipped;
so are hidden files (macOS's ``._name.png`` copies). Two ``--data`` folders may not share a name: bundles
record them by name.

Images are read through ``function.imaging`` (the served preprocessing), never through another decoder.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from function.bundle_format import LABELS
from function.imaging import ImageError, InputSpec

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
_CLASS_ALIASES = {
    "normal": "Normal",
    "covid": "COVID-19",
    "covid19": "COVID-19",
    "viralpneumonia": "Viral Pneumonia",
}
_IGNORED_FOLDERS = {"lungopacity", "masks", "macosx"}  # "__MACOSX": what a zip made on a Mac adds


class DatasetError(RuntimeError):
    """The data folder is not usable; the message says what to fix."""


@dataclass(frozen=True)
class Example:
    path: Path
    label: int  # index into LABELS
    source: str  # the --data folder it came from (its name), for per-source reports


def _folder_key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name.lower())


def _class_folders(root: Path) -> dict[str, Path]:
    folders: dict[str, Path] = {}
    for child in sorted(p for p in root.iterdir() if p.is_dir()):
        label = _CLASS_ALIASES.get(_folder_key(child.name))
        if label is None:
            continue
        if label in folders:
            raise DatasetError(
                f"{root} has two folders for {label}: {folders[label].name!r} and {child.name!r}"
            )
        folders[label] = child
    return folders


def dataset_folder(root: Path) -> Path:
    """The folder holding the class folders: ``root``, or the single wrapper folder(s) inside it."""
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder")
    if not _class_folders(root):
        subfolders = [
            p
            for p in root.iterdir()
            if p.is_dir() and _folder_key(p.name) not in _IGNORED_FOLDERS and not p.name.startswith(".")
        ]
        if len(subfolders) == 1:
            return dataset_folder(subfolders[0])
    return root


def ignored_folders(root: Path) -> list[str]:
    """Folders beside the class folders that hold no class of the model's (e.g. Kaggle's Lung_Opacity)."""
    folder = dataset_folder(root)
    return sorted(
        child.name
        for child in folder.iterdir()
        if child.is_dir() and _folder_key(child.name) not in _CLASS_ALIASES and not child.name.startswith(".")
    )


def find_class_folders(root: Path) -> dict[str, Path]:
    """Map each label to the folder holding its images, descending into a single wrapper folder if needed."""
    folders = _class_folders(dataset_folder(root))
    resolved = {}
    for label, folder in folders.items():
        images = next((p for p in folder.iterdir() if p.is_dir() and p.name.lower() == "images"), None)
        resolved[label] = images if images is not None else folder
    return resolved


def list_examples(roots: Sequence[Path], required: Sequence[str] = LABELS) -> list[Example]:
    """Every image under the given Kaggle-layout folders, labelled; stops if a required class is absent."""
    names = [Path(root).name for root in roots]
    shared = sorted({name for name in names if names.count(name) > 1})
    if shared:
        raise DatasetError(
            f"two --data folders are named {', '.join(shared)}: bundles record their data folders by name, "
            "so give each its own name (e.g. rename one Kaggle 'archive' folder)"
        )
    examples: list[Example] = []
    found: Counter[str] = Counter()
    for root in roots:
        folders = find_class_folders(Path(root))
        for label, folder in folders.items():
            files = sorted(
                p
                for p in folder.iterdir()
                if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
            )
            examples += [Example(path=p, label=LABELS.index(label), source=Path(root).name) for p in files]
            found[label] += len(files)
    missing = [label for label in required if found[label] == 0]
    if missing:
        names = ", ".join(str(r) for r in roots)
        raise DatasetError(
            f"no images for {', '.join(missing)} in {names}. Expected the Kaggle layout: "
            "COVID/ (or COVID-19/), Normal/, Viral Pneumonia/, "
            "each holding PNG/JPEG images directly or in an images/ subfolder."
        )
    return examples


def class_counts(examples: Sequence[Example]) -> dict[str, int]:
    counts = Counter(LABELS[e.label] for e in examples)
    return {label: counts.get(label, 0) for label in LABELS}


def load_images(examples: Sequence[Example], spec: InputSpec, progress: bool = True) -> np.ndarray:
    """Decode and preprocess every example: (N, size, size, 1) float32; names the first unreadable file."""
    batch = np.empty((len(examples), spec.size, spec.size, 1), dtype=np.float32)
    for row, example in enumerate(tqdm(examples, desc="images", unit="img", disable=not progress)):
        try:
            batch[row] = spec.from_bytes(example.path.read_bytes())
        except (ImageError, OSError) as error:
            raise DatasetError(f"cannot read {example.path}: {error}") from None
    return batch


def stratified_split(labels: Sequence[int], val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded per-class shuffle; round(n * val_fraction) of each class to validation. Returns index arrays."""
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train: list[np.ndarray] = []
    val: list[np.ndarray] = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        members = members[rng.permutation(len(members))]
        n_val = round(len(members) * val_fraction)
        val.append(members[:n_val])
        train.append(members[n_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))
