"""Classification figures computed one way for training, evaluate and reports: plain numpy, no sklearn."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from function.bundle_format import LABELS


def confusion_matrix(truth: Sequence[int], predicted: Sequence[int], n: int = len(LABELS)) -> np.ndarray:
    """Rows are the true class, columns the predicted class."""
    matrix = np.zeros((n, n), dtype=np.int64)
    np.add.at(matrix, (np.asarray(truth), np.asarray(predicted)), 1)
    return matrix


def classification_report(
    truth: Sequence[int], probabilities: np.ndarray, labels: Sequence[str] = LABELS
) -> dict[str, Any]:
    """{"accuracy", "n", "per_class": {label: precision, recall, f1, support}, "confusion_matrix"}."""
    truth = np.asarray(truth)
    predicted = np.asarray(probabilities).argmax(axis=1)
    matrix = confusion_matrix(truth, predicted, len(labels))
    per_class = {}
    for index, label in enumerate(labels):
        true_positive = int(matrix[index, index])
        predicted_count = int(matrix[:, index].sum())
        support = int(matrix[index].sum())
        precision = true_positive / predicted_count if predicted_count else 0.0
        recall = true_positive / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {
            "precision": round(precision, 6),
            "recall": round(recall, 6),
            "f1": round(f1, 6),
            "support": support,
        }
    return {
        "accuracy": round(float((predicted == truth).mean()) if len(truth) else 0.0, 6),
        "n": len(truth),
        "per_class": per_class,
        "confusion_matrix": matrix.tolist(),
    }
