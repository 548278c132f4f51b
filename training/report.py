"""Reports beyond one accuracy: per source and age group with patient-grouped bootstrap intervals, and
the shortcut probes (lung fields blacked out, image border cropped away)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from function.bundle_format import LABELS
from training.cohorts import Cohort, bootstrap_interval


def _group_figures(truth: np.ndarray, predicted: np.ndarray, groups: list[str]) -> dict[str, Any]:
    correct = (truth == predicted).astype(np.float64)
    recall = {}
    for index, label in enumerate(LABELS):
        members = truth == index
        if members.any():
            recall[label] = {
                "n": int(members.sum()),
                "recall": round(float(correct[members].mean()), 4),
                "ci95": bootstrap_interval(
                    correct[members], [g for g, m in zip(groups, members, strict=True) if m]
                ),
            }
    return {
        "n": len(truth),
        "accuracy": round(float(correct.mean()), 4),
        "ci95": bootstrap_interval(correct, groups),
        "recall": recall,
    }


def count_of(figures: dict[str, Any], key: str) -> int:
    """How many of a cohort's ``n`` films a share (``"accuracy"`` or ``"recall"``) stands for. Shares are
    stored with four decimals, and a percentage taken from the rounded share can be off in its last
    place (946 of 987 is 95.846%, stored 0.9585, printed again 95.9%): reports print from the count.
    Exact for groups under 10000 films."""
    return round(figures[key] * figures["n"])


def cohort_report(
    truth: Sequence[int], probabilities: np.ndarray, cohorts: Sequence[Cohort]
) -> dict[str, Any]:
    """Overall, by source and by age group: accuracy and per-class recall, 95% intervals by patient group."""
    truth = np.asarray(truth)
    predicted = np.asarray(probabilities).argmax(axis=1)
    groups = [c.group for c in cohorts]
    report: dict[str, Any] = {"overall": _group_figures(truth, predicted, groups)}
    for key in ("source", "age"):
        members: dict[str, list[int]] = defaultdict(list)
        for index, cohort in enumerate(cohorts):
            members[getattr(cohort, key)].append(index)
        report[f"by_{key}"] = {
            name: _group_figures(truth[rows], predicted[rows], [groups[i] for i in rows])
            for name, rows in sorted(members.items())
        }
    return report


def lung_field_mask(size: int) -> np.ndarray:
    """(size, size) float32: 1 inside two ellipses where the lungs of a frontal film usually lie (centres at
    30% / 70% of the width, 48% of the height; radii 18% x 32%), 0 elsewhere. The shortcut check hides
    them; ``bench.heatmap_location`` asks how much of a heatmap falls in them."""
    mask = np.zeros((size, size), dtype=np.float32)
    for centre_x in (0.30, 0.70):
        cv2.ellipse(
            mask,
            (round(centre_x * size), round(0.48 * size)),
            (round(0.18 * size), round(0.32 * size)),
            0,
            0,
            360,
            1.0,
            thickness=-1,
        )
    return mask


def black_out_lung_fields(inputs: np.ndarray) -> np.ndarray:
    """Zero the lung fields (``lung_field_mask``): what is left is the border, the mediastinum and the
    labels."""
    mask = 1.0 - lung_field_mask(inputs.shape[1])
    return inputs * mask[np.newaxis, :, :, np.newaxis]


def crop_border(inputs: np.ndarray, fraction: float = 0.15) -> np.ndarray:
    """Cut ``fraction`` of the side away on every edge and resize back: markers and corners disappear."""
    size = inputs.shape[1]
    margin = round(size * fraction)
    cropped = [
        cv2.resize(
            image[margin : size - margin, margin : size - margin, 0],
            (size, size),
            interpolation=cv2.INTER_AREA,
        )
        for image in inputs
    ]
    return np.stack(cropped)[..., np.newaxis].astype(np.float32)


PERTURBATIONS = {"lungs-blacked-out": black_out_lung_fields, "border-cropped": crop_border}
