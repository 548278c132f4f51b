"""The paper's Sequential CNN (Conv2D / BatchNormalization / MaxPooling2D blocks, Dense head, ReLU)."""

from __future__ import annotations

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
