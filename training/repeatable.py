"""Make a TensorFlow run repeatable: the same seed gives the same weights, bit for bit, on one machine.

Seeds alone are not enough. The screening augmentation (``training.augment``) runs Keras's random layers
in a parallel ``tf.data`` map; their draws come from a shared seed state, so without op determinism the
order in which threads reach it, and with it every image drawn, changes from one process to the next.
TensorFlow's op determinism runs such stateful maps in order (``bench.augmentation_determinism`` shows
both cases). Every run that promises repeatable output (training, rebuilding or cross-checking the gate,
that bench) starts here, so none of them can set one half without the other.
"""

from __future__ import annotations


def make_repeatable(seed: int | None) -> None:
    """TensorFlow's deterministic ops on, and Python, NumPy and Keras seeded with ``seed`` (None: keep
    the seeds as they are, for a run whose random draws are seeded further down)."""
    import keras
    import tensorflow as tf

    if seed is not None:
        keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
