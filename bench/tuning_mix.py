"""Does the tuning split look like the data it stands for? Source shares of the release recipe's splits.

    .venv/bin/python -m bench.tuning_mix --seeds 5

The screening recipe fits its early stopping, temperature and COVID-19 screening threshold on a tuning
split carved out of the training split. With patient groups of very different sizes per source (BIMCV's
runs of up to 28 films, RSNA's single films), a carve-out drawn by class alone can take a source's share
far from the rest of the training split, and the threshold is then fitted on another mix of hospitals
than the validation split holds (``bench.threshold_by_source``). For every split seed and both ways of
drawing the tuning split (``--tuning-strata``), this prints, per class, the largest gap in points between
a source's share of the tuning split and its share of the validation split, and the full COVID-19 mix.
Reads file lists and manifests only: no images, no model.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from function.bundle_format import LABELS
from infra.locations import ADULT_SET, TRAINING_SET
from training.cohorts import Cohort, cohorts_for
from training.data import list_examples
from training.recipes import TUNING_STRATA
from training.train import Split, TrainConfig, split_examples

COVID = LABELS.index("COVID-19")


def source_shares(indices: np.ndarray, labels: np.ndarray, cohorts: Sequence[Cohort], label: int) -> Counter:
    """{source: share of the films of ``label`` among ``indices``} (fractions summing to 1)."""
    sources = Counter(cohorts[i].source for i in indices if labels[i] == label)
    total = sum(sources.values())
    return Counter({source: count / total for source, count in sources.items()})


def largest_gap(first: Counter, second: Counter) -> tuple[float, str]:
    """The largest difference in share between two mixes, and the source it belongs to."""
    return max((abs(first[source] - second[source]), source) for source in set(first) | set(second))


def _splits(seed: int, labels: np.ndarray, cohorts: list[Cohort]) -> dict[str, Split]:
    configs = {
        strata: TrainConfig(
            data=[TRAINING_SET, ADULT_SET],
            out=Path("."),
            recipe="screening",
            split="grouped",
            seed=seed,
            tuning_strata=strata,
        )
        for strata in TUNING_STRATA
    }
    return {strata: split_examples(config, labels, cohorts) for strata, config in configs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=5, help="split seeds 0 .. N-1 (the release uses 0)")
    args = parser.parse_args()
    examples = list_examples([TRAINING_SET, ADULT_SET])
    cohorts = cohorts_for(examples, [TRAINING_SET, ADULT_SET])
    labels = np.array([example.label for example in examples])

    gap_columns = " | ".join(f"{name}: largest gap to validation" for name in LABELS)
    print(f"| seed | tuning split by | tuning films | {gap_columns} |")
    print("|---|---|---|" + "---|" * len(LABELS))
    covid_mixes: list[tuple[str, Counter]] = []
    for seed in range(args.seeds):
        for strata, split in _splits(seed, labels, cohorts).items():
            gaps = []
            for label in range(len(LABELS)):
                tune = source_shares(split.tune, labels, cohorts, label)
                gap, source = largest_gap(tune, source_shares(split.validation, labels, cohorts, label))
                gaps.append(f"{100 * gap:.0f} pts ({source})" if gap >= 0.005 else "0")
                if seed == 0 and label == COVID:
                    covid_mixes.append((f"tuning, by {strata}", tune))
            print(f"| {seed} | {strata} | {len(split.tune)} | " + " | ".join(gaps) + " |")
            if seed == 0 and strata == TUNING_STRATA[0]:
                covid_mixes.append(("validation", source_shares(split.validation, labels, cohorts, COVID)))

    sources = sorted({source for _, mix in covid_mixes for source in mix})
    print("\nCOVID-19 films by source, seed 0 (the release's split):\n")
    print("| part | " + " | ".join(sources) + " |")
    print("|---|" + "---|" * len(sources))
    for name, mix in covid_mixes:
        print(f"| {name} | " + " | ".join(f"{100 * mix[source]:.0f}%" for source in sources) + " |")


if __name__ == "__main__":
    main()
