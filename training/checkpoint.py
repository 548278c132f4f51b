"""A training run's checkpoints on disk (``OUT/.resume`` for the classifier, ``OUT/.resume-gate`` for the
learned consistency check, which fits after it): written atomically, read back, refused when
the run's options changed. Keras-free, so the CLI can name a refusal without loading TensorFlow; the
callback that writes it every epoch is ``training.resume``.

What it holds and why: ``training.resume``. A checkpoint is one folder, swapped in by renames, so a kill
at any moment leaves one complete checkpoint; ``restore`` refuses one written with other options.
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from function.bundle_format import HISTORY

CHECKPOINT_DIR = ".resume"
GATE_CHECKPOINT_DIR = ".resume-gate"  # the learned consistency check's fit, after the classifier's
STATE = "state.json"
WEIGHTS = "weights.weights.h5"  # Keras wants the suffix; holds the optimizer's variables too
BEST_WEIGHTS = "best_weights.npz"


class CheckpointMismatch(RuntimeError):
    """The checkpoint in the output folder was written by a run with other options."""


@dataclass
class Progress:
    """What a checkpoint says about the run so far."""

    epochs_done: int = 0
    seconds: float = 0.0  # training time spent so far, over every process that ran it
    finished: bool = False  # fit ended (budget or early stop): the weights are the final ones
    resumed_at: list[int] = field(default_factory=list)  # epochs at which earlier processes took over
    early_stopping: dict[str, Any] | None = None  # wait, best, best_epoch, stopped_epoch


def epoch_seed(seed: int, first_epoch: int) -> int:
    """The shuffle/augmentation seed for a fit that starts at ``first_epoch``: ``seed`` itself from zero
    (so uninterrupted runs are unchanged), a different stream after a resume (not epoch 0's draws again)."""
    return seed + 1000 * first_epoch


def checkpoint_dir(out: Path, name: str = CHECKPOINT_DIR) -> Path:
    return out / name


def restore(
    model: Any,
    out: Path,
    options: dict[str, Any],
    defaults: dict[str, Any] | None = None,
    name: str = CHECKPOINT_DIR,
    history: str | None = HISTORY,
) -> Progress:
    """Load the checkpoint in ``out`` into the compiled ``model``; a fresh ``Progress`` when there is none.

    ``defaults`` are the values of options a checkpoint may predate: one written before an option existed
    was made with the option's default, so it still resumes under the code that added it.

    An unfinished run's progress records the epoch this process takes over at (``resumed_at``). Also
    rewinds the run's ``history`` log (history.csv; None for a fit that keeps none) to the checkpoint's
    epochs (the process may have logged an epoch it did not live to save). ``name`` picks the checkpoint:
    the classifier's (``.resume``) or the consistency check's (``.resume-gate``)."""
    directory = _readable(checkpoint_dir(out, name))
    if directory is None:
        return Progress()
    state = json.loads((directory / STATE).read_text())
    options = json.loads(json.dumps(options))  # as stored: tuples become lists
    stored = {**json.loads(json.dumps(defaults or {})), **state["options"]}
    if stored != options:
        changed = sorted(k for k in {**stored, **options} if stored.get(k) != options.get(k))
        raise CheckpointMismatch(
            f"{checkpoint_dir(out, name)} holds an interrupted run with other options "
            f"({', '.join(changed)} differ): run the same command to resume it, or delete that folder "
            "to start over"
        )
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    model.load_weights(directory / WEIGHTS)
    progress = Progress(**state["progress"])
    if not progress.finished:  # this process takes the training over here
        progress.resumed_at.append(progress.epochs_done)
    if history is not None:
        _rewind_history(out / history, progress.epochs_done)
    return progress


def save(
    out: Path,
    model: Any,
    options: dict[str, Any],
    progress: Progress,
    best_weights: Any,
    name: str = CHECKPOINT_DIR,
) -> None:
    """Write ``model``'s weights (optimizer included), ``progress``, ``options`` and early stopping's best
    weights (a list of arrays, or None) as the checkpoint ``name`` of ``out``."""
    state = {"options": options, "progress": asdict(progress)}

    def write(staging: Path) -> None:
        model.save_weights(staging / WEIGHTS)
        if best_weights is not None:
            np.savez(staging / BEST_WEIGHTS, *best_weights)
        (staging / STATE).write_text(json.dumps(state, indent=2))

    _replace_atomically(checkpoint_dir(out, name), write)


def best_weights(out: Path, name: str = CHECKPOINT_DIR) -> list[np.ndarray] | None:
    """Early stopping's best weights as the checkpoint ``name`` of ``out`` kept them, or None."""
    directory = _readable(checkpoint_dir(out, name))
    if directory is None or not (directory / BEST_WEIGHTS).exists():
        return None
    with np.load(directory / BEST_WEIGHTS) as stored:
        return [stored[f"arr_{i}"] for i in range(len(stored.files))]


def remove(out: Path) -> None:
    """Drop every checkpoint of ``out`` (and any half-swapped copy): the bundle is written, nothing is
    left to resume."""
    for name in (CHECKPOINT_DIR, GATE_CHECKPOINT_DIR):
        for directory in _generations(checkpoint_dir(out, name)):
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
