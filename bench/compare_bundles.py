"""Do two bundles read the same images the same way? Argmax agreement and probability differences of
their ``model.tflite`` on the first bundle's validation images.

    .venv/bin/python -m bench.compare_bundles models/release build/ens3-float32

For checking a re-export of one model (int8 against float32 weights, a new converter): accuracy alone
can stay equal while individual readings move.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from function.bundle import FolderSource, load_bundle
from infra.locations import ADULT_SET, TRAINING_SET
from training.data import load_images
from training.evaluate import bundle_validation_set


def compare(first: Path, second: Path) -> str:
    bundles = [load_bundle(FolderSource(bundle)) for bundle in (first, second)]
    if bundles[0].input_spec != bundles[1].input_spec or bundles[0].labels != bundles[1].labels:
        raise SystemExit("the bundles differ in input size, preprocessing or labels: nothing to compare")
    examples, _ = bundle_validation_set(first, (TRAINING_SET, ADULT_SET))
    inputs = load_images(examples, bundles[0].input_spec, progress=False)
    truth = np.array([example.label for example in examples])
    first_p, second_p = (bundle.classifier.predict(inputs) for bundle in bundles)
    difference = np.abs(first_p - second_p)
    same = first_p.argmax(axis=1) == second_p.argmax(axis=1)
    accuracy = [f"{(p.argmax(axis=1) == truth).mean():.4f}" for p in (first_p, second_p)]
    return "\n".join(
        [
            f"images: {len(examples)} (validation split of {first.name})",
            f"same argmax: {int(same.sum())} of {len(same)}",
            f"largest |p1 - p2|: {difference.max():.4f}; mean {difference.mean():.5f}",
            f"argmax accuracy: {accuracy[0]} ({first.name}) and {accuracy[1]} ({second.name})",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    args = parser.parse_args()
    print(compare(args.first, args.second))


if __name__ == "__main__":
    main()
