"""Drawn images that are plainly not radiographs, as negatives for the consistency check's learned stage.

The not-chest-xray folder holds real images (photos, CT, MRI, other radiographs, lateral films); nothing
in it is flat, striped or a smooth ramp. A stage-2 model that never saw such images has no reason to
refuse them, and the first one measured here did not: a plain white PNG, a left-to-right ramp, wide
horizontal stripes and the DICOM toolkits' own secondary-capture test patterns all passed both stages
and were read "COVID-19" (docs/model-experiments.md, "Drawn images"). These are the kinds a person
uploads by mistake or to try the service: blank exports, test patterns, screenshots of empty viewers.

Every image is drawn as 8-bit gray, written as PNG or JPEG and read back through the upload path
(``InputSpec.from_bytes``), so the gate learns on exactly what an upload of it would give. The draws
depend on the seed alone; the training and held-back sets are drawn from two streams of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import cv2
import numpy as np

from function.imaging import InputSpec

if TYPE_CHECKING:
    from training.gate_model import NegativeSplit

SIDE = 256
"""Drawn at this size, then resized to the model input by the upload path."""


def _levels(rng: np.random.Generator, count: int) -> np.ndarray:
    return rng.integers(0, 256, size=count).astype(np.float64)


def _coordinates(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates along a random direction and across it, in pixels from the centre."""
    angle = rng.choice([0.0, np.pi / 2, rng.uniform(0, np.pi)])
    yy, xx = np.mgrid[0:SIDE, 0:SIDE].astype(np.float64) - SIDE / 2
    return xx * np.cos(angle) + yy * np.sin(angle), -xx * np.sin(angle) + yy * np.cos(angle)


def uniform(rng: np.random.Generator) -> np.ndarray:
    return np.full((SIDE, SIDE), _levels(rng, 1)[0])


def ramp(rng: np.random.Generator) -> np.ndarray:
    along, _ = _coordinates(rng)
    low, high = _levels(rng, 2)
    return low + (high - low) * (along - along.min()) / (np.ptp(along) or 1.0)


def radial(rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:SIDE, 0:SIDE].astype(np.float64)
    centre = rng.uniform(0, SIDE, size=2)
    distance = np.hypot(xx - centre[0], yy - centre[1]) / rng.uniform(0.3 * SIDE, 1.5 * SIDE)
    low, high = _levels(rng, 2)
    return low + (high - low) * np.clip(distance, 0, 1)


def stripes(rng: np.random.Generator) -> np.ndarray:
    along, _ = _coordinates(rng)
    period = rng.uniform(4, SIDE / 2)
    levels = _levels(rng, int(rng.integers(2, 5)))
    return levels[np.floor(along / period).astype(int) % len(levels)]


def bands(rng: np.random.Generator) -> np.ndarray:
    """A test pattern's gray bars: a few bands of unrelated levels across the whole image."""
    count = int(rng.integers(3, 13))
    levels = _levels(rng, count)
    index = np.minimum(np.arange(SIDE) * count // SIDE, count - 1)
    rows = np.repeat(levels[index][:, None], SIDE, axis=1)
    return rows if rng.random() < 0.5 else rows.T


def checkers(rng: np.random.Generator) -> np.ndarray:
    along, across = _coordinates(rng)
    cell = rng.uniform(4, SIDE / 3)
    low, high = _levels(rng, 2)
    parity = (np.floor(along / cell) + np.floor(across / cell)).astype(int) % 2
    return np.where(parity == 1, high, low)


def marks(rng: np.random.Generator) -> np.ndarray:
    """A flat background with a few dots, lines, boxes or discs: an almost empty page or viewer."""
    image = np.full((SIDE, SIDE), _levels(rng, 1)[0], dtype=np.uint8)
    for _ in range(int(rng.integers(1, 40))):
        colour = int(_levels(rng, 1)[0])
        x, y = (int(v) for v in rng.integers(0, SIDE, size=2))
        size = int(rng.integers(1, SIDE // 4))
        shape = rng.integers(0, 4)
        if shape == 0:
            cv2.circle(image, (x, y), max(1, size // 8), colour, -1)
        elif shape == 1:
            end = tuple(int(v) for v in rng.integers(0, SIDE, size=2))
            cv2.line(image, (x, y), end, colour, int(rng.integers(1, 4)))
        elif shape == 2:
            cv2.rectangle(image, (x, y), (x + size, y + size // 2), colour, int(rng.choice([-1, 1, 2])))
        else:
            cv2.circle(image, (x, y), size, colour, int(rng.choice([-1, 1, 2])))
    return image.astype(np.float64)


def blotches(rng: np.random.Generator) -> np.ndarray:
    """Smoothed noise: shapeless clouds with none of a chest's anatomy."""
    noise = rng.normal(size=(SIDE, SIDE))
    smooth = cv2.GaussianBlur(noise, (0, 0), rng.uniform(2, 40))
    low, high = np.sort(_levels(rng, 2))
    return low + (high - low + 1) * (smooth - smooth.min()) / (np.ptp(smooth) or 1.0)


def noise(rng: np.random.Generator) -> np.ndarray:
    low, high = np.sort(_levels(rng, 2))
    return rng.uniform(low, high + 1, size=(SIDE, SIDE))


FAMILIES: dict[str, Callable[[np.random.Generator], np.ndarray]] = {
    "uniform": uniform,
    "ramp": ramp,
    "radial": radial,
    "stripes": stripes,
    "bands": bands,
    "checkers": checkers,
    "marks": marks,
    "blotches": blotches,
    "noise": noise,
}


def drawn_upload(rng: np.random.Generator, family: str) -> bytes:
    """One drawn image of ``family`` as the bytes of a PNG or a JPEG file, with a little sensor-like
    noise half of the time (a flat export is exactly flat; a photographed or re-encoded one is not)."""
    image = FAMILIES[family](rng)
    if rng.random() < 0.5:
        image = image + rng.normal(0, rng.uniform(0.5, 4), size=image.shape)
    gray = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        ok, encoded = cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(50, 96))])
    else:
        ok, encoded = cv2.imencode(".png", gray)
    assert ok
    return encoded.tobytes()


def synthetic_negatives(count: int, spec: InputSpec, seed: int, held_back: bool) -> np.ndarray:
    """(count, size, size, 1) model inputs, the families in turn, drawn from ``seed`` alone; the held-back
    set from another stream of the same seed. The streams are independent, but a flat image is one of 256
    levels: of 270 held-back draws at seed 0, two flat ones equal training draws exactly (docs/model-
    experiments.md, "Drawn images")."""
    rng = np.random.default_rng([seed, int(held_back)])
    names = list(FAMILIES)
    return np.stack([spec.from_bytes(drawn_upload(rng, names[i % len(names)])) for i in range(count)])


def add_drawn_kind(negatives: NegativeSplit, count: int, spec: InputSpec, seed: int) -> None:
    """Add ``count`` drawn images to the split's training half and ``count`` more to its held-back half,
    as the kind "synthetic" (what ``--synthetic-negatives`` does to the check's negatives)."""
    for held_back, kinds in ((False, negatives.train), (True, negatives.held_back)):
        kinds["synthetic"] = synthetic_negatives(count, spec, seed, held_back)
