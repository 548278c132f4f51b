"""Which enlargements of a whole film make a bundle's crop detector call it cropped; which crops it sees.

    .venv/bin/python -m bench.crop_note_paths BUNDLE [--every 4]

The second crop detector (docs/model-experiments.md, "The crop note") noted 2.2% of the stored validation
films
but 12.6% of the same films uploaded as 1024 px JPEGs. This takes the bundle's validation films (its
recomputed split, every Nth), enlarges each whole film several ways (sizes, resize filters, with and
without JPEG), sends each through ``function.service.read_image`` and counts the "cropped" note, so the
next detector can be trained against what is left of the shortcut; then cuts a 1024 px export of each
film several ways (``CROPS``: one side, top and bottom, left and right, every side) and counts the note
again, to show which crops the detector misses. Reporting only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from bench.report_cli import print_bundle_report
from bench.upload_robustness import UPSCALED_SIDE, jpeg_bytes, png_bytes
from function.bundle import FolderSource, load_bundle
from function.service import read_image
from infra.locations import ADULT_SET, TRAINING_SET
from training.bundle_split import prepare_as_trained
from training.crop_note import cut

FILTERS = {"bicubic": cv2.INTER_CUBIC, "bilinear": cv2.INTER_LINEAR, "Lanczos": cv2.INTER_LANCZOS4}


def enlarged_upload(side: int, interpolation: int, jpeg: bool) -> Callable[[np.ndarray], bytes]:
    """The film resized to ``side`` x ``side`` with ``interpolation``, as a PNG or a JPEG 90 file."""

    def upload(gray: np.ndarray) -> bytes:
        image = cv2.resize(gray, (side, side), interpolation=interpolation)
        return jpeg_bytes(image, 90) if jpeg else png_bytes(image)

    return upload


PATHS: dict[str, Callable[[np.ndarray], bytes]] = {
    "stored (PNG)": png_bytes,
    "JPEG 90": lambda gray: jpeg_bytes(gray, 90),
    **{
        f"{side} px {name}, {'JPEG 90' if jpeg else 'PNG'}": enlarged_upload(side, flag, jpeg)
        for side in (256, 512, 1024)
        for name, flag in FILTERS.items()
        for jpeg in (False, True)
        if side == 1024 or name == "bicubic"
    },
}
"""Whole-film uploads: stored, and enlarged to 256/512/1024 px (1024 px with three filters), PNG or JPEG."""

CROPS: dict[str, tuple[float, float, float, float]] = {
    "top 8%": (0.08, 0.0, 0.0, 0.0),
    "bottom 8%": (0.0, 0.08, 0.0, 0.0),
    "top and bottom 8%": (0.08, 0.08, 0.0, 0.0),
    "top and bottom 15%": (0.15, 0.15, 0.0, 0.0),
    "left and right 8%": (0.0, 0.0, 0.08, 0.08),
    "each side 4%": (0.04, 0.04, 0.04, 0.04),
    "each side 8%": (0.08, 0.08, 0.08, 0.08),
}
"""(top, bottom, left, right) shares cut from a 1024 px bicubic export, sent as JPEG 90: which crops the
detector sees (the third detector caught 4.5% of films cut 8% top and bottom, 70% of those cut 8% a side)."""


def cropped_export(sides: tuple[float, float, float, float]) -> Callable[[np.ndarray], bytes]:
    """The film enlarged as ``bench.upload_robustness``'s full-size export, cut by ``sides``, as JPEG 90."""

    def upload(gray: np.ndarray) -> bytes:
        export = cv2.resize(gray, (UPSCALED_SIDE, UPSCALED_SIDE), interpolation=cv2.INTER_CUBIC)
        return jpeg_bytes(cut(export, sides), 90)

    return upload


def crop_note_paths(bundle_path: Path, every: int) -> str:
    loaded = load_bundle(FolderSource(bundle_path))
    if loaded.crop_detector is None:
        raise SystemExit(f"{bundle_path} has no crop detector (crop_note.json)")
    _, _, prepared = prepare_as_trained(bundle_path, [TRAINING_SET, ADULT_SET])
    films = prepared.split.validation[::every]
    crops = {name: cropped_export(sides) for name, sides in CROPS.items()}
    noted = dict.fromkeys([*PATHS, *crops], 0)
    for index in films:
        gray = cv2.imread(str(prepared.examples[index].path), cv2.IMREAD_GRAYSCALE)
        for name, upload in {**PATHS, **crops}.items():
            noted[name] += any(note.code == "cropped" for note in read_image(loaded, upload(gray)).notes)
    lines = [
        f"bundle {loaded.version}: {len(films)} validation films (every {every}), 'cropped' note",
        "",
        "| whole film uploaded as | noted |",
        "|---|---|",
        *[f"| {name} | {noted[name] / len(films):.1%} |" for name in PATHS],
        "",
        "| 1024 px bicubic export, JPEG 90, cut | noted |",
        "|---|---|",
        *[f"| {name} | {noted[name] / len(films):.1%} |" for name in crops],
    ]
    return "\n".join(lines)


def main() -> None:
    print_bundle_report(__doc__ or "", crop_note_paths, every=4)


if __name__ == "__main__":
    main()
