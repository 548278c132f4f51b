"""Does the screening augmentation draw the same images in two processes with the same seed?

    .venv/bin/python -m bench.augmentation_determinism [--aspect]

Runs ``training.augment.augmented_dataset`` over the same 200 random 32x32 images with the same seeds in
two fresh processes and prints a digest of each run's output: equal digests mean a member's augmentation
is bit-reproducible, different ones that only its figures can agree (docs/model-card.md, "Seed-to-seed
spread of the release's recipe"). Reporting only.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys

IMAGES, SIDE, SEED = 200, 32, 5


def digest(aspect: bool) -> str:
    """One run in this process: keras seeded as training seeds it, then the augmented images' sha256."""
    import keras
    import numpy as np

    from training.augment import augmented_dataset

    keras.utils.set_random_seed(0)
    images = np.random.default_rng(0).random((IMAGES, SIDE, SIDE, 1)).astype(np.float32)
    dataset = augmented_dataset(images, np.zeros(IMAGES), 32, SEED, aspect=aspect)
    out = np.concatenate([np.asarray(batch) for batch, _ in dataset])
    return hashlib.sha256(out.tobytes()).hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--aspect", action="store_true", help="with train --augment-aspect's step")
    parser.add_argument("--one-run", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.one_run:
        print(digest(arguments.aspect))
        return
    command = [sys.executable, "-m", "bench.augmentation_determinism", "--one-run"]
    command += ["--aspect"] if arguments.aspect else []
    runs = [
        subprocess.run(command, capture_output=True, text=True, check=True).stdout.split()[-1]
        for _ in range(2)
    ]
    verdict = "the same draws" if runs[0] == runs[1] else "different draws"
    print(f"two processes, seed {SEED}: {runs[0]} and {runs[1]}: {verdict}")


if __name__ == "__main__":
    main()
