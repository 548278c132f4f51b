"""Training-time augmentation for the screening recipe: small rotations and shifts, brightness/contrast.

The sources confound class with brightness, contrast and framing (data READMEs); jittering those makes
them weaker cues. Applied in the tf.data pipeline, never inside the model, so the exported model and the
served input contract are unchanged.

``framing=True`` (``train --augment-framing``) widens the zoom to the framings real uploads have and the
release reads badly (bench.upload_robustness): crops of up to about 8% a side (zoom in 20%) and a film
squeezed between black bars to a 4:3 frame (width zoomed out by a third), each axis drawn on its own.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Keras zoom factors: negative zooms in (crops), positive zooms out (fills with black); 1/3 out = 4:3 bars
FRAMING_HEIGHT_ZOOM = (-0.2, 0.1)
FRAMING_WIDTH_ZOOM = (-0.2, 0.35)


def augmented_dataset(
    inputs: np.ndarray, labels: np.ndarray, batch_size: int, seed: int, framing: bool = False
) -> Any:
    import keras
    import tensorflow as tf
    from keras import layers

    augmenter = keras.Sequential(
        [
            layers.RandomRotation(
                0.03, fill_mode="constant", fill_value=0.0, seed=seed
            ),  # about +-10 degrees
            layers.RandomTranslation(0.06, 0.06, fill_mode="constant", fill_value=0.0, seed=seed + 1),
            layers.RandomZoom(
                FRAMING_HEIGHT_ZOOM if framing else 0.1,
                FRAMING_WIDTH_ZOOM if framing else None,
                fill_mode="constant",
                fill_value=0.0,
                seed=seed + 2,
            ),
            layers.RandomBrightness(0.15, value_range=(0.0, 1.0), seed=seed + 3),
            layers.RandomContrast(0.3, seed=seed + 4),
        ],
        name="augmentation",
    )

    def augment(images: Any, targets: Any) -> tuple[Any, Any]:
        return tf.clip_by_value(augmenter(images, training=True), 0.0, 1.0), targets

    dataset = tf.data.Dataset.from_tensor_slices((inputs, labels))
    dataset = dataset.shuffle(len(inputs), seed=seed, reshuffle_each_iteration=True).batch(batch_size)
    return dataset.map(augment, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
