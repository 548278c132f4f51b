"""The consistency check's learned second stage: "frontal chest radiograph" vs "anything else".

SSIM against the average radiograph (the paper's check) passes many photos, CT slices and nearly every
lateral chest film. This small CNN sees the same model input as the classifier and is trained on its
training radiographs against half of each kind in a not-chest-xray folder (heavily augmented: there
are few negatives); the other half of each kind is held back to report rejection rates.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from function.gate import FRONTAL_LABEL
from function.imaging import InputSpec
from training.calibrate_gate import read_negative_kinds
from training.checkpoint import GATE_CHECKPOINT_DIR, Progress, epoch_seed, restore

GATE_LABELS = ("other", FRONTAL_LABEL)
KIND_WEIGHTS = {"lateral-chest": 3.0}  # relative to 1.0 for every other kind of negative


@dataclass
class NegativeSplit:
    """Per kind: model inputs and file hashes, split into a training half and a held-back half."""

    train: dict[str, np.ndarray]
    held_back: dict[str, np.ndarray]
    held_back_files: dict[str, list[str]]


def split_negatives(
    folder: Path, spec: InputSpec, seed: int, held_back_fraction: float = 0.5
) -> NegativeSplit:
    rng = np.random.default_rng(seed)
    train: dict[str, np.ndarray] = {}
    held: dict[str, np.ndarray] = {}
    held_files: dict[str, list[str]] = {}
    for kind, (stacked, hashes) in read_negative_kinds(folder, spec).items():
        order = rng.permutation(len(stacked))
        n_held = round(len(stacked) * held_back_fraction)
        held[kind] = stacked[order[:n_held]]
        held_files[kind] = sorted(hashes[i] for i in order[:n_held])
        train[kind] = stacked[order[n_held:]]
    return NegativeSplit(train=train, held_back=held, held_back_files=held_files)


def _jitter(images: np.ndarray, rng: np.random.Generator, turn_and_invert: bool) -> np.ndarray:
    """One random variant of each image: crop, gamma, mirror; for negatives also 90-degree turns and
    inversion (still not a frontal chest film). Positives get the same crops and gammas, so that "looks
    processed" is never a cue for "not a radiograph"."""
    import cv2

    size = images.shape[1]
    batch = images.copy()
    for index in range(len(batch)):
        image = batch[index, ..., 0]
        if turn_and_invert:
            image = np.rot90(image, k=int(rng.integers(0, 4)))
        if rng.random() < 0.5:
            image = image[:, ::-1]
        crop = int(rng.integers(0, size // (4 if turn_and_invert else 8)))
        if crop:
            top, left = rng.integers(0, crop + 1, size=2)
            image = cv2.resize(
                np.ascontiguousarray(image[top : top + size - crop, left : left + size - crop]),
                (size, size),
                interpolation=cv2.INTER_AREA,
            )
        if turn_and_invert and rng.random() < 0.3:
            image = 1.0 - image
        batch[index, ..., 0] = np.clip(image, 0, 1) ** rng.uniform(0.6, 1.6)
    return batch.astype(np.float32)


def _augment_negatives(images: np.ndarray, copies: int, rng: np.random.Generator) -> np.ndarray:
    """The originals plus ``copies`` jittered variants: negatives are few."""
    return np.concatenate([images] + [_jitter(images, rng, True) for _ in range(copies)])


def gate_cnn(
    size: int, classes: int = len(GATE_LABELS)
):  # -> keras.Sequential (keras imported lazily: the function never loads this)
    """Four Conv-BN-ReLU blocks and global average pooling: about 98k parameters. Batch norm uses a
    fast-moving average (momentum 0.9), as in the classifier: with few steps per epoch the default lags.
    With batch norm, the lateral weight and the jittered positives together, lateral films went from 15
    of 18 held-back rejected to 18 of 18 (docs/model-card.md); their separate effects were not measured."""
    import keras
    from keras import layers

    blocks: list[layers.Layer] = []
    for filters in (16, 32, 64, 128):
        blocks += [
            layers.Conv2D(filters, 3, padding="same", use_bias=False),
            layers.BatchNormalization(momentum=0.9),
            layers.ReLU(),
            layers.MaxPooling2D(),
        ]
    return keras.Sequential(
        [
            keras.Input(shape=(size, size, 1)),
            *blocks[:-1],  # no pooling after the last block
            layers.GlobalAveragePooling2D(),
            layers.Dropout(0.3),
            layers.Dense(classes, activation="softmax"),
        ],
        name="gate_cnn",
    )


def train_gate_model(
    positives: np.ndarray,
    negatives: dict[str, np.ndarray],
    seed: int,
    epochs: int = 30,
    max_positives: int = 3000,
    checkpoint_out: Path | None = None,
) -> tuple[Any, Progress]:
    """Fit the gate CNN, each kind of negative augmented to its share of the positive count; returns
    the model and the fit's progress (where it was resumed).

    Every kind weighs the same however few images it has, except the lateral chest views, which weigh
    three times as much: they are the negatives closest to a frontal film, and the first stage never
    stops them. With ``checkpoint_out`` the fit is checkpointed after every epoch in
    ``checkpoint_out/.resume-gate`` and resumed from there (training.resume): on 2 cores it takes tens
    of minutes, as long as a short working session. Its inputs are drawn from ``seed`` alone, so a
    resumed fit sees the same images; only the shuffle after the resume differs."""
    import keras

    rng = np.random.default_rng(seed)
    if len(positives) > max_positives:
        positives = positives[rng.choice(len(positives), max_positives, replace=False)]
    weights = {kind: KIND_WEIGHTS.get(kind, 1.0) for kind in negatives}
    per_weight = len(positives) / max(sum(weights.values()), 1.0)
    augmented = np.concatenate(
        [
            _augment_negatives(images, max(1, round(per_weight * weights[kind] / len(images)) - 1), rng)
            for kind, images in negatives.items()
        ]
    )
    jittered = rng.random(len(positives)) < 0.5
    positives = positives.copy()
    positives[jittered] = _jitter(positives[jittered], rng, False)
    inputs = np.concatenate([positives, augmented])
    labels = np.concatenate(
        [np.ones(len(positives), dtype=np.int64), np.zeros(len(augmented), dtype=np.int64)]
    )
    keras.utils.set_random_seed(seed)
    model = gate_cnn(positives.shape[1])
    batch_size = 64
    steps = epochs * -(-len(inputs) // batch_size)
    model.compile(
        # the learning rate decays to nothing, so the last epoch's weights (and batch-norm statistics)
        # are settled rather than one noisy step; label smoothing keeps the scores off exact 0 and 1, so
        # the threshold chosen from the tuning radiographs' scores is a real quantile, not a tie at 0
        optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=steps)),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.05),
        metrics=["accuracy"],
    )
    one_hot = np.eye(len(GATE_LABELS), dtype=np.float32)[labels]
    progress, callbacks = _checkpointing(model, checkpoint_out, seed, epochs, positives, negatives)
    if not progress.finished:
        model.fit(
            inputs,
            one_hot,
            epochs=epochs,
            initial_epoch=progress.epochs_done,
            batch_size=batch_size,
            shuffle=True,
            callbacks=callbacks,
            verbose=2,
        )
    return model, progress


def _checkpointing(
    model: Any,
    out: Path | None,
    seed: int,
    epochs: int,
    positives: np.ndarray,
    negatives: dict[str, np.ndarray],
) -> tuple[Progress, list[Any]]:
    """The gate fit's progress so far (restored into ``model``) and the callback that checkpoints it.
    The options name what the fit's inputs are drawn from, so a checkpoint of another fit is refused."""
    if out is None:
        return Progress(), []
    import keras

    from training.resume import Checkpoint

    options = {
        "seed": seed,
        "epochs": epochs,
        "positives": list(positives.shape),
        "negatives": {kind: len(images) for kind, images in negatives.items()},
    }
    progress = restore(model, out, options, name=GATE_CHECKPOINT_DIR, history=None)
    if progress.epochs_done and not progress.finished:
        print(f"consistency check: resuming at epoch {progress.epochs_done + 1} of {epochs}")
        keras.utils.set_random_seed(epoch_seed(seed, progress.epochs_done))  # not epoch 0's shuffles again
    started = time.perf_counter()
    checkpoint = Checkpoint(
        out, options, progress, None, lambda: time.perf_counter() - started, GATE_CHECKPOINT_DIR
    )
    return progress, [checkpoint]
