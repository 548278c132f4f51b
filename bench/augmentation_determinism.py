"""Does the screening augmentation draw the same images in two processes with the same seed?

    .venv/bin/python -m bench.augmentation_determinism [--aspect]

Runs ``training.augment.augmented_dataset`` over the same 200 random 32x32 images with the same seeds, two
epochs, in two fresh processes and prints a digest of each run's output, twice: set up as training sets
itself up (``training.repeatable.make_repeatable``: seeds and TensorFlow's op determinism), and with the
seeds alone. Equal digests mean a member's augmentation is bit-reproducible on this machine, different ones
that only its figures can agree (docs/model-experiments.md, "Seed-to-seed spread of the release's
recipe").
Reporting only; ``tests/integration/test_repeatable.py`` holds training's case to it.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys

IMAGES, SIDE, EPOCHS = 200, 32, 2
SEED = 5
SETUPS = {"training's (make_repeatable)": "repeatable", "seeds only": "seeds-only"}


def digest(setup: str, seed: int, aspect: bool) -> str:
    """One run in this process, set up as ``setup`` says; the augmented images' sha256 over two epochs."""
    import keras
    import numpy as np

    from training.augment import augmented_dataset
    from training.repeatable import make_repeatable

    if setup == "repeatable":
        make_repeatable(0)
    else:
        keras.utils.set_random_seed(0)
    images = np.random.default_rng(0).random((IMAGES, SIDE, SIDE, 1)).astype(np.float32)
    dataset = augmented_dataset(images, np.zeros(IMAGES), 32, seed, aspect=aspect)
    epochs = [np.concatenate([np.asarray(batch) for batch, _ in dataset]) for _ in range(EPOCHS)]
    return hashlib.sha256(np.concatenate(epochs).tobytes()).hexdigest()[:16]


def run_in_new_process(setup: str, seed: int, aspect: bool) -> str:
    """``digest`` in a fresh interpreter, so that nothing of this process's TensorFlow state carries over."""
    command = [sys.executable, "-m", "bench.augmentation_determinism", "--one-run", setup]
    command += ["--seed", str(seed)] + (["--aspect"] if aspect else [])
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.split()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--aspect", action="store_true", help="with train --augment-aspect's step")
    parser.add_argument("--seed", type=int, default=SEED, help="the augmentation's seed")
    parser.add_argument("--one-run", choices=SETUPS.values(), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.one_run:
        print(digest(arguments.one_run, arguments.seed, arguments.aspect))
        return
    for name, setup in SETUPS.items():
        runs = [run_in_new_process(setup, arguments.seed, arguments.aspect) for _ in range(2)]
        verdict = "the same draws" if runs[0] == runs[1] else "different draws"
        print(f"{name}, seed {arguments.seed}: {runs[0]} and {runs[1]}: {verdict}")


if __name__ == "__main__":
    main()
