"""Training-time augmentation for the screening recipe: small rotations and shifts, brightness/contrast.

The sources confound class with brightness, contrast and framing (data READMEs); jittering those makes
them weaker cues. Applied in the tf.data pipeline, never inside the model, so the exported model and the
served input contract are unchanged.

``framing=True`` (``train --augment-framing``) widens the zoom to the framings real uploads have and the
release reads badly (bench.upload_robustness): crops of up to about 8% a side (zoom in 20%) and a film
squeezed between black bars to a 4:3 frame (width zoomed out by a third), each axis drawn on its own.

``aspect=True`` (``train --augment-aspect``) widens or narrows each film's chest by a factor drawn
log-uniformly from ``ASPECT_RANGE`` (``reshaped``) before the rest: the square resize left each original's
shape in its film as a sideways squeeze, and in the pediatric folder that shape tells viral pneumonia from
normal (docs/model-experiments.md, "Does the film's shape carry the class?").
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

# Keras zoom factors: negative zooms in (crops), positive zooms out (fills with black); 1/3 out = 4:3 bars
FRAMING_HEIGHT_ZOOM = (-0.2, 0.1)
FRAMING_WIDTH_ZOOM = (-0.2, 0.35)
ASPECT_RANGE = (0.8, 1.25)  # chest width against height, as bench.aspect_probe probes it


def reshaped(image: np.ndarray, widen: float) -> np.ndarray:
    """The chest ``widen`` times as wide against its height, same size out: stretched along one axis,
    then the middle of that axis kept (nothing padded). (H, W) in, any dtype cv2 resizes."""
    height, width = image.shape
    if widen >= 1:
        stretched = cv2.resize(image, (round(width * widen), height), interpolation=cv2.INTER_AREA)
        start = (stretched.shape[1] - width) // 2
        return stretched[:, start : start + width]
    stretched = cv2.resize(image, (width, round(height / widen)), interpolation=cv2.INTER_AREA)
    start = (stretched.shape[0] - height) // 2
    return stretched[start : start + height, :]


def augmented_dataset(
    inputs: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    seed: int,
    framing: bool = False,
    aspect: bool = False,
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
    dataset = dataset.shuffle(len(inputs), seed=seed, reshuffle_each_iteration=True)
    if aspect:
        dataset = _aspect_jittered(dataset, seed + 5)
    dataset = dataset.batch(batch_size)
    return dataset.map(augment, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def _aspect_jittered(dataset: Any, seed: int) -> Any:
    """Each film through ``reshaped`` with its own factor, log-uniform in ``ASPECT_RANGE``."""
    import tensorflow as tf

    low, high = (float(np.log(bound)) for bound in ASPECT_RANGE)

    def reshape_one(image: np.ndarray, widen: np.ndarray) -> np.ndarray:
        return reshaped(image[..., 0], float(widen))[..., None]

    def jitter(image: Any, target: Any) -> tuple[Any, Any]:
        widen = tf.exp(tf.random.uniform([], low, high, seed=seed))
        out = tf.numpy_function(reshape_one, [image, widen], tf.float32)
        out.set_shape(image.shape)
        return out, target

    return dataset.map(jitter, num_parallel_calls=tf.data.AUTOTUNE)
