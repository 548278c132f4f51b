"""``python -m training gate``: rebuild a bundle's consistency check without retraining its classifier.

The check (SSIM threshold, learned second stage) depends on the classifier's data split but not on its
weights. New kinds of negatives, or a better stage-2 recipe, should not cost a classifier retrain that
would also change every reported accuracy. The split is recomputed from the manifest's training record and
must reproduce the bundle's validation_files.txt exactly, so the held-out radiographs stay held out.
An interrupted rebuild resumes the second stage's fit from its checkpoint (``BUNDLE/.resume-gate``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from function.bundle_format import GATE
from training.bundle_split import prepare_as_trained
from training.checkpoint import remove as remove_checkpoints
from training.recipes import RECIPES
from training.repeatable import make_repeatable
from training.train import build_gate


def rebuild_gate(
    bundle: Path, data: list[Path], negatives: Path, synthetic_negatives: int | None = None
) -> dict[str, Any]:
    """Rewrite the bundle's gate files and manifest in place; returns the new gate.json content.
    ``synthetic_negatives``: drawn non-radiographs added to the second stage; None keeps what the bundle's
    check was built with (a rebuild must not quietly drop them), and the manifest records the count."""
    manifest, config, prepared = prepare_as_trained(bundle, data, negatives)
    if synthetic_negatives is not None:
        config = dataclasses.replace(config, synthetic_negatives=synthetic_negatives)

    from training import export

    make_repeatable(None)  # as in training: same seed, same gate (build_gate seeds its own draws)
    gate = build_gate(config, RECIPES[config.recipe], prepared.inputs, prepared.split, bundle)

    export.write_json(bundle / GATE, gate)
    record = {"negatives": negatives.name, "synthetic_negatives": config.synthetic_negatives}
    export.rewrite_manifest(bundle, manifest, "gate_rebuilt", record)
    remove_checkpoints(bundle)  # the check's fit is checkpointed in the bundle until it is written
    return gate
