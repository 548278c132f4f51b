"""Training's setup makes the augmentation draw the same images in every process with the same seed:
the promise behind "same seed, same member" (training.repeatable; docs/model-experiments.md)."""

from __future__ import annotations

import pytest

from bench.augmentation_determinism import run_in_new_process


@pytest.mark.slow
@pytest.mark.parametrize("aspect", [False, True], ids=["screening", "augment-aspect"])
def test_the_augmentation_draws_alike_in_two_processes(aspect: bool) -> None:
    first, second = (run_in_new_process("repeatable", 5, aspect) for _ in range(2))
    assert first == second
    # and the digest is of the draws: another seed draws other images
    assert run_in_new_process("repeatable", 6, aspect) != first
