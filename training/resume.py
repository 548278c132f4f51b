"""Resumable training: a run killed part-way continues from its last finished epoch, not from zero.

A full-resolution member takes 97 minutes on 2 cores (docs/model-card.md); a working session, a spot
instance or a laptop lid ends sooner. After every epoch ``Checkpoint`` writes ``OUT/.resume``: the weights
with the optimizer's state (so the cosine schedule goes on from the step it reached), the epochs and
seconds spent, early stopping's memory (best loss, its weights, patience used) and the run's options.
``restore`` reads it back before ``model.fit`` and refuses a checkpoint written with other options. The
same command resumes; deleting ``OUT/.resume`` starts over. ``train`` removes it once the bundle is written.

A resumed run is not bit-identical to an uninterrupted one: the shuffle order and the augmentation draws
after the resume come from a seed derived from the epoch resumed at (``epoch_seed``), while an
uninterrupted run keeps exactly the draws it always had. The manifest records where a run was resumed.
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

CHECKPOINT_DIR = ".resume"
STATE = "state.json"
WEIGHTS = "weights.weights.h5"  # Keras wants the suffix; holds the optimizer's variables too
BEST_WEIGHTS = "best_weights.npz"


class CheckpointMismatch(ValueError):
    """The checkpoint in the output folder was written by a run with other options."""


@dataclass
class Progress:
    """What a checkpoint says about the run so far."""

    epochs_done: int = 0
    seconds: float = 0.0  # training time spent before this process started
    finished: bool = False  # fit ended (budget or early stop): the weights are the final ones
    resumed_at: list[int] = field(default_factory=list)  # epochs at which earlier processes took over
    early_stopping: dict[str, Any] | None = None  # wait, best, best_epoch, stopped_epoch


def epoch_seed(seed: int, first_epoch: int) -> int:
    """The shuffle/augmentation seed for a fit that starts at ``first_epoch``: ``seed`` itself from zero
    (so uninterrupted runs are unchanged), a different stream after a resume (not epoch 0's draws again)."""
    return seed + 1000 * first_epoch


def checkpoint_dir(out: Path) -> Path:
    return out / CHECKPOINT_DIR


def restore(model: Any, out: Path, options: dict[str, Any]) -> Progress:
    """Load the checkpoint in ``out`` into the compiled ``model``; a fresh ``Progress`` when there is none.

    Also rewinds ``out/history.csv`` to the checkpoint's epochs (the process may have logged an epoch it
    did not live to save)."""
    directory = _readable(checkpoint_dir(out))
    if directory is None:
        return Progress()
    state = json.loads((directory / STATE).read_text())
    options = json.loads(json.dumps(options))  # as stored: tuples become lists
    if state["options"] != options:
        stored = state["options"]
        changed = sorted(k for k in {**stored, **options} if stored.get(k) != options.get(k))
        raise CheckpointMismatch(
            f"{checkpoint_dir(out)} holds an interrupted run with other options "
            f"({', '.join(changed)} differ): run the same command to resume it, or delete that folder "
            "to start over"
        )
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    model.load_weights(directory / WEIGHTS)
    progress = Progress(**state["progress"])
    _rewind_history(out / "history.csv", progress.epochs_done)
    return progress


class Checkpoint(keras.callbacks.Callback):
    """Writes the checkpoint after every epoch and once more when fit ends (with early stopping's final
    weights). Put it after ``EarlyStopping`` in the callback list: it restores that callback's memory at
    the start and reads its decisions at the end of each epoch."""

    def __init__(
        self,
        out: Path,
        options: dict[str, Any],
        progress: Progress,
        early_stopping: keras.callbacks.EarlyStopping | None,
        clock: Any,
    ) -> None:
        super().__init__()
        self.out = out
        self.options = options
        self.progress = progress
        self.early_stopping = early_stopping
        self.clock = clock  # seconds of training spent in this process, so far
        self.seconds_before = progress.seconds
        if progress.epochs_done:
            progress.resumed_at.append(progress.epochs_done)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        remembered = self.progress.early_stopping
        if self.early_stopping is None or not remembered:
            return
        for name in ("wait", "best", "best_epoch", "stopped_epoch"):
            setattr(self.early_stopping, name, remembered[name])
        best = _readable(checkpoint_dir(self.out))
        if best is not None and (best / BEST_WEIGHTS).exists():
            with np.load(best / BEST_WEIGHTS) as stored:
                self.early_stopping.best_weights = [stored[f"arr_{i}"] for i in range(len(stored.files))]

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._save(epochs_done=epoch + 1, finished=False)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._save(epochs_done=self.progress.epochs_done, finished=True)

    def _save(self, epochs_done: int, finished: bool) -> None:
        stopping = self.early_stopping
        self.progress.epochs_done = epochs_done
        self.progress.finished = finished
        self.progress.seconds = self.seconds_before + self.clock()
        if stopping is not None:
            best = stopping.best
            self.progress.early_stopping = {
                "wait": stopping.wait,
                "best": None if best is None else float(best),
                "best_epoch": stopping.best_epoch,
                "stopped_epoch": stopping.stopped_epoch,
            }
        state = {"options": self.options, "progress": asdict(self.progress)}
        best_weights = None if finished or stopping is None else stopping.best_weights

        def write(staging: Path) -> None:
            self.model.save_weights(staging / WEIGHTS)
            if best_weights is not None:
                np.savez(staging / BEST_WEIGHTS, *best_weights)
            (staging / STATE).write_text(json.dumps(state, indent=2))

        _replace_atomically(checkpoint_dir(self.out), write)


def remove(out: Path) -> None:
    """Drop the checkpoint (and any half-swapped copy): the bundle is written, nothing is left to resume."""
    for directory in _generations(checkpoint_dir(out)):
        shutil.rmtree(directory, ignore_errors=True)


def _generations(directory: Path) -> tuple[Path, Path, Path]:
    """The checkpoint, the one being written, and the one being replaced."""
    name = directory.name
    return directory, directory.with_name(name + ".next"), directory.with_name(name + ".old")


def _replace_atomically(directory: Path, write: Any) -> None:
    """Write into a staging folder, then swap it in by renames: a kill at any point leaves one complete
    checkpoint (the new one, or the old one under ``.old``)."""
    _, staging, old = _generations(directory)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    write(staging)
    shutil.rmtree(old, ignore_errors=True)
    if directory.exists():
        directory.rename(old)
    staging.rename(directory)
    shutil.rmtree(old, ignore_errors=True)


def _readable(directory: Path) -> Path | None:
    """The complete checkpoint: the folder itself, or the previous one if a kill fell between the renames."""
    current, _, old = _generations(directory)
    for candidate in (current, old):
        if (candidate / STATE).exists():
            return candidate
    return None


def _rewind_history(history: Path, epochs: int) -> None:
    if not history.exists():
        return
    with history.open(newline="") as handle:
        rows = list(csv.reader(handle))
    if len(rows) > epochs + 1:
        with history.open("w", newline="") as handle:
            csv.writer(handle).writerows(rows[: epochs + 1])
