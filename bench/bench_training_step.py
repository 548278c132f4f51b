"""What one training run will cost on this machine, before committing hours to it.

    .venv/bin/python -m bench.bench_training_step --data-root ../shared/data

Times ``steps`` optimizer steps (batch 32, the recipes' size) and ``steps`` forward passes of each
network on random inputs of its size: a step costs the same whatever the pixels are. The split sizes come
from the real data and the real split code (``training.train.prepare``), so the projected epoch is
``ceil(fit / 32)`` steps plus ``ceil(monitored / 32)`` forward passes (the per-epoch validation) plus
one checkpoint (``training.resume``: weights and optimizer state written after every epoch), and a
run is that times its epoch budget (early stopping can only make it shorter). The augmentation pipeline
runs on its own threads beside the steps and is not timed. Image loading, export, evaluation and the gate
come on top (docs/benchmarks.md, "Training").
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.bench_warm_latency import timings
from training.checkpoint import Progress, checkpoint_dir, save
from training.machine import machine_description
from training.train import TrainConfig, prepare

BATCH = TrainConfig.batch_size  # the recipes train on batches of this size
WARM_UP = 2


@dataclass(frozen=True)
class Job:
    """A documented training command: what it trains, on which split of which folders."""

    name: str
    command: str
    recipe: str
    split: str
    folders: tuple[str, ...]
    image_size: int
    epochs: int
    architecture: str


FIRST = "covid19-radiography-128"
ADULT = "covid19-radiography-adult-128"
JOBS = (
    Job("the paper's model", "make paper", "paper", "image", (FIRST,), 64, 100, "paper-cnn"),
    Job(
        "a release member",
        "make release (x3)",
        "screening",
        "grouped",
        (FIRST, ADULT),
        128,
        40,
        "screening-cnn",
    ),
    Job(
        "a whole-split member",
        "train --recipe screening-whole-split",
        "screening-whole-split",
        "image",
        (FIRST,),
        128,
        40,
        "screening-cnn",
    ),
    Job(
        "a whole-split fullres member",
        "the same, --architecture screening-cnn-fullres",
        "screening-whole-split",
        "image",
        (FIRST,),
        128,
        40,
        "screening-cnn-fullres",
    ),
)


@dataclass(frozen=True)
class StepCost:
    train_seconds: float  # median of one optimizer step on a batch
    forward_seconds: float  # median of one inference pass on a batch
    checkpoint_seconds: float  # median of one end-of-epoch checkpoint (training.checkpoint.save)
    checkpoint_megabytes: float  # its size on disk: weights and the optimizer's state


def step_cost(architecture: str, size: int, steps: int) -> StepCost:
    """Median seconds of a training step and of a forward pass, compiled as ``training.train`` does."""
    import keras

    from training.model import ARCHITECTURES
    from training.repeatable import make_repeatable

    make_repeatable(0)  # training's deterministic ops, which can cost time
    model = ARCHITECTURES[architecture](size)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    inputs = rng.random((BATCH, size, size, 1), dtype=np.float32)
    labels = rng.integers(0, 3, BATCH)

    def timed(call: Callable[[], object]) -> float:
        return statistics.median(timings(call, steps, WARM_UP)) / 1000

    train_seconds = timed(lambda: model.train_on_batch(inputs, labels))
    forward_seconds = timed(lambda: model.predict_on_batch(inputs))
    with tempfile.TemporaryDirectory() as out:
        progress = Progress(epochs_done=1)
        checkpoint_seconds = timed(lambda: save(Path(out), model, {}, progress, None))
        stored = sum(f.stat().st_size for f in checkpoint_dir(Path(out)).iterdir())
    return StepCost(train_seconds, forward_seconds, checkpoint_seconds, stored / 1e6)


def split_sizes(job: Job, data_root: Path) -> tuple[int, int]:
    """(images the weights are fitted on, images evaluated after every epoch) for the job's split."""
    config = TrainConfig(
        data=[data_root / folder for folder in job.folders],
        out=Path(os.devnull),
        recipe=job.recipe,
        split=job.split,
        image_size=job.image_size,
    )
    split = prepare(config).split
    return len(split.fit), len(split.monitored)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=Path("../shared/data"))
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    print(f"machine: {machine_description()}; load average {os.getloadavg()[0]:.1f}")
    costs: dict[tuple[str, int], StepCost] = {}
    rows = []
    for job in JOBS:
        key = (job.architecture, job.image_size)
        if key not in costs:
            costs[key] = step_cost(job.architecture, job.image_size, args.steps)
        cost = costs[key]
        fit, monitored = split_sizes(job, args.data_root)
        epoch = (
            math.ceil(fit / BATCH) * cost.train_seconds
            + math.ceil(monitored / BATCH) * cost.forward_seconds
            + cost.checkpoint_seconds
        )
        rows.append(
            f"| {job.name} (`{job.command}`) | {job.architecture} {job.image_size}px | {fit} / {monitored} | "
            f"{cost.train_seconds:.3f} / {cost.forward_seconds:.3f} | "
            f"{cost.checkpoint_seconds:.2f} s, {cost.checkpoint_megabytes:.0f} MB | {epoch:.0f} s | "
            f"{job.epochs} | {epoch * job.epochs / 60:.0f} min |"
        )
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print(
        "| run | network | fit / monitored images | s per step / forward (batch 32) | checkpoint | epoch "
        "| epochs | run |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
