"""How often the black-bars note (function/framing.py) is raised, for each way a film can be uploaded.

    .venv/bin/python -m bench.black_bars [--size 128] [--every 1]

Every film of both training folders is uploaded each way of ``bench.upload_robustness`` and a few more
framings (16:9 bars, bars above and below), decoded and resized by the API's own code and checked by
``function.service.upload_notes``, as at serving time. No model is involved: the note depends on the
pixels only, so the figures hold for any bundle with that input size. The wanted result: about none of
the stored films, every letterboxed copy, none of the crops.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Callable

import cv2
import numpy as np

from bench.upload_robustness import UPLOADS, jpeg_bytes, letterboxed, png_bytes
from function.imaging import decode_grayscale, to_model_input
from function.service import upload_notes
from tests.conftest import ADULT_SET, TRAINING_SET
from training.data import list_examples


def _bars_to(gray: np.ndarray, width: int, height: int) -> np.ndarray:
    """The film centred between black bars in a ``width``:``height`` frame."""
    rows, columns = gray.shape
    if columns * height < rows * width:  # too narrow: bars left and right
        side = (round(rows * width / height) - columns) // 2
        return cv2.copyMakeBorder(gray, 0, 0, side, side, cv2.BORDER_CONSTANT, value=0)
    side = (round(columns * height / width) - rows) // 2
    return cv2.copyMakeBorder(gray, side, side, 0, 0, cv2.BORDER_CONSTANT, value=0)


FRAMINGS: dict[str, Callable[[np.ndarray], bytes]] = {
    **UPLOADS,
    "letterboxed to 4:3, JPEG 50": lambda gray: jpeg_bytes(letterboxed(gray), 50),
    "letterboxed to 16:9, JPEG 90": lambda gray: jpeg_bytes(_bars_to(gray, 16, 9), 90),
    "bars above and below (3:4 frame)": lambda gray: png_bytes(_bars_to(gray, 3, 4)),
}


def black_bars(size: int, every: int) -> str:
    examples = list_examples([TRAINING_SET, ADULT_SET])[::every]
    noted: Counter[str] = Counter()
    for example in examples:
        gray = cv2.imread(str(example.path), cv2.IMREAD_GRAYSCALE)
        for name, encode in FRAMINGS.items():
            model_input = to_model_input(decode_grayscale(encode(gray)), size)
            noted[name] += any(note.code == "black_bars" for note in upload_notes(model_input))
    lines = [
        f"{len(examples)} films of both training folders (every {every}), model input {size} px",
        "",
        "| upload | films with the black-bars note |",
        "|---|---|",
    ]
    lines += [f"| {name} | {noted[name]} ({noted[name] / len(examples):.1%}) |" for name in FRAMINGS]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=128, help="the bundle's input size (the release: 128)")
    parser.add_argument("--every", type=int, default=1, help="every Nth film (default: all)")
    arguments = parser.parse_args()
    print(black_bars(arguments.size, arguments.every))


if __name__ == "__main__":
    main()
