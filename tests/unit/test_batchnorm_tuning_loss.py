"""bench.batchnorm_tuning_loss: its augmented pass is one seeded epoch of training's augmentation."""

from __future__ import annotations

import numpy as np

from bench.batchnorm_tuning_loss import augmented_pass


def test_the_augmented_pass_is_every_film_once_augmented_and_repeats() -> None:
    rng = np.random.default_rng(0)
    inputs = rng.uniform(0.2, 0.8, (70, 32, 32, 1)).astype(np.float32)
    labels = np.arange(70) % 3
    first, second = augmented_pass(inputs, labels, 32), augmented_pass(inputs, labels, 32)
    assert first.shape == inputs.shape
    np.testing.assert_array_equal(first, second)  # seeded: the bench's figures repeat
    assert not np.allclose(np.sort(first.ravel()), np.sort(inputs.ravel()))  # augmented, not copied
