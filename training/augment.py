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

``border=True`` (``train --augment-border``) hides parts of the film's border after the rest
(``border_dropped``): half the films get, on each side, a band up to ``BORDER_BAND`` of the side wide painted
one gray drawn per film. The release's COVID-19 heatmaps rest on that band (bench.heatmap_location); the
gray is drawn, not the film's mean, so that the occlusion heatmap's own fill (function.explain) is not
what the model learned to ignore (docs/model-experiments.md, "Border dropout").
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

# Keras zoom factors: negative zooms in (crops), positive zooms out (fills with black); 1/3 out = 4:3 bars
FRAMING_HEIGHT_ZOOM = (-0.2, 0.1)
FRAMING_WIDTH_ZOOM = (-0.2, 0.35)
ASPECT_RANGE = (0.8, 1.25)  # chest width against height, as bench.aspect_probe probes it
BORDER_BAND = 0.15  # the widest band, a share of the side: bench.heatmap_location's border band
BORDER_PROBABILITY = 0.5  # share of films whose border is hidden: the rest keep the border as served


def border_dropped(images: Any, seed: Any) -> Any:
    """``images`` (N, H, W, 1) with, for each film with probability ``BORDER_PROBABILITY``, a band on each
    side of width uniform in [0, ``BORDER_BAND``) of that side painted one gray uniform in [0, 1].

    Stateless (``seed`` is a pair of ints): the same seed draws the same bands, whatever ran before, so
    training under a seed is repeatable and the function can be checked on its own. The bands are whole
    pixels inside the border band (floor of the drawn width), never in the centre the lungs fill."""
    import tensorflow as tf

    images = tf.convert_to_tensor(images, tf.float32)
    shape = tf.shape(images)
    count, height, width = shape[0], shape[1], shape[2]
    draws = tf.random.stateless_uniform(tf.stack([count, 6]), seed=seed)
    hidden = draws[:, 0] < BORDER_PROBABILITY
    sides = tf.cast(tf.stack([height, height, width, width]), tf.float32)
    top, bottom, left, right = tf.unstack(
        tf.cast(tf.floor(draws[:, 1:5] * BORDER_BAND * sides), tf.int32), axis=1
    )
    rows = tf.range(height)[None, :, None]
    cols = tf.range(width)[None, None, :]
    band = (
        (rows < top[:, None, None])
        | (rows >= height - bottom[:, None, None])
        | (cols < left[:, None, None])
        | (cols >= width - right[:, None, None])
    )
    band = band & hidden[:, None, None]
    return tf.where(band[..., None], draws[:, 5, None, None, None], images)


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
    border: bool = False,
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
    dataset = dataset.batch(batch_size).map(augment, num_parallel_calls=tf.data.AUTOTUNE)
    if border:
        dataset = _border_hidden(dataset, seed + 6)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _border_hidden(dataset: Any, seed: int) -> Any:
    """Each batch through ``border_dropped`` after the rest of the augmentation (so the bands sit on the
    border of what the model reads), with a per-batch seed from a seeded stream that draws anew each
    epoch: repeatable under ``seed``, yet a film does not keep its bands from epoch to epoch."""
    import tensorflow as tf

    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)

    def hide(batch: tuple[Any, Any], draw: Any) -> tuple[Any, Any]:
        images, targets = batch
        return border_dropped(images, tf.stack([draw, tf.constant(seed, tf.int64)])), targets

    return tf.data.Dataset.zip((dataset, seeds)).map(hide, num_parallel_calls=tf.data.AUTOTUNE)


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
