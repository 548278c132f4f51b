"""Which test-time views to bake into an ensemble, judged on the tuning split only.

    .venv/bin/python -m bench.view_selection build/release-members/seed0 build/release-members/seed1 ...

For each member alone and for all members together: accuracy and log loss on the tuning split (carved from
the training data, never the validation split) of the mean probability over each candidate set of views:
none, the two zooms of ``training.views``, four 4-pixel shifts, and a mirror image. The members' Keras
models run in float32; the members must share one split (as an ensemble's do).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np

from infra.locations import ADULT_SET, TRAINING_SET
from training.bundle_split import prepare_as_trained
from training.calibration import negative_log_likelihood
from training.views import VIEW_SETS

SHIFT = 4  # pixels at 128x128; training shifts by up to 6% (about 8 pixels)


def _zoomed(images: np.ndarray, scale: float) -> np.ndarray:
    import tensorflow as tf

    size = images.shape[1]
    scaled = tf.image.resize(images, (round(size * scale), round(size * scale)), method="bilinear")
    return tf.image.resize_with_crop_or_pad(scaled, size, size).numpy()


def _shifted(images: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """Moved by (rows, columns) pixels, the uncovered edge filled with 0 as the training shifts fill it."""
    height, width = images.shape[1:3]
    moved = np.zeros_like(images)
    moved[:, max(0, rows) : height + min(0, rows), max(0, columns) : width + min(0, columns)] = images[
        :, max(0, -rows) : height - max(0, rows), max(0, -columns) : width - max(0, columns)
    ]
    return moved


CANDIDATES: dict[str, list[Callable[[np.ndarray], np.ndarray]]] = {
    "none": [lambda x: x],
    "zoom": [lambda x, s=scale: x if s == 1.0 else _zoomed(x, s) for scale in VIEW_SETS["zoom"]],
    "shift": [lambda x: x]
    + [lambda x, r=r, c=c: _shifted(x, r, c) for r, c in ((SHIFT, 0), (-SHIFT, 0), (0, SHIFT), (0, -SHIFT))],
    "mirror": [lambda x: x, lambda x: x[:, :, ::-1]],
}


def view_selection(members: list[Path]) -> str:
    import keras

    from function.bundle_format import MODEL_KERAS

    _, _, prepared = prepare_as_trained(members[0], [TRAINING_SET, ADULT_SET])
    inputs, truth = prepared.inputs[prepared.split.tune], prepared.labels[prepared.split.tune]
    outputs: dict[str, dict[str, np.ndarray]] = {}  # member -> candidate -> mean over its views
    for member in members:
        model = keras.models.load_model(member / MODEL_KERAS, compile=False)
        outputs[member.name] = {
            name: np.mean([model.predict(view(inputs), batch_size=256, verbose=0) for view in views], axis=0)
            for name, views in CANDIDATES.items()
        }
    rows = {
        **outputs,
        "all members": {n: np.mean([o[n] for o in outputs.values()], axis=0) for n in CANDIDATES},
    }
    lines = [
        f"tuning split: {len(truth)} images; accuracy / log loss of the mean over each set of views",
        "",
        "| members | " + " | ".join(CANDIDATES) + " |",
        "|---|" + "---|" * len(CANDIDATES),
    ]
    for name, by_view in rows.items():
        cells = [
            f"{(p.argmax(axis=1) == truth).mean():.2%} / {negative_log_likelihood(p, truth):.4f}"
            for p in by_view.values()
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("members", type=Path, nargs="+", help="member bundles trained on one split")
    print(view_selection(parser.parse_args().members))


if __name__ == "__main__":
    main()
