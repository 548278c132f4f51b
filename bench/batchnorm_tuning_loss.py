"""The tuning-split loss of each member under three sets of batch-norm statistics, weights held fixed.

    .venv/bin/python -m bench.batchnorm_tuning_loss models/release models/candidates/seed-spread/seed3 ...

Every argument is a bundle trained on one split (a member, or an ensemble counted as its members). Each
member network is read on the tuning split (float32, negative log-likelihood) with the statistics it was
trained with (the moving average of its last augmented batches), then with every batch-norm layer set to
the exact statistics of one augmented pass over the fit split (training's augmentation, seeded), then of
the clean fit split (``training.batchnorm``, what ``training recompute-batchnorm`` does). Only the tuning
split is read: this is what chose to try the recomputation (docs/model-experiments.md, "Batch-norm
statistics recomputed on clean films") without looking at validation.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from bench.ensemble_spread import member_networks
from infra.locations import ADULT_SET, TRAINING_SET
from training.batchnorm import recompute_network
from training.bundle_split import prepare_as_trained
from training.calibration import negative_log_likelihood

AUGMENTATION_SEED = 12345  # the one augmented pass; any seed, fixed so the figures repeat


def augmented_pass(inputs: np.ndarray, labels: np.ndarray, batch_size: int) -> np.ndarray:
    """One epoch of training's augmentation over ``inputs``, seeded as training seeds itself."""
    from training.augment import augmented_dataset
    from training.repeatable import make_repeatable

    make_repeatable(0)
    batches = augmented_dataset(inputs, labels, batch_size, AUGMENTATION_SEED)
    return np.concatenate([np.asarray(images) for images, _ in batches])


def batchnorm_tuning_loss(bundles: list[Path]) -> str:
    _, config, prepared = prepare_as_trained(bundles[0], [TRAINING_SET, ADULT_SET])
    fit, tune = prepared.split.fit, prepared.split.tune
    fit_inputs, tune_inputs, truth = prepared.inputs[fit], prepared.inputs[tune], prepared.labels[tune]
    augmented = augmented_pass(fit_inputs, prepared.labels[fit], config.batch_size)
    lines = [
        f"tuning-split loss (negative log-likelihood, {len(tune)} films, float32) by batch-norm statistics",
        "",
        "| member | as trained | one augmented pass over the fit split | the clean fit split |",
        "|---|---|---|---|",
    ]
    for bundle in bundles:
        for name, network in member_networks(bundle):
            losses = [negative_log_likelihood(network.predict(tune_inputs, batch_size=256, verbose=0), truth)]
            for statistics_of in (augmented, fit_inputs):
                recompute_network(network, statistics_of)
                losses.append(
                    negative_log_likelihood(network.predict(tune_inputs, batch_size=256, verbose=0), truth)
                )
            lines.append(f"| {bundle.name} {name} | " + " | ".join(f"{loss:.4f}" for loss in losses) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("bundle", type=Path, nargs="+")
    print(batchnorm_tuning_loss(parser.parse_args().bundle))


if __name__ == "__main__":
    main()
