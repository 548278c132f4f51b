"""Does a DICOM film's padding (pixels outside the exposed area, PS3.3 C.7.5.1.1.2) change the reading?

    .venv/bin/python -m bench.dicom_padding              # 12 adult films, the release bundle
    .venv/bin/python -m bench.dicom_padding --films 4

Each film of the adult set (128 px, 8-bit) is upscaled to 512 px and stored as a detector stores it: 12-bit
values 300..3500 (MONOCHROME1 stores 4095 minus them), inside a 640 px frame whose 64 px border holds padding
at a value outside the film's range, with the padding declared in the header (Pixel Padding Value, and for
a noisy border its Range Limit) or not, with and without a window (the film's range, or the whole 12 bits).
Each file is decoded through ``function.imaging`` and read through ``function.service.read_image``, and
compared with

- the film alone (512 px, no border): mean absolute gray difference inside the film;
- the framed film as a viewer shows it (the border at the film's own darkest value, nothing declared): the
  whole decoded picture and the API's answer (largest probability change, and whether the result changed).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from PIL import Image

from infra.locations import ADULT_SET, RELEASE_BUNDLE
from tests.upload_samples import dx_dataset, saved

SIDE, BORDER = 512, 64
LOW, HIGH = 300, 3500
"""The film's stored 12-bit range (MONOCHROME2); a real CR/DX film seldom uses the whole of it."""
WINDOW = ((LOW + HIGH) / 2, HIGH - LOW)
"""A window (center, width) spanning the film's range, as a vendor's processing writes one."""


@dataclass(frozen=True)
class Case:
    name: str
    photometric: str
    padding: int
    declared: bool
    window: bool = False
    signed: bool = False
    bits: int = 12
    range_limit: int | None = None
    full_window: bool = False
    """The window is the whole 12-bit range (2048, 4096), as export tools write, not the film's."""


def both_ways(name: str, photometric: str, padding: int, **options: Any) -> list[Case]:
    """The case with its padding declared in the header, and the same file without the declaration."""
    return [
        Case(f"{name}, {'declared' if declared else 'undeclared'}", photometric, padding, declared, **options)
        for declared in (True, False)
    ]


SIGNED_16 = {"signed": True, "bits": 16}
CASES = [
    *both_ways("M2, padding 0", "MONOCHROME2", 0),
    *both_ways("M2 signed, padding -2000", "MONOCHROME2", -2000, **SIGNED_16),
    *both_ways("M2 signed, padding -2000, window", "MONOCHROME2", -2000, window=True, **SIGNED_16),
    *both_ways(
        "M2 signed, padding -2000, 12-bit window",
        "MONOCHROME2",
        -2000,
        window=True,
        full_window=True,
        **SIGNED_16,
    ),
    Case("M2, noisy padding 0..150, value+range limit", "MONOCHROME2", 0, True, range_limit=150),
    Case("M2, noisy padding 0..150, value only", "MONOCHROME2", 0, True, range_limit=-150),
    *both_ways("M1, padding 4095", "MONOCHROME1", 4095),
    *both_ways("M1 16-bit, padding 65535", "MONOCHROME1", 65535, bits=16),
    *both_ways("M1 16-bit, padding 65535, window", "MONOCHROME1", 65535, window=True, bits=16),
]
"""``range_limit`` -150: the border is noisy (0..150) but only the value 0 is declared, no range limit."""


def stored_film(gray: np.ndarray) -> np.ndarray:
    """A 128 px 8-bit film -> 512 px stored values LOW..HIGH (MONOCHROME2 sense)."""
    big = cv2.resize(gray, (SIDE, SIDE), interpolation=cv2.INTER_CUBIC).astype(np.float64)
    return np.round(LOW + big / 255 * (HIGH - LOW)).astype(np.int64)


def dicom_file(
    values: np.ndarray,
    photometric: str,
    *,
    signed: bool = False,
    bits: int = 12,
    window: tuple[float, float] | None = None,
    padding: int | None = None,
    range_limit: int | None = None,
) -> bytes:
    """A DX "FOR PRESENTATION" file of stored ``values`` (already in the photometric's sense)."""
    dataset = dx_dataset(values.shape, photometric)
    dataset.Modality, dataset.ViewPosition = "DX", "PA"
    dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit = 16, bits, bits - 1
    dataset.PixelRepresentation = 1 if signed else 0
    dataset.RescaleSlope, dataset.RescaleIntercept = 1, 0
    if window is not None:
        dataset.WindowCenter, dataset.WindowWidth = window
    vr = "SS" if signed else "US"
    if padding is not None:
        dataset.add_new(0x00280120, vr, padding)
    if range_limit is not None:
        dataset.add_new(0x00280121, vr, range_limit)
    dataset.PixelData = values.astype(np.int16 if signed else np.uint16).tobytes()
    return saved(dataset)


