"""The consistency check's recipe with the negative halves swapped: stage 2 trained on a bundle's
held-back half of each kind and measured on the half it was trained on.

    .venv/bin/python -m bench.gate_cross_check models/release
    .venv/bin/python -m bench.gate_cross_check models/release --seed 1   # other halves, other weights

The released check's rates are measured on one held-back half, which also informed the stage-2 recipe
(see docs/model-card.md). The swapped run gives a second estimate on negatives that never judged a recipe.
``--seed`` draws other halves and other initial weights for stage 2 (default: the bundle's seed, i.e. the
released halves swapped): with 17 to 40 images of a kind per half, a few seeds show how much of a rate is
the draw. A bundle whose check has drawn images among its negatives (``--synthetic-negatives``) gets them
here too, the training and held-back streams swapped like the halves.
Nothing is written to the bundle; the swapped stage-2 model goes to a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from function.bundle_format import AVERAGE_IMAGE
from function.imaging import average_input
from infra.locations import ADULT_SET, NOT_CHEST, TRAINING_SET
from training.bundle_split import prepare_as_trained
from training.calibrate_gate import calibrate_gate
from training.gate_model import NegativeSplit, split_negatives
from training.recipes import RECIPES
from training.repeatable import make_repeatable
from training.synthetic_negatives import add_drawn_kind


def cross_check(bundle: Path, seed: int | None = None) -> dict:
    from training.learned_gate import build_learned_gate

    _, config, prepared = prepare_as_trained(bundle, [TRAINING_SET, ADULT_SET], NOT_CHEST)
    make_repeatable(None)
    average = average_input((bundle / AVERAGE_IMAGE).read_bytes(), config.image_size)
    seed = config.seed if seed is None else seed
    halves = split_negatives(NOT_CHEST, config.input_spec, seed)
    if config.synthetic_negatives:  # the released recipe's drawn images, their two streams swapped too
        add_drawn_kind(halves, config.synthetic_negatives, config.input_spec, seed)
    swapped = NegativeSplit(train=halves.held_back, held_back=halves.train, held_back_files={})
    train, validation = prepared.inputs[prepared.split.train], prepared.inputs[prepared.split.validation]
    keep = RECIPES[config.recipe].gate_keep
    first_stage = calibrate_gate(train, validation, average, swapped.held_back, keep, choose_on=swapped.train)
    with tempfile.TemporaryDirectory() as folder:
        gate = build_learned_gate(
            first_stage,
            prepared.inputs,
            prepared.split,
            swapped,
            average,
            seed,
            Path(folder) / "gate.tflite",
        )
    return {
        "seed": seed,
        "measured_on": {kind: len(images) for kind, images in swapped.held_back.items()},
        **{key: gate[key] for key in ("rejection_rate", "false_rejection_rate", "model_threshold")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--seed", type=int, default=None, help="halves and stage-2 weights")
    args = parser.parse_args()
    print(json.dumps(cross_check(args.bundle, args.seed), indent=2))


if __name__ == "__main__":
    main()
