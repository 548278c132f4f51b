"""Which ways of enlarging a whole film make a bundle's crop detector call it cropped.

    .venv/bin/python -m bench.crop_note_paths BUNDLE [--every 4]

The second crop detector (docs/model-card.md, "The crop note") noted 2.2% of the stored validation films
but 12.6% of the same films uploaded as 1024 px JPEGs. This takes the bundle's validation films (its
recomputed split, every Nth), enlarges each whole film several ways (sizes, resize filters, with and
without JPEG), sends each through ``function.service.read_image`` and counts the "cropped" note, so the
next detector can be trained against what is left of the shortcut. Reporting only.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from bench.upload_robustness import jpeg_bytes, png_bytes
from function.bundle import FolderSource, load_bundle
from function.service import read_image
from tests.conftest import ADULT_SET, TRAINING_SET
from training.bundle_split import prepare_as_trained

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


def crop_note_paths(bundle_path: Path, every: int) -> str:
    loaded = load_bundle(FolderSource(bundle_path))
    if loaded.crop_detector is None:
        raise SystemExit(f"{bundle_path} has no crop detector (crop_note.json)")
    _, _, prepared = prepare_as_trained(bundle_path, [TRAINING_SET, ADULT_SET])
    films = prepared.split.validation[::every]
    noted = dict.fromkeys(PATHS, 0)
    for index in films:
        gray = cv2.imread(str(prepared.examples[index].path), cv2.IMREAD_GRAYSCALE)
        for name, upload in PATHS.items():
            noted[name] += any(note.code == "cropped" for note in read_image(loaded, upload(gray)).notes)
    lines = [
        f"bundle {loaded.version}: {len(films)} whole validation films (every {every}), 'cropped' note",
        "",
        "| whole film uploaded as | noted |",
        "|---|---|",
    ]
    lines += [f"| {name} | {count / len(films):.1%} |" for name, count in noted.items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--every", type=int, default=4, help="every Nth validation film (default 4)")
    arguments = parser.parse_args()
    print(crop_note_paths(arguments.bundle, arguments.every))


if __name__ == "__main__":
    main()
