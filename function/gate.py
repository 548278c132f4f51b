"""The paper's consistency check: SSIM between an upload and the bundle's average chest radiograph.

An upload whose score falls below the bundle's threshold is answered "not a chest radiograph" instead of
a diagnosis. Both images are model inputs from ``function.imaging`` (float32 in [0, 1], same size), so
the gate sees exactly what the classifier sees. The scoring method is named in ``gate.json`` and chosen
at training time by measurement (see ``training.calibrate_gate``):

- ``ssim``: SSIM on the [0, 1] pixels (data range 1), as in the paper;
- ``ssim-standardized``: each image z-scored first (data range 2), which ignores global brightness and
  contrast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from skimage.metrics import structural_similarity

GATE_METHODS: tuple[str, ...] = ("ssim", "ssim-standardized")


def _standardize(image: np.ndarray) -> np.ndarray:
    return (image - image.mean()) / (image.std() + 1e-6)


def _ssim_raw(image: np.ndarray, average: np.ndarray) -> float:
    return float(structural_similarity(image, average, data_range=1.0))


def _ssim_standardized(image: np.ndarray, average: np.ndarray) -> float:
    return float(structural_similarity(_standardize(image), _standardize(average), data_range=2.0))


_SCORERS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "ssim": _ssim_raw,
    "ssim-standardized": _ssim_standardized,
}


def consistency_score(model_input: np.ndarray, average: np.ndarray, method: str = "ssim") -> float:
    """SSIM of a (H, W[, 1]) float image in [0, 1] against the average radiograph of the same size."""
    image = np.asarray(model_input, dtype=np.float64).squeeze()
    reference = np.asarray(average, dtype=np.float64).squeeze()
    if image.shape != reference.shape:
        raise ValueError(f"image {image.shape} and average {reference.shape} differ in size")
    try:
        scorer = _SCORERS[method]
    except KeyError:
        raise ValueError(f"unknown gate method {method!r}; known: {', '.join(GATE_METHODS)}") from None
    return scorer(image, reference)


@dataclass(frozen=True)
class Gate:
    """A calibrated consistency check: the average radiograph, the method and the threshold from gate.json."""

    average: np.ndarray
    threshold: float
    method: str = "ssim"

    def score(self, model_input: np.ndarray) -> float:
        return consistency_score(model_input, self.average, self.method)

    def accepts(self, score: float) -> bool:
        return score >= self.threshold
