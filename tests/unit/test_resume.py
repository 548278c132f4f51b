"""training.resume and training.checkpoint on a tiny Keras model: what a checkpoint brings back, and what it
refuses."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

from training.checkpoint import (
    CHECKPOINT_DIR,
    CheckpointMismatch,
    Progress,
    epoch_seed,
    remove,
    restore,
)
from training.resume import Checkpoint

OPTIONS = {"recipe": "screening", "epochs": 6, "data": ["a", "b"], "init_seed": None}
RNG = np.random.default_rng(0)
X = RNG.random((96, 8), dtype=np.float32)
Y = (X[:, 0] > 0.5).astype(np.int64)


def _model() -> Any:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2, activation="softmax")])
    schedule = keras.optimizers.schedules.CosineDecay(0.05, decay_steps=100)
    model.compile(keras.optimizers.Adam(schedule), "sparse_categorical_crossentropy")
    return model


def _fit(model: Any, out: Path, progress: Progress, epochs: int) -> None:
    """Six steps an epoch; the clock says 1.5 s spent in this process."""
    log = keras.callbacks.CSVLogger(str(out / "history.csv"), append=progress.epochs_done > 0)
    callbacks = [log, Checkpoint(out, OPTIONS, progress, None, lambda: 1.5)]
    model.fit(
        X, Y, epochs=epochs, initial_epoch=progress.epochs_done, batch_size=16, verbose=0, callbacks=callbacks
    )


def _variables(model: Any) -> list[np.ndarray]:
    return [v.numpy() for v in [*model.weights, *model.optimizer.variables]]


class _Killed(Exception):
    pass


class _KillAtEpoch(keras.callbacks.Callback):
    """The process dies as epoch ``epoch`` starts: no on_train_end, no final checkpoint."""

    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        if epoch == self.epoch:
            raise _Killed


def test_no_checkpoint_means_a_fresh_start(tmp_path: Path) -> None:
    assert restore(_model(), tmp_path, OPTIONS) == Progress()


def test_a_checkpoint_brings_back_weights_optimizer_and_progress(tmp_path: Path) -> None:
    trained = _model()
    _fit(trained, tmp_path, Progress(), epochs=3)
    resumed = _model()
    progress = restore(resumed, tmp_path, OPTIONS)
    assert (progress.epochs_done, progress.finished, progress.seconds) == (3, True, 1.5)
    for saved, loaded in zip(_variables(trained), _variables(resumed), strict=True):
        np.testing.assert_array_equal(saved, loaded)
    assert int(resumed.optimizer.iterations) == 3 * 6  # the cosine schedule goes on from step 18


def test_a_resumed_fit_continues_the_epochs_the_steps_and_the_history(tmp_path: Path) -> None:
    log = keras.callbacks.CSVLogger(str(tmp_path / "history.csv"))
    checkpoint = Checkpoint(tmp_path, OPTIONS, Progress(), None, lambda: 1.5)
    with pytest.raises(_Killed):
        _model().fit(X, Y, epochs=5, batch_size=16, verbose=0, callbacks=[log, checkpoint, _KillAtEpoch(2)])
    second = _model()
    progress = restore(second, tmp_path, OPTIONS)
    assert (progress.epochs_done, progress.finished, progress.resumed_at) == (2, False, [2])
    _fit(second, tmp_path, progress, epochs=5)
    assert int(second.optimizer.iterations) == 5 * 6
    assert (progress.epochs_done, progress.finished, progress.seconds) == (5, True, 3.0)
    with (tmp_path / "history.csv").open(newline="") as handle:
        assert [int(row["epoch"]) for row in csv.DictReader(handle)] == [0, 1, 2, 3, 4]
    assert restore(_model(), tmp_path, OPTIONS).resumed_at == [2]  # a finished run is not taken over again


def test_history_is_rewound_to_the_checkpointed_epoch(tmp_path: Path) -> None:
    """A kill after the log line of epoch 3 but before its checkpoint: epoch 3 is run again, logged once."""
    _fit(_model(), tmp_path, Progress(), epochs=2)
    with (tmp_path / "history.csv").open("a", newline="") as handle:
        csv.writer(handle).writerow([2, 0.5])
    restore(_model(), tmp_path, OPTIONS)
    assert len((tmp_path / "history.csv").read_text().splitlines()) == 1 + 2


def test_a_checkpoint_written_with_other_options_is_refused(tmp_path: Path) -> None:
    _fit(_model(), tmp_path, Progress(), epochs=1)
    with pytest.raises(CheckpointMismatch, match=r"\(epochs differ\).*delete"):
        restore(_model(), tmp_path, {**OPTIONS, "epochs": 40})


def test_an_option_added_after_the_checkpoint_counts_as_its_default(tmp_path: Path) -> None:
    """A checkpoint written before an option existed resumes under the code that added it, as long as the
    option keeps its default (how the checkpoint's run was made); another value is refused."""
    _fit(_model(), tmp_path, Progress(), epochs=1)
    newer = {**OPTIONS, "preprocessing": "1"}
    assert restore(_model(), tmp_path, newer, defaults={"preprocessing": "1"}).epochs_done == 1
    with pytest.raises(CheckpointMismatch, match=r"\(preprocessing differ\)"):
        restore(_model(), tmp_path, newer)
    with pytest.raises(CheckpointMismatch, match=r"\(preprocessing differ\)"):
        restore(_model(), tmp_path, {**OPTIONS, "preprocessing": "2"}, defaults={"preprocessing": "1"})


def test_early_stoppings_memory_survives_the_resume(tmp_path: Path) -> None:
    def stopping() -> Any:
        return keras.callbacks.EarlyStopping(monitor="loss", patience=50, restore_best_weights=True)

    before = stopping()
    progress = Progress()
    callbacks = [before, Checkpoint(tmp_path, OPTIONS, progress, before, lambda: 0.0), _KillAtEpoch(3)]
    with pytest.raises(_Killed):
        _model().fit(X, Y, epochs=6, batch_size=16, verbose=0, callbacks=callbacks)
    resumed = _model()
    progress = restore(resumed, tmp_path, OPTIONS)
    assert (progress.epochs_done, progress.finished) == (3, False)
    after = stopping()
    checkpoint = Checkpoint(tmp_path, OPTIONS, progress, after, lambda: 0.0)
    checkpoint.set_model(resumed)
    after.on_train_begin()  # Keras resets it first, then the checkpoint (after it in the list) restores
    checkpoint.on_train_begin()
    assert before.best is not None and before.best_weights is not None
    assert (after.wait, after.best, after.best_epoch) == (before.wait, before.best, before.best_epoch)
    for kept, restored in zip(before.best_weights, after.best_weights, strict=True):
        np.testing.assert_array_equal(kept, restored)


def test_a_kill_between_the_two_renames_leaves_the_previous_checkpoint(tmp_path: Path) -> None:
    _fit(_model(), tmp_path, Progress(), epochs=2)
    (tmp_path / CHECKPOINT_DIR).rename(tmp_path / f"{CHECKPOINT_DIR}.old")
    assert restore(_model(), tmp_path, OPTIONS).epochs_done == 2
    remove(tmp_path)
    assert not list(tmp_path.glob(f"{CHECKPOINT_DIR}*"))
    assert restore(_model(), tmp_path, OPTIONS) == Progress()


def test_an_uninterrupted_run_keeps_its_seed_and_a_resumed_one_draws_anew() -> None:
    assert epoch_seed(7, 0) == 7
    assert len({epoch_seed(7, epoch) for epoch in range(40)}) == 40
