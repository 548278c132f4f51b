"""Named training recipes: the paper's, kept reproducible as the reference, and the screening one.

``paper``: the published protocol: fixed epochs, no augmentation, the SSIM check alone.
``screening``: what a public service needs beyond it (issue "Beyond the paper"): augmentation against
brightness/contrast/position shortcuts, class weights, early stopping and temperature scaling on a
tuning split carved out of the training data (the validation split is never used to choose anything),
and the learned second stage of the consistency check.
``screening-whole-split``: the screening recipe's network, augmentation, class weights and schedule,
trained on every image of the training split for the whole epoch budget, as the paper's protocol trains.
With no tuning split there is nothing to stop early on, calibrate on or fit a gate on, so it makes
classifiers to compare under the paper's protocol, not a bundle to serve.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

# the keys of training.model.ARCHITECTURES, here so the CLI can offer them without importing Keras
ARCHITECTURE_NAMES = ("paper-cnn", "screening-cnn", "screening-cnn-fullres")
# How a recipe's tuning split is drawn from the training split: by class (the release's), or by class and
# source, so that early stopping, temperature and the screening threshold see the training split's mix
# of hospitals (training.cohorts.grouped_split).
TUNING_STRATA = ("class", "class-and-source")


@dataclass(frozen=True)
class Recipe:
    name: str
    augment: bool
    class_weight: bool
    early_stopping_patience: int | None
    tuning_fraction: float  # of the training split, grouped by patient; 0 = none
    calibrate: bool
    learned_gate: bool
    gate_keep: float  # share of training radiographs the SSIM stage keeps
    min_confidence: float  # calibrated top probability below which a reading is "indeterminate"
    architecture: str = "paper-cnn"  # a key of training.model.ARCHITECTURES
    cosine_schedule: bool = False  # learning rate decays to 1% along a cosine over the epoch budget
    flag_sensitivity: tuple[tuple[str, float], ...] = ()  # (label, target recall on the tuning split)
    early_stopping_from: float = 0.0  # share of the epoch budget run before early stopping watches


RECIPES: dict[str, Recipe] = {
    "paper": Recipe(
        name="paper",
        augment=False,
        class_weight=False,
        early_stopping_patience=None,
        tuning_fraction=0.0,
        calibrate=False,
        learned_gate=False,
        gate_keep=0.99,
        min_confidence=0.0,
    ),
    "screening": Recipe(
        name="screening",
        augment=True,
        class_weight=True,
        early_stopping_patience=12,
        tuning_fraction=0.15,
        calibrate=True,
        learned_gate=True,
        gate_keep=0.995,
        min_confidence=0.6,
        architecture="screening-cnn",
        cosine_schedule=True,
        flag_sensitivity=(("COVID-19", 0.98),),
        early_stopping_from=0.5,
    ),
}
RECIPES["screening-whole-split"] = dataclasses.replace(
    RECIPES["screening"],
    name="screening-whole-split",
    early_stopping_patience=None,
    tuning_fraction=0.0,
    calibrate=False,
    learned_gate=False,
    min_confidence=0.0,
    flag_sensitivity=(),
    early_stopping_from=0.0,
)
