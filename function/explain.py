"""Occlusion sensitivity: where hiding part of the image lowers the served model's reading the most.

Computed on request with the served LiteRT model itself (no gradients, no TensorFlow, nothing exported
at training time): a square patch about 1/8 of the side, filled with the image's mean, slides over the
model input in steps of half a patch; each occluded copy is read by the model, and each patch's drop is
spread over its pixels, overlapping patches averaged. The drop is measured on the predicted class's
log-odds, log p / (1 - p), with 1 - p taken as the sum of the other classes' probabilities: it ranks
single patches exactly as the probability would, but a saturated softmax (p = 1.0 in float32) still
shows which patches move it. The map is scaled to [0, 1]: 1 where hiding the region lowers the class
most, 0 where hiding it changes nothing or raises the class.

It shows what the model relies on, not where a finding is: a map over the lungs is reassuring, one over
the edges, labels or collimation suggests a shortcut.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

PATCH_FRACTION = 1 / 8
TINY = 1e-45
"""Floor for probabilities before taking logs: about float32's smallest subnormal, where LiteRT's
softmax output gives out."""


class BatchModel(Protocol):
    def predict(self, batch: np.ndarray) -> np.ndarray: ...


def patch_starts(side: int, patch: int, stride: int) -> list[int]:
    """Top (or left) edges of the patches along one side; the last patch ends exactly at the edge."""
    starts = list(range(0, side - patch + 1, stride))
    if starts[-1] != side - patch:
        starts.append(side - patch)
    return starts


def class_log_odds(probabilities: np.ndarray, index: int) -> np.ndarray:
    """log p_index - log(sum of the other probabilities), row-wise, in float64."""
    p = np.asarray(probabilities, dtype=np.float64)
    others = np.delete(p, index, axis=-1).sum(axis=-1)
    return np.log(np.clip(p[..., index], TINY, None)) - np.log(np.clip(others, TINY, None))


def occlusion_map(
    model: BatchModel, model_input: np.ndarray, class_index: int, patch_fraction: float = PATCH_FRACTION
) -> np.ndarray:
    """(H, W) float32 in [0, 1] for one (H, W, 1) model input; all zeros if no patch lowers the class."""
    image = np.asarray(model_input, dtype=np.float32)
    height, width = image.shape[:2]
    patch_h, patch_w = max(1, round(height * patch_fraction)), max(1, round(width * patch_fraction))
    boxes = [
        (top, left)
        for top in patch_starts(height, patch_h, max(1, patch_h // 2))
        for left in patch_starts(width, patch_w, max(1, patch_w // 2))
    ]
    batch = np.repeat(image[np.newaxis], len(boxes) + 1, axis=0)  # row 0 stays whole: the baseline
    fill = float(image.mean())
    for row, (top, left) in enumerate(boxes, start=1):
        batch[row, top : top + patch_h, left : left + patch_w] = fill
    scores = class_log_odds(model.predict(batch), class_index)
    drops = scores[0] - scores[1:]
    total = np.zeros((height, width), dtype=np.float64)
    count = np.zeros((height, width), dtype=np.float64)
    for drop, (top, left) in zip(drops, boxes, strict=True):
        total[top : top + patch_h, left : left + patch_w] += drop
        count[top : top + patch_h, left : left + patch_w] += 1
    sensitivity = np.clip(total / count, 0.0, None)
    peak = float(sensitivity.max())
    if not np.isfinite(peak) or peak <= 0.0:
        return np.zeros((height, width), dtype=np.float32)
    return (sensitivity / peak).astype(np.float32)
