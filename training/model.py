"""The classifiers a recipe can train, all Keras Sequential CNNs fed the one served input contract.

``paper-cnn`` is the paper's network, kept as the reference. ``screening-cnn`` is what the screening
recipe trains at 128x128: the paper's CNN there underfits (96.6% training accuracy under augmentation) and
its Flatten->Dense head made training unstable, so it gets two convolutions per block and a
global-average-pooling head (fewer parameters, no dependence on where in the film a feature sits).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
from keras import layers

from function.bundle_format import LABELS


def paper_cnn(size: int, num_classes: int = len(LABELS)) -> keras.Sequential:
    """16 layers: four Conv2D(3x3, ReLU)+BatchNorm+MaxPool blocks, Flatten, Dense(128), Dropout, softmax."""
    blocks: list[layers.Layer] = []
    for filters in (32, 64, 128, 128):
        blocks += [
            layers.Conv2D(filters, 3, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling2D(),
        ]
    return keras.Sequential(
        [
            keras.Input(shape=(size, size, 1)),
            *blocks,
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(num_classes, activation="softmax"),
        ],
        name="paper_cnn",
    )


def screening_cnn(
    size: int, num_classes: int = len(LABELS), full_resolution_stem: bool = False
) -> keras.Sequential:
    """A strided stem, then (Conv-BN-ReLU)x2 + MaxPool blocks of 32..256 filters, GAP, Dropout, softmax.

    ``full_resolution_stem`` replaces the strided stem with two 16-filter convolutions and a MaxPool at the
    input's full resolution (8% more multiply-adds at 128x128): fine texture the strided stem skips is
    seen, and the network's errors differ from the plain one's, which is what an ensemble member is for."""

    def conv(filters: int, strides: int = 1) -> list[layers.Layer]:
        return [
            layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False),
            layers.BatchNormalization(momentum=0.9),
            layers.ReLU(),
        ]

    if full_resolution_stem:
        blocks: list[layers.Layer] = [*conv(16), *conv(16), layers.MaxPooling2D()]
    else:
        blocks = conv(32, strides=2 if size > 64 else 1)
    for filters in (32, 64, 128, 256):
        blocks += [*conv(filters), *conv(filters), layers.MaxPooling2D()]
    return keras.Sequential(
        [
            keras.Input(shape=(size, size, 1)),
            *blocks,
            layers.GlobalAveragePooling2D(),
            layers.Dropout(0.3),
            layers.Dense(num_classes, activation="softmax"),
        ],
        name="screening_cnn_fullres" if full_resolution_stem else "screening_cnn",
    )


def screening_cnn_fullres(size: int, num_classes: int = len(LABELS)) -> keras.Sequential:
    """``screening_cnn`` whose first convolutions run at the input's full resolution."""
    return screening_cnn(size, num_classes, full_resolution_stem=True)


ARCHITECTURES: dict[str, Callable[[int], keras.Sequential]] = {
    "paper-cnn": paper_cnn,
    "screening-cnn": screening_cnn,
    "screening-cnn-fullres": screening_cnn_fullres,
}


def layer_table(model: keras.Model) -> list[dict[str, Any]]:
    """The exact layer list (type, output shape, parameters), written into the model card and manifest."""
    rows = []
    for layer in model.layers:
        config = layer.get_config()
        detail = {
            key: config[key]
            for key in ("filters", "kernel_size", "units", "rate", "activation")
            if key in config
        }
        rows.append(
            {
                "layer": type(layer).__name__,
                "output_shape": list(layer.output.shape[1:]),
                "params": int(layer.count_params()),
                **detail,
            }
        )
    return rows
