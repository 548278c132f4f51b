"""How much an image-level split flatters a bundle: validation accuracy on films whose patient also has
films in the training data, against films whose patient does not.

    .venv/bin/python -m bench.patient_overlap /tmp/image-both-128

The split is recomputed from the bundle's manifest and must reproduce its ``validation_files.txt``
(``training.bundle_split``); patient groups come from the data manifests (``training.cohorts``). On a
patient-grouped bundle every validation film is in the second row.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from function.bundle import FolderSource, load_bundle
from infra.locations import ADULT_SET, TRAINING_SET
from training.bundle_split import prepare_as_trained


def overlap_table(bundle: Path) -> str:
    _, _, prepared = prepare_as_trained(bundle, [TRAINING_SET, ADULT_SET])
    split, cohorts = prepared.split, prepared.cohorts
    seen_groups = {cohorts[i].group for i in np.concatenate([split.train, split.tune])}
    validation = split.validation
    seen = np.array([cohorts[i].group in seen_groups for i in validation], dtype=bool)
    loaded = load_bundle(FolderSource(bundle))
    truth = prepared.labels[validation]
    right = loaded.classifier.predict(prepared.inputs[validation]).argmax(axis=1) == truth
    header = " | ".join(f"{label} recall (n)" for label in loaded.labels)
    lines = [f"| validation films | n | accuracy | {header} |", "|---|---|---|" + "---|" * len(loaded.labels)]
    for name, rows in (("patient also in training", seen), ("patient not in training", ~seen)):
        recalls = []
        for index in range(len(loaded.labels)):
            of_class = rows & (truth == index)
            share = f"{right[of_class].mean():.1%}" if of_class.any() else "-"
            recalls.append(f"{share} ({int(of_class.sum())})")
        accuracy = f"{right[rows].mean():.1%}" if rows.any() else "-"
        lines.append(f"| {name} | {int(rows.sum())} | {accuracy} | {' | '.join(recalls)} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    print(overlap_table(parser.parse_args().bundle))


if __name__ == "__main__":
    main()
