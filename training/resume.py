"""Resumable training: the Keras callback that checkpoints a run after every epoch.

A full-resolution member takes 97 minutes on 2 cores (docs/model-experiments.md, "The whole training
split"); a working session, a spot instance or a laptop lid ends sooner. After every epoch ``Checkpoint``
writes ``OUT/.resume`` (``training.checkpoint``): the weights with the optimizer's state (so the cosine
schedule goes on from the step it reached), the epochs and seconds spent, early stopping's memory (best
loss, its weights, patience used) and the run's options. ``training.checkpoint.restore`` reads it back
before ``model.fit``. The same command resumes; deleting ``OUT/.resume`` starts over; ``train`` removes it
once the bundle is written.

A resumed run is not bit-identical to an uninterrupted one: the shuffle order and the augmentation draws
after the resume come from a seed derived from the epoch resumed at (``checkpoint.epoch_seed``), while an
uninterrupted run keeps exactly the draws it always had. The manifest records where a run was resumed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras

from training.checkpoint import CHECKPOINT_DIR, Progress, best_weights, save


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
        name: str = CHECKPOINT_DIR,
    ) -> None:
        super().__init__()
        self.out = out
        self.name = name  # which checkpoint of ``out`` (training.checkpoint)
        self.options = options
        self.progress = progress
        self.early_stopping = early_stopping
        self.clock = clock  # seconds of training spent in this process, so far
        self.seconds_before = progress.seconds

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        remembered = self.progress.early_stopping
        if self.early_stopping is None or not remembered:
            return
        for name in ("wait", "best", "best_epoch", "stopped_epoch"):
            setattr(self.early_stopping, name, remembered[name])
        self.early_stopping.best_weights = best_weights(self.out, self.name)

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
        kept = None if finished or stopping is None else stopping.best_weights
        save(self.out, self.model, self.options, self.progress, kept, self.name)
