"""The learned consistency check's fit is checkpointed like the classifier's (``OUT/.resume-gate``): a
member cut off during it resumes there instead of fitting the check again from its first epoch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from training import resume
from training.checkpoint import (
    CHECKPOINT_DIR,
    GATE_CHECKPOINT_DIR,
    STATE,
    CheckpointMismatch,
    remove,
)
from training.gate_model import train_gate_model

RNG = np.random.default_rng(0)
POSITIVES = RNG.random((40, 16, 16, 1), dtype=np.float32)
NEGATIVES = {"photo": RNG.random((10, 16, 16, 1), dtype=np.float32)}
CLASSIFIER_HISTORY = "epoch,loss\n0,1.0\n1,0.9\n2,0.8\n"


class _Killed(Exception):
    pass


def _kill_after_epoch(monkeypatch: pytest.MonkeyPatch, last: int) -> None:
    """The process dies right after the checkpoint of epoch ``last`` (counted from 1) is written."""
    written = resume.Checkpoint.on_epoch_end

    def on_epoch_end(self: Any, epoch: int, logs: Any = None) -> None:
        written(self, epoch, logs)
        if epoch + 1 == last:
            raise _Killed

    monkeypatch.setattr(resume.Checkpoint, "on_epoch_end", on_epoch_end)


def _progress(out: Path) -> dict[str, Any]:
    return json.loads((out / GATE_CHECKPOINT_DIR / STATE).read_text())["progress"]


def test_a_cut_off_gate_fit_resumes_at_its_next_epoch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "history.csv").write_text(CLASSIFIER_HISTORY)  # the classifier's log, longer than 2 epochs
    with monkeypatch.context() as patched:
        _kill_after_epoch(patched, 2)
        with pytest.raises(_Killed):
            train_gate_model(POSITIVES, NEGATIVES, seed=0, epochs=4, checkpoint_out=tmp_path)
    assert (_progress(tmp_path)["epochs_done"], _progress(tmp_path)["finished"]) == (2, False)
    assert not (tmp_path / CHECKPOINT_DIR).exists()  # the classifier's checkpoint is another folder
    capsys.readouterr()

    _, returned = train_gate_model(POSITIVES, NEGATIVES, seed=0, epochs=4, checkpoint_out=tmp_path)
    printed = capsys.readouterr().out
    assert "resuming at epoch 3 of 4" in printed
    assert "Epoch 3/4" in printed and "Epoch 1/4" not in printed and "Epoch 2/4" not in printed
    progress = _progress(tmp_path)
    assert (progress["epochs_done"], progress["finished"], progress["resumed_at"]) == (4, True, [2])
    assert returned.resumed_at == [2]  # what gate.json records
    assert (tmp_path / "history.csv").read_text() == CLASSIFIER_HISTORY  # not rewound to the gate's epochs


def test_a_finished_gate_fit_is_taken_from_its_checkpoint(tmp_path: Path) -> None:
    first, _ = train_gate_model(POSITIVES, NEGATIVES, seed=0, epochs=2, checkpoint_out=tmp_path)
    again, _ = train_gate_model(POSITIVES, NEGATIVES, seed=0, epochs=2, checkpoint_out=tmp_path)
    for trained, restored in zip(first.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(trained, restored)
    assert int(again.optimizer.iterations) == int(first.optimizer.iterations)


def test_a_gate_checkpoint_of_other_inputs_is_refused(tmp_path: Path) -> None:
    train_gate_model(POSITIVES, NEGATIVES, seed=0, epochs=1, checkpoint_out=tmp_path)
    fewer = {"photo": NEGATIVES["photo"][:8]}
    with pytest.raises(CheckpointMismatch, match=r"\.resume-gate.*\(negatives differ\)"):
        train_gate_model(POSITIVES, fewer, seed=0, epochs=1, checkpoint_out=tmp_path)


def test_without_a_folder_the_gate_fit_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    train_gate_model(POSITIVES, NEGATIVES, seed=0, epochs=1)
    assert not list(tmp_path.iterdir())


def test_removing_a_runs_checkpoints_drops_the_gates_too(tmp_path: Path) -> None:
    train_gate_model(POSITIVES, NEGATIVES, seed=0, epochs=1, checkpoint_out=tmp_path)
    (tmp_path / CHECKPOINT_DIR).mkdir()
    remove(tmp_path)
    assert not list(tmp_path.glob(".resume*"))
