"""Choose the consistency check's method and threshold, and measure what it rejects.

The threshold keeps ``keep`` (99%) of the *training* radiographs; validation radiographs give the
false-rejection rate and each kind of ``not-chest-xray`` image its rejection rate. When negatives are
given, the method (see ``function.gate``) with the highest mean rejection over the kinds wins; this is
a measured choice, recorded in gate.json with every candidate's figures. The choice is made on
``choose_on`` when given (the negatives the learned stage trains on), so the held-back negatives the
rates are reported on never pick anything.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from function.gate import GATE_METHODS, consistency_score
from function.imaging import ImageError, InputSpec

NEGATIVE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".dcm"}


def read_negative_kinds(folder: Path, spec: InputSpec) -> dict[str, tuple[np.ndarray, list[str]]]:
    """{kind: ((N, size, size, 1) model inputs, their files' sha256)} for each subfolder, in name order.
    Files the API would refuse before the gate are skipped: they say nothing about the gate."""
    kinds: dict[str, tuple[np.ndarray, list[str]]] = {}
    for kind_folder in sorted(p for p in folder.iterdir() if p.is_dir()):
        inputs, hashes = [], []
        for path in sorted(kind_folder.iterdir()):
            if path.suffix.lower() not in NEGATIVE_SUFFIXES:
                continue
            data = path.read_bytes()
            try:
                inputs.append(spec.from_bytes(data))
            except ImageError:
                continue
            hashes.append(hashlib.sha256(data).hexdigest())
        if inputs:
            kinds[kind_folder.name] = (np.stack(inputs), hashes)
    return kinds


def load_negatives(folder: Path, spec: InputSpec) -> dict[str, np.ndarray]:
    """{kind: (N, size, size, 1)} for each subfolder of a not-chest-xray folder."""
    return {kind: inputs for kind, (inputs, _) in read_negative_kinds(folder, spec).items()}


def scores(inputs: np.ndarray, average: np.ndarray, method: str) -> np.ndarray:
    return np.array([consistency_score(x, average, method) for x in inputs])


def _rejection_rates(
    kinds: dict[str, np.ndarray], average: np.ndarray, method: str, threshold: float
) -> dict[str, float]:
    return {
        kind: round(float((scores(images, average, method) < threshold).mean()), 4)
        for kind, images in kinds.items()
    }


def calibrate_gate(
    train_inputs: np.ndarray,
    validation_inputs: np.ndarray,
    average: np.ndarray,
    negatives: dict[str, np.ndarray] | None = None,
    keep: float = 0.99,
    choose_on: dict[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """gate.json content: method, threshold, false-rejection and per-kind rejection rates, all candidates."""
    candidates: dict[str, dict[str, Any]] = {}
    choice_score: dict[str, float] = {}
    for method in GATE_METHODS:
        threshold = float(np.quantile(scores(train_inputs, average, method), 1.0 - keep))

        rejection = _rejection_rates(negatives or {}, average, method, threshold)
        chooser = _rejection_rates(choose_on, average, method, threshold) if choose_on else rejection
        choice_score[method] = float(np.mean(list(chooser.values()))) if chooser else 0.0
        candidates[method] = {
            "threshold": round(threshold, 6),
            "false_rejection_rate": {
                "train": round(1.0 - keep, 4),
                "validation": round(
                    float((scores(validation_inputs, average, method) < threshold).mean()), 4
                ),
            },
            "rejection_rate": rejection,
            "mean_rejection_rate": round(float(np.mean(list(rejection.values()))), 4) if rejection else None,
        }
    best_rejection = max(GATE_METHODS, key=lambda m: choice_score[m])
    method = best_rejection if negatives else "ssim"
    judged_on = "the learned stage's training negatives" if choose_on else "the negative kinds"
    chosen_by = f"highest mean rejection over {judged_on}" if negatives else "default"
    chosen = candidates[method]
    return {
        "method": method,
        "threshold": chosen["threshold"],
        "false_rejection_rate": chosen["false_rejection_rate"],
        "rejection_rate": chosen["rejection_rate"],
        "calibration": {
            "rule": f"threshold = percentile {100 * (1 - keep):g} of the training radiographs' scores",
            "keep": keep,
            "chosen_by": chosen_by,
            "negatives": {kind: len(images) for kind, images in (negatives or {}).items()},
            "candidates": candidates,
        },
    }
