"""The consistency check's learned second stage: "frontal chest radiograph" vs "anything else".

SSIM against the average radiograph (the paper's check) passes many photos, CT slices and nearly every
lateral chest film. This small CNN sees the same 64x64 model input and is trained on the classifier's
training radiographs against half of each kind in a not-chest-xray folder (heavily augmented: there
are few negatives); the other half of each kind is held back to report rejection rates.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from function.gate import FRONTAL_LABEL
from training.calibrate_gate import read_negative_kinds

GATE_LABELS = ("other", FRONTAL_LABEL)


@dataclass
class NegativeSplit:
    """Per kind: model inputs and file hashes, split into a training half and a held-back half."""

    train: dict[str, np.ndarray]
    held_back: dict[str, np.ndarray]
    held_back_files: dict[str, list[str]]


def split_negatives(folder: Path, size: int, seed: int, held_back_fraction: float = 0.5) -> NegativeSplit:
    rng = np.random.default_rng(seed)
    train: dict[str, np.ndarray] = {}
    held: dict[str, np.ndarray] = {}
    held_files: dict[str, list[str]] = {}
    for kind, (stacked, hashes) in read_negative_kinds(folder, size).items():
        order = rng.permutation(len(stacked))
        n_held = round(len(stacked) * held_back_fraction)
        held[kind] = stacked[order[:n_held]]
        held_files[kind] = sorted(hashes[i] for i in order[:n_held])
        train[kind] = stacked[order[n_held:]]
    return NegativeSplit(train=train, held_back=held, held_back_files=held_files)


def _augment_negatives(images: np.ndarray, copies: int, rng: np.random.Generator) -> np.ndarray:
    """Flips, 90-degree turns, crops, inversion, gamma: negatives are few, and any of these is still not a
    frontal chest film."""
    import cv2

    out = [images]
    size = images.shape[1]
    for _ in range(copies):
        batch = images.copy()
        for index in range(len(batch)):
            image = batch[index, ..., 0]
            image = np.rot90(image, k=int(rng.integers(0, 4)))
            if rng.random() < 0.5:
                image = image[:, ::-1]
            crop = int(rng.integers(0, size // 4))
            if crop:
                top, left = rng.integers(0, crop + 1, size=2)
                image = cv2.resize(
                    np.ascontiguousarray(image[top : top + size - crop, left : left + size - crop]),
                    (size, size),
                    interpolation=cv2.INTER_AREA,
                )
            if rng.random() < 0.3:
                image = 1.0 - image
            image = np.clip(image, 0, 1) ** rng.uniform(0.6, 1.6)
            batch[index, ..., 0] = image
        out.append(batch)
    return np.concatenate(out).astype(np.float32)


def gate_cnn(size: int):  # -> keras.Sequential (keras imported lazily: the function never loads this)
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input(shape=(size, size, 1)),
            layers.Conv2D(16, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(64, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(64, 3, padding="same", activation="relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dropout(0.3),
            layers.Dense(len(GATE_LABELS), activation="softmax"),
        ],
        name="gate_cnn",
    )


def train_gate_model(
    positives: np.ndarray,
    negatives: dict[str, np.ndarray],
    seed: int,
    epochs: int = 25,
    max_positives: int = 3000,
):
    """Fit the gate CNN; each kind of negative augmented to an equal share of the positive count."""
    import keras

    rng = np.random.default_rng(seed)
    if len(positives) > max_positives:
        positives = positives[rng.choice(len(positives), max_positives, replace=False)]
    per_kind = len(positives) // max(len(negatives), 1)  # every kind weighs the same, however few it has
    augmented = np.concatenate(
        [_augment_negatives(kind, max(1, per_kind // len(kind) - 1), rng) for kind in negatives.values()]
    )
    inputs = np.concatenate([positives, augmented])
    labels = np.concatenate(
        [np.ones(len(positives), dtype=np.int64), np.zeros(len(augmented), dtype=np.int64)]
    )
    keras.utils.set_random_seed(seed)
    model = gate_cnn(positives.shape[1])
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    model.fit(inputs, labels, epochs=epochs, batch_size=64, shuffle=True, verbose=2)
    return model