def framed(film: np.ndarray, border: np.ndarray | int) -> np.ndarray:
    canvas = np.empty((SIDE + 2 * BORDER,) * 2, dtype=np.int64)
    canvas[...] = border
    canvas[BORDER:-BORDER, BORDER:-BORDER] = film
    return canvas


def files_of(gray: np.ndarray, case: Case) -> tuple[bytes, bytes, bytes]:
    """(the padded file, the film alone, the framed film as a viewer shows it), same header otherwise."""
    film = stored_film(gray)
    top = 2**12 - 1  # the film's 12 bits, whatever BitsStored allows the padding
    if case.photometric == "MONOCHROME1":
        film = top - film
    darkest = int(film.max() if case.photometric == "MONOCHROME1" else film.min())
    if case.range_limit is not None:
        noise = np.random.default_rng(0).integers(0, abs(case.range_limit) + 1, (SIDE + 2 * BORDER,) * 2)
        border: np.ndarray | int = case.padding + noise
    else:
        border = case.padding
    window = ((2048.0, 4096.0) if case.full_window else WINDOW) if case.window else None
    if case.window and case.photometric == "MONOCHROME1":
        window = (top - WINDOW[0], WINDOW[1])
    common = {"signed": case.signed, "bits": case.bits, "window": window}
    declared = {}
    if case.declared:
        declared["padding"] = case.padding
        if case.range_limit is not None and case.range_limit > 0:
            declared["range_limit"] = case.range_limit
    padded = dicom_file(framed(film, border), case.photometric, **common, **declared)
    alone = dicom_file(film, case.photometric, **common)
    viewer = dicom_file(framed(film, darkest), case.photometric, **common)
    return padded, alone, viewer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--films", type=int, default=12, help="films in all, half COVID and half Normal")
    args = parser.parse_args()
    if args.films < 2:
        parser.error("--films must be at least 2 (one of each class)")

    from function.bundle import FolderSource, load_bundle
    from function.imaging import decode_grayscale
    from function.service import read_image

    bundle = load_bundle(FolderSource(str(RELEASE_BUNDLE)), num_threads=2)
    paths = [
        path
        for kind in ("COVID", "Normal")
        for path in sorted((ADULT_SET / kind / "images").glob("*.png"))[: args.films // 2]
    ]
    grays = [np.asarray(Image.open(path).convert("L")) for path in paths]
    print(f"{len(paths)} adult films, {SIDE} px in a {BORDER} px border; bundle {bundle.version}\n")
    print(
        "| file | gray MAD inside the film vs the film alone (mean, max over films) | whole picture MAD vs "
        "the viewer's | max probability change vs the viewer's | results changed |"
    )
    print("|---|---|---|---|---|")
    inner = slice(BORDER, BORDER + SIDE)
    for case in CASES:
        film_mads, picture_mads, shifts, changed = [], [], [], 0
        for gray in grays:
            padded, alone, viewer = files_of(gray, case)
            decoded = decode_grayscale(padded).astype(int)
            film_mads.append(
                float(np.abs(decoded[inner, inner] - decode_grayscale(alone).astype(int)).mean())
            )
            picture_mads.append(float(np.abs(decoded - decode_grayscale(viewer).astype(int)).mean()))
            got, want = read_image(bundle, padded), read_image(bundle, viewer)
            if got.result != want.result or got.diagnosis != want.diagnosis:
                changed += 1
            if got.probabilities and want.probabilities:
                shift = max(abs(got.probabilities[k] - want.probabilities[k]) for k in want.probabilities)
                shifts.append(shift)
        worst = f"{max(shifts):.3f}" if shifts else "-"
        film_mad = f"{np.mean(film_mads):.1f} ({max(film_mads):.1f})"
        print(
            f"| {case.name} | {film_mad} | {np.mean(picture_mads):.1f} | {worst} | {changed}/{len(grays)} |"
        )
    frame_shifts, frame_changed = [], 0
    for gray in grays:  # the frame itself, shown black: what no decoding changes
        _, alone, viewer = files_of(gray, CASES[0])
        got, want = read_image(bundle, viewer), read_image(bundle, alone)
        frame_changed += got.result != want.result or got.diagnosis != want.diagnosis
        if got.probabilities and want.probabilities:
            frame_shifts.append(
                max(abs(got.probabilities[k] - want.probabilities[k]) for k in want.probabilities)
            )
    print(
        f"\nThe black frame itself (the viewer's framed film vs the film alone): largest probability change "
        f"{max(frame_shifts, default=0.0):.3f}, results changed {frame_changed}/{len(grays)}."
    )


if __name__ == "__main__":
    main()
