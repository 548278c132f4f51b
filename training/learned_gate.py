"""Add the learned second stage to a calibrated SSIM gate and measure the two stages together."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from function.classifier import Classifier
from function.gate import FRONTAL_LABEL, Gate
from training.gate_model import GATE_LABELS, KIND_WEIGHTS, NegativeSplit, train_gate_model

MAX_SECOND_STAGE_THRESHOLD = 0.5
SECOND_STAGE_KEEP = 0.995


def _frontal_probability(classifier: Classifier, inputs: np.ndarray) -> np.ndarray:
    return classifier.predict(inputs)[:, GATE_LABELS.index(FRONTAL_LABEL)]


def build_learned_gate(
    gate: dict[str, Any],
    inputs: np.ndarray,
    split: Any,
    negatives: NegativeSplit,
    average: np.ndarray,
    seed: int,
    model_path: Path,
) -> dict[str, Any]:
    """Train the stage-2 model (checkpointed beside the bundle being written), choose its threshold on
    the tuning radiographs, report both stages."""
    from training.export import to_tflite

    model, progress = train_gate_model(
        inputs[split.fit], negatives.train, seed, checkpoint_out=model_path.parent
    )
    tflite = to_tflite(model)
    model_path.write_bytes(tflite)
    classifier = Classifier(tflite, GATE_LABELS)
    tune_scores = _frontal_probability(classifier, inputs[split.tune])
    threshold = float(min(MAX_SECOND_STAGE_THRESHOLD, np.quantile(tune_scores, 1.0 - SECOND_STAGE_KEEP)))

    served = Gate(  # the served check itself, so the reported rates are the function's
        average=np.asarray(average).squeeze(),
        threshold=gate["threshold"],
        method=gate["method"],
        frontal_model=classifier,
        frontal_threshold=threshold,
    )

    def accepted(images: np.ndarray) -> np.ndarray:
        return np.array([served.check(image).accepted for image in images])

    rejection = {
        kind: round(float(1 - accepted(images).mean()), 4) for kind, images in negatives.held_back.items()
    }
    false_rejection = {
        "tuning": round(float(1 - accepted(inputs[split.tune]).mean()), 4),
        "validation": round(float(1 - accepted(inputs[split.validation]).mean()), 4),
    }
    return {
        **gate,
        "model": model_path.name,
        "model_labels": list(GATE_LABELS),
        "model_threshold": round(threshold, 6),
        "rejection_rate": rejection,
        "false_rejection_rate": false_rejection,
        "ssim_stage_only": {
            "rejection_rate": gate["rejection_rate"],
            "false_rejection_rate": gate["false_rejection_rate"],
        },
        "held_back": {
            "negatives": {kind: len(images) for kind, images in negatives.held_back.items()},
            "radiographs": f"the validation split ({len(split.validation)} images)",
            "files": "gate_held_back_files.txt (sha256 and kind of each held-back negative)"
            + (
                "; synthetic: drawn by training/synthetic_negatives.py"
                if "synthetic" in negatives.held_back
                else ""
            ),
        },
        "model_training": {
            "negatives": {kind: len(images) for kind, images in negatives.train.items()},
            "positives": "the fit split's radiographs (up to 3000), half jittered (crop, gamma, mirror)",
            "kind_weights": {kind: KIND_WEIGHTS.get(kind, 1.0) for kind in negatives.train},
            "resumed_at_epochs": progress.resumed_at,  # a cut-off fit goes on from its checkpoint
            "threshold_rule": f"percentile {100 * (1 - SECOND_STAGE_KEEP):.1f} of the tuning radiographs' "
            f"P(frontal), capped at {MAX_SECOND_STAGE_THRESHOLD}",
        },
    }
