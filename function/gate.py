"""The consistency check: is this upload a frontal chest radiograph at all?

Stage 1 is the paper's check: SSIM between the upload and the bundle's average chest radiograph. Stage 2
(bundles trained with the ``screening`` recipe, whose gate.json names a model) is a small LiteRT
classifier, "frontal chest radiograph" vs "anything else": SSIM alone passes many photos, CT slices and
nearly every lateral chest film. An upload that fails either stage is answered "not a chest radiograph"
instead of a diagnosis. Both stages see model inputs from ``function.imaging`` (float32 in [0, 1], same
size), so the gate sees exactly what the classifier sees. The SSIM method is named in ``gate.json`` and
chosen at training time by measurement (see ``training.calibrate_gate``):

- ``ssim``: SSIM on the [0, 1] pixels (data range 1), as in the paper;
- ``ssim-standardized``: each image z-scored first (data range 2), which ignores global brightness and
  contrast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from skimage.metrics import structural_similarity

if TYPE_CHECKING:
    from function.classifier import Classifier

GATE_METHODS: tuple[str, ...] = ("ssim", "ssim-standardized")
FRONTAL_LABEL = "frontal_chest_radiograph"
"""The stage-2 model's output that means "accept"; its other output(s) mean "anything else"."""


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
class GateVerdict:
    """One upload's consistency check: both stages' scores and whether it passed."""

    ssim: float
    frontal_probability: float | None  # None: the bundle has no stage 2
    accepted: bool


@dataclass(frozen=True, eq=False)
class Gate:
    """A calibrated consistency check from gate.json: the average radiograph, the SSIM method and threshold,
    and optionally the stage-2 model with its threshold on P(frontal chest radiograph)."""

    average: np.ndarray
    threshold: float
    method: str = "ssim"
    frontal_model: Classifier | None = None
    frontal_threshold: float | None = None

    def __post_init__(self) -> None:
        if (self.frontal_model is None) != (self.frontal_threshold is None):
            raise ValueError("a stage-2 model needs a threshold, and a threshold needs a model")
        if self.frontal_model is not None and FRONTAL_LABEL not in self.frontal_model.labels:
            raise ValueError(f"the stage-2 model has no {FRONTAL_LABEL!r} output")

    def score(self, model_input: np.ndarray) -> float:
        return consistency_score(model_input, self.average, self.method)

    def accepts(self, score: float) -> bool:
        return score >= self.threshold

    def frontal_probability(self, model_input: np.ndarray) -> float | None:
        """P(frontal chest radiograph) from the stage-2 model; None without one."""
        if self.frontal_model is None:
            return None
        probabilities = self.frontal_model.predict(np.asarray(model_input)[np.newaxis])[0]
        return float(probabilities[self.frontal_model.labels.index(FRONTAL_LABEL)])

    def check(self, model_input: np.ndarray) -> GateVerdict:
        """Both stages on one model input. Stage 2 runs even when SSIM already rejects (well under a
        millisecond), so the answer always reports both scores."""
        ssim = self.score(model_input)
        frontal = self.frontal_probability(model_input)
        accepted = self.accepts(ssim) and (
            frontal is None or self.frontal_threshold is None or frontal >= self.frontal_threshold
        )
        return GateVerdict(ssim=ssim, frontal_probability=frontal, accepted=accepted)
