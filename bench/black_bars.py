"""How often the black-bars note (function/framing.py) is raised, for each way a film can be uploaded.

    .venv/bin/python -m bench.black_bars [--size 128] [--every 1]

Every film of both training folders is uploaded each way of ``bench.upload_robustness`` but its two
simulated phone photos (1600x1200 each: they would make this bench several times slower) and a few more
framings (16:9 bars, bars above and below), decoded and resized by the API's own code and checked by
``function.service.upload_notes``, as at serving time. No model is involved: the note depends on the
pixels only, so the figures hold for any bundle with that input size. The wanted result: about none of
the stored films, every letterboxed copy, none of the crops.

It also measures preprocessing version 2 (``function.imaging``: dark margins cut before the resize) the
same way: how far each upload's model input lies from the stored film's (mean absolute difference, 0..1)
under version 1 and under version 2, how many uploads still get the note under version 2, and how many
stored films version 2 changes at all (what a model trained with it sees differently).
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Callable

import cv2
import numpy as np

from bench.upload_robustness import PHOTOGRAPHED, UPLOADS, jpeg_bytes, letterboxed, png_bytes
from function.imaging import InputSpec, decode_grayscale
from function.service import upload_notes
from infra.locations import ADULT_SET, TRAINING_SET
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
    **{name: encode for name, encode in UPLOADS.items() if name not in PHOTOGRAPHED},
    "letterboxed to 4:3, JPEG 50": lambda gray: jpeg_bytes(letterboxed(gray), 50),
    "letterboxed to 16:9, JPEG 90": lambda gray: jpeg_bytes(_bars_to(gray, 16, 9), 90),
    "bars above and below (3:4 frame)": lambda gray: png_bytes(_bars_to(gray, 3, 4)),
}


def _noted(model_input: np.ndarray) -> bool:
    return any(note.code == "black_bars" for note in upload_notes(model_input))


def black_bars(size: int, every: int) -> str:
    examples = list_examples([TRAINING_SET, ADULT_SET])[::every]
    specs = {version: InputSpec(size, version) for version in ("1", "2")}
    noted: dict[str, Counter[str]] = {version: Counter() for version in specs}
    distance: dict[str, Counter[str]] = {version: Counter() for version in specs}
    changed: list[float] = []  # distance between the two versions' inputs of each changed film
    for example in examples:
        gray = cv2.imread(str(example.path), cv2.IMREAD_GRAYSCALE)
        stored = {version: spec.model_input(gray) for version, spec in specs.items()}
        if not np.array_equal(stored["1"], stored["2"]):
            changed.append(float(np.abs(stored["1"] - stored["2"]).mean()))
        for name, encode in FRAMINGS.items():
            uploaded = decode_grayscale(encode(gray))
            for version, spec in specs.items():
                model_input = spec.model_input(uploaded)
                noted[version][name] += _noted(model_input)
                distance[version][name] += float(np.abs(model_input - stored[version]).mean())
    count = len(examples)
    lines = [
        f"{count} films of both training folders (every {every}), model input {size} px",
        "",
        "| upload | black-bars note (version 1) | distance from the stored film's input, version 1 "
        "| version 2 | note left under version 2 |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {name} | {noted['1'][name]} ({noted['1'][name] / count:.1%}) | {distance['1'][name] / count:.4f} "
        f"| {distance['2'][name] / count:.4f} | {noted['2'][name]} ({noted['2'][name] / count:.1%}) |"
        for name in FRAMINGS
    ]
    lines += [
        "",
        f"stored films whose model input version 2 changes (a dark margin cut): {len(changed)} of {count} "
        f"({len(changed) / count:.1%}); distance between the versions' inputs: "
        f"median {np.median(changed or [0]):.4f}, largest {max(changed, default=0):.4f}",
    ]
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
