"""``python -m training train``: Kaggle folders -> a complete, hash-verified bundle folder."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from function.bundle_format import (
    AVERAGE_IMAGE,
    FLOAT32_WEIGHTS,
    GATE,
    HISTORY,
    LABELS,
    METRICS,
    VALIDATION_FILES,
)
from function.calibration import Calibration, apply_temperature, decide
from function.classifier import Classifier
from function.imaging import DEFAULT_PREPROCESSING, InputSpec, average_input
from training.calibrate_gate import calibrate_gate
from training.checkpoint import Progress, checkpoint_dir, epoch_seed, restore
from training.checkpoint import remove as remove_checkpoint
from training.cohorts import Cohort, adult_normals, cohorts_for, grouped_split, has_manifest
from training.data import (
    Example,
    class_counts,
    ignored_folders,
    list_examples,
    load_images,
    stratified_split,
)
from training.machine import machine_description
from training.metrics import classification_report
from training.recipes import RECIPES, Recipe
from training.repeatable import make_repeatable
from training.report import cohort_report

GATE_MODEL = "gate_model.tflite"
GATE_HELD_BACK = "gate_held_back_files.txt"


@dataclass
class TrainConfig:
    """Everything that decides a training run; recorded verbatim in the manifest."""

    data: list[Path]
    out: Path
    recipe: str = "paper"
    split: str = "image"  # "image" (the paper's) or "grouped" (by patient, from the manifests)
    epochs: int = 100
    val_fraction: float = 0.4
    image_size: int = 64
    seed: int = 0  # the split (and the gate's negatives); also the weights unless init_seed is set
    init_seed: int | None = None  # weights and augmentation only: ensemble members share one split
    batch_size: int = 32
    learning_rate: float = 1e-3
    negatives: Path | None = None
    limit_per_class: int | None = None  # a quick run on a subset (tests, smoke checks)
    architecture: str | None = None  # a key of training.model.ARCHITECTURES; None = the recipe's
    tuning_strata: str = "class"  # how the tuning split is drawn: one of recipes.TUNING_STRATA
    fit_without_reported_normal: bool = False  # leave Cohort.reported_normal films out of fit and tune
    augment_framing: bool = False  # widen the zoom to crops and 4:3 bars (training.augment)
    augment_aspect: bool = False  # widen or narrow each chest 0.8-1.25 (training.augment)
    augment_border: bool = False  # hide bands of the outer 15% of half the films (training.augment)
    preprocessing: str = DEFAULT_PREPROCESSING  # a key of function.imaging.PREPROCESSING_VERSIONS
    adult_normal_floor: float | None = None  # screening threshold's second anchor (training.calibration)
    synthetic_negatives: int = (
        0  # drawn non-radiographs added to the gate's stage 2 (training.synthetic_negatives)
    )

    @property
    def input_spec(self) -> InputSpec:
        """What the models take and how uploads become it; the bundle's manifest records both."""
        return InputSpec(self.image_size, self.preprocessing)

    @property
    def weights_seed(self) -> int:
        return weights_seed(self.seed, self.init_seed)

    @property
    def network(self) -> str:
        """The architecture trained: ``architecture`` if set, else the recipe's."""
        return self.architecture or RECIPES[self.recipe].architecture

    def as_record(self) -> dict[str, Any]:
        record = asdict(self)
        record["data"] = [p.name for p in self.data]
        record["out"] = None
        record["negatives"] = self.negatives.name if self.negatives else None
        record["architecture"] = self.network  # resolved: the manifest says which network, not "default"
        return record


@dataclass
class Split:
    fit: np.ndarray  # what the weights are fitted on
    tune: np.ndarray  # early stopping, temperature, gate threshold (empty for the paper's recipe)
    validation: np.ndarray  # reported only; never used to choose anything

    @property
    def train(self) -> np.ndarray:
        return np.sort(np.concatenate([self.fit, self.tune]))

    @property
    def monitored(self) -> np.ndarray:
        """What the loss is watched on after every epoch: the tuning split, or validation without one."""
        return self.tune if len(self.tune) else self.validation


OPTION_DEFAULTS = {
    field.name: field.default
    for field in dataclasses.fields(TrainConfig)
    if field.default is not dataclasses.MISSING
}
"""Each option's default, which is also how runs recorded before the option existed were made."""


def weights_seed(seed: int, init_seed: int | None) -> int:
    """The seed of the initial weights and the augmentation order: ``init_seed`` if set, else ``seed``."""
    return seed if init_seed is None else init_seed


def _subset(examples: list[Example], limit: int | None, seed: int) -> list[Example]:
    if limit is None:
        return examples
    rng = np.random.default_rng(seed)
    kept: list[Example] = []
    for label in range(len(LABELS)):
        members = [e for e in examples if e.label == label]
        order = rng.permutation(len(members))[:limit]
        kept += [members[i] for i in sorted(order)]
    return kept


def split_examples(config: TrainConfig, labels: np.ndarray, cohorts: list[Cohort]) -> Split:
    """Validation by class (the split every model is compared on); the tuning split carved from the rest
    by class, or by class and source (``config.tuning_strata``), whole patient groups on one side.

    ``config.fit_without_reported_normal`` takes the films whose radiograph was reported without
    abnormality out of fit and tune only: their films show nothing a radiologist reported, so what they
    teach is their source's look. Validation keeps them: sensitivity with and without them stays measurable.
    """
    split = _split_by_groups(config, labels, cohorts)
    if not config.fit_without_reported_normal:
        return split
    kept = np.array([not cohort.reported_normal for cohort in cohorts], dtype=bool)
    return Split(
        fit=split.fit[kept[split.fit]], tune=split.tune[kept[split.tune]], validation=split.validation
    )


def _split_by_groups(config: TrainConfig, labels: np.ndarray, cohorts: list[Cohort]) -> Split:
    groups = [c.group for c in cohorts]
    if config.split == "grouped":
        train, validation = grouped_split(labels, groups, config.val_fraction, config.seed)
    else:
        train, validation = stratified_split(labels, config.val_fraction, config.seed)
    tuning_fraction = RECIPES[config.recipe].tuning_fraction
    if not tuning_fraction:
        return Split(fit=train, tune=np.array([], dtype=np.int64), validation=validation)
    strata = [cohorts[i].source for i in train] if config.tuning_strata == "class-and-source" else None
    fit, tune = grouped_split(
        labels[train], [groups[i] for i in train], tuning_fraction, config.seed + 1, strata=strata
    )
    return Split(fit=train[fit], tune=train[tune], validation=validation)


def _read_history(path: Path) -> dict[str, list[float]]:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {key: [float(row[key]) for row in rows] for key in (rows[0] if rows else {}) if key != "epoch"}


def _class_weights(labels: np.ndarray) -> dict[int, float]:
    counts = np.bincount(labels, minlength=len(LABELS)).astype(np.float64)
    return {i: float(len(labels) / (len(LABELS) * c)) for i, c in enumerate(counts) if c}


def _learning_rate(config: TrainConfig, recipe: Recipe, fit_size: int) -> Any:
    """Constant for the paper; for the screening recipe a cosine decay over the whole epoch budget, so
    the last epochs take small steps and the weights early stopping keeps are not a lucky spike."""
    if not recipe.cosine_schedule:
        return config.learning_rate
    import keras

    steps = config.epochs * -(-fit_size // config.batch_size)
    return keras.optimizers.schedules.CosineDecay(config.learning_rate, decay_steps=steps, alpha=0.01)


def fit_data(
    inputs: np.ndarray,
    labels: np.ndarray,
    split: Split,
    config: TrainConfig,
    recipe: Recipe,
    first_epoch: int = 0,
) -> tuple[Any, Any]:
    """What ``model.fit`` gets: the fit arrays, or for an augmenting recipe a shuffled, augmented
    tf.data pipeline of them (labels inside it, so None beside it). ``first_epoch`` > 0 (a resumed run)
    draws from another seed, so the epochs after a resume do not replay epoch 0's draws."""
    if not recipe.augment:
        return inputs[split.fit], labels[split.fit]
    from training.augment import augmented_dataset

    dataset = augmented_dataset(
        inputs[split.fit],
        labels[split.fit],
        config.batch_size,
        epoch_seed(config.weights_seed, first_epoch),
        config.augment_framing,
        config.augment_aspect,
        config.augment_border,
    )
    return dataset, None


def _fit(
    model: Any,
    inputs: np.ndarray,
    labels: np.ndarray,
    split: Split,
    config: TrainConfig,
    recipe: Recipe,
    progress: Progress,
) -> None:
    """``model.fit`` from the epoch ``progress`` reached, checkpointing every epoch (training.resume);
    ``progress`` is kept up to date (epochs, seconds) as it goes."""
    import keras

    from training.resume import Checkpoint

    early_stopping = None
    if recipe.early_stopping_patience:
        early_stopping = keras.callbacks.EarlyStopping(
            monitor="val_loss",
            patience=recipe.early_stopping_patience,
            restore_best_weights=True,
            # at a high learning rate the tuning loss jumps between epochs: watching it then stops
            # runs that are still improving (a 60-epoch run stopped at 25, best epoch 13)
            start_from_epoch=int(recipe.early_stopping_from * config.epochs),
        )
    started = time.perf_counter()
    checkpoint = Checkpoint(
        config.out, config.as_record(), progress, early_stopping, lambda: time.perf_counter() - started
    )
    callbacks: list[Any] = [
        keras.callbacks.CSVLogger(str(config.out / HISTORY), append=progress.epochs_done > 0),
        *([early_stopping] if early_stopping else []),
        checkpoint,  # after early stopping: it saves that callback's memory and final weights
    ]
    fit_inputs, fit_labels = fit_data(inputs, labels, split, config, recipe, progress.epochs_done)
    model.fit(
        fit_inputs,
        fit_labels,
        validation_data=(inputs[split.monitored], labels[split.monitored]),
        epochs=config.epochs,
        initial_epoch=progress.epochs_done,
        batch_size=None if recipe.augment else config.batch_size,
        class_weight=_class_weights(labels[split.fit]) if recipe.class_weight else None,
        callbacks=callbacks,
        verbose=2,  # one line per epoch: logs of a 40-epoch run stay readable
    )


@dataclass
class Prepared:
    """A run's data, loaded and split: the same for training and for rebuilding a bundle's gate."""

    examples: list[Example]
    cohorts: list[Cohort]
    labels: np.ndarray
    inputs: np.ndarray
    split: Split


def prepare(config: TrainConfig) -> Prepared:
    """List, load and split the data exactly as ``config`` says (the split is a function of it)."""
    examples = _subset(list_examples(config.data), config.limit_per_class, config.seed)
    counts = class_counts(examples)
    print("found:", ", ".join(f"{label}: {n}" for label, n in counts.items()), f"(total {len(examples)})")
    for root in config.data:
        if skipped := ignored_folders(root):
            print(f"{root}: skipped {', '.join(skipped)} (no class of this model's)")
    warn_without_manifest(config)
    cohorts = cohorts_for(examples, config.data)
    labels = np.array([e.label for e in examples])
    inputs = load_images(examples, config.input_spec)
    split = split_examples(config, labels, cohorts)
    print(
        f"split ({config.split}, seed {config.seed}, tuning by {config.tuning_strata}): "
        f"{len(split.fit)} fit / {len(split.tune)} tune / {len(split.validation)} validation"
    )
    return Prepared(examples, cohorts, labels, inputs, split)


def warn_without_manifest(config: TrainConfig) -> None:
    """Options that read MANIFEST.csv (patient groups, sources, ages) do little on folders without one, as
    Kaggle's own download is: every image there is its own patient of unknown age. Say so, not silently."""
    needing = [
        option
        for option, used in (
            ("--split grouped", config.split == "grouped"),
            ("--adult-normal-floor", config.adult_normal_floor is not None),
            ("--fit-without-reported-normal", config.fit_without_reported_normal),
        )
        if used
    ]
    without = [str(root) for root in config.data if not has_manifest(root)]
    if needing and without:
        print(
            f"warning: {', '.join(needing)} read patient groups and ages from a MANIFEST.csv, and "
            f"{', '.join(without)} has none: there every image counts as its own patient of unknown age "
            "(the grouped split is image-level there, and no film counts as an adult normal)",
            file=sys.stderr,
        )


def validation_lines(examples: list[Example], indices: np.ndarray) -> str:
    rows = []
    for index in indices:
        example = examples[index]
        digest = hashlib.sha256(example.path.read_bytes()).hexdigest()
        rows.append(f"{digest}  {LABELS[example.label]}  {example.source}/{example.path.name}")
    return "\n".join(rows) + "\n"


def run_training(config: TrainConfig) -> Path:
    """Train, then write the bundle (export, evaluate the exported LiteRT model, calibrate, gate)."""
    recipe = RECIPES[config.recipe]
    prepared = prepare(config)

    import keras  # only now: a data problem should not wait for TensorFlow to load

    from training.model import ARCHITECTURES, layer_table

    make_repeatable(config.weights_seed)
    model = ARCHITECTURES[config.network](config.image_size)
    model.compile(
        optimizer=keras.optimizers.Adam(_learning_rate(config, recipe, len(prepared.split.fit))),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    config.out.mkdir(parents=True, exist_ok=True)
    progress = restore(model, config.out, config.as_record(), defaults=OPTION_DEFAULTS)
    if progress.finished:
        print(f"fit had finished ({progress.epochs_done} epochs, {checkpoint_dir(config.out)}): bundle next")
    else:
        if progress.epochs_done:
            print(
                f"resuming at epoch {progress.epochs_done + 1} of {config.epochs} from "
                f"{checkpoint_dir(config.out)} (delete it to start over)"
            )
        _fit(model, prepared.inputs, prepared.labels, prepared.split, config, recipe, progress)
    epochs_run = progress.epochs_done
    seconds = progress.seconds
    print(f"trained {epochs_run} epochs in {seconds:.1f} s ({seconds / epochs_run:.2f} s/epoch)")
    described = {
        "architecture": config.network,
        "layers": layer_table(model),
        "training": {
            **config.as_record(),
            "epochs_run": epochs_run,
            "seconds_total": round(seconds, 1),
            "seconds_per_epoch": round(seconds / epochs_run, 2),
            "resumed_at_epochs": progress.resumed_at,
            "machine": machine_description(),
        },
    }
    bundle = write_bundle(config, prepared, model, described)
    remove_checkpoint(config.out)
    return bundle


def write_bundle(
    config: TrainConfig,
    prepared: Prepared,
    model: Any,
    described: dict[str, Any],
    gate_from: Path | None = None,
    legacy_h5: bool = True,
    tflite_weights: str = FLOAT32_WEIGHTS,
) -> Path:
    """Export ``model``, evaluate the exported LiteRT model, calibrate, build the gate (or copy it from
    ``gate_from``, a bundle with the same split) and write the bundle; ``described`` holds the manifest's
    architecture, layers and training record; ``legacy_h5`` adds the paper's model.h5; ``tflite_weights``
    is how model.tflite stores its weights (``bundle_format.TFLITE_WEIGHTS``)."""
    from training import export

    recipe = RECIPES[config.recipe]
    examples, cohorts, labels, inputs, split = (
        prepared.examples,
        prepared.cohorts,
        prepared.labels,
        prepared.inputs,
        prepared.split,
    )
    out = config.out
    out.mkdir(parents=True, exist_ok=True)
    tflite = export.save_models(model, out, legacy_h5, tflite_weights)
    served = Classifier(tflite, LABELS)
    train_probabilities = served.predict(inputs[split.train])
    val_probabilities = served.predict(inputs[split.validation])
    train_report = classification_report(labels[split.train], train_probabilities)
    val_report = classification_report(labels[split.validation], val_probabilities)
    protocol = (
        f"{config.split}-level stratified split {1 - config.val_fraction:.0%}/{config.val_fraction:.0%} "
        f"(seed {config.seed}) of {', '.join(p.name for p in config.data)}; recipe {recipe.name}; "
        "figures from the exported model.tflite (LiteRT)"
    )
    metrics: dict[str, Any] = {"protocol": protocol, "train": train_report, "validation": val_report}
    metrics["validation_cohorts"] = cohort_report(
        labels[split.validation], val_probabilities, [cohorts[i] for i in split.validation]
    )
    calibration = None
    if recipe.calibrate and len(split.tune):
        adult_normal = adult_normals(cohorts, labels)
        calibration, metrics["calibration"] = _calibrate(
            served, inputs, labels, split, recipe, val_probabilities, adult_normal, config.adult_normal_floor
        )
        if calibration.get("flag_thresholds"):
            rule = Calibration(**calibration)
            decided, _ = decide(LABELS, rule.calibrate(val_probabilities), rule)
            metrics["served_rule_validation_cohorts"] = cohort_report(
                labels[split.validation], np.eye(len(LABELS))[decided], [cohorts[i] for i in split.validation]
            )
    export.write_json(out / METRICS, metrics)
    print(f"accuracy: train {train_report['accuracy']:.4f}, validation {val_report['accuracy']:.4f}")

    if gate_from is None:
        gate = build_gate(config, recipe, inputs, split, out)
        export.write_json(out / GATE, gate)
    else:
        gate = copy_gate(gate_from, out)
    print(f"gate: {gate['method']} threshold {gate['threshold']:.4f}, rejects {gate['rejection_rate']}")

    (out / VALIDATION_FILES).write_text(validation_lines(examples, split.validation))
    if (out / HISTORY).exists():
        export.plot_learning_curves(_read_history(out / HISTORY), out / "learning_curves.png")
    export.plot_confusion_matrix(
        val_report["confusion_matrix"],
        LABELS,
        out / "confusion_matrix.png",
        f"validation ({len(split.validation)} images)",
    )
    fields: dict[str, Any] = {
        "labels": list(LABELS),
        "tflite_weights": tflite_weights,
        "input": {
            "height": config.image_size,
            "width": config.image_size,
            "channels": 1,
            "dtype": "float32",
            "range": [0.0, 1.0],
        },
        **described,
        "data": {
            "all": class_counts(examples),
            "train": class_counts([examples[i] for i in split.train]),
            "validation": class_counts([examples[i] for i in split.validation]),
        },
    }
    if calibration:
        fields["calibration"] = calibration
    export.write_manifest(
        out, fields, model_sha256=hashlib.sha256(tflite).hexdigest(), preprocessing=config.preprocessing
    )
    print(f"bundle written to {out}")
    return out


def copy_gate(source: Path, out: Path) -> dict[str, Any]:
    """The consistency check depends on the split and the negatives, not on the classifier's weights:
    a bundle trained on the same split can lend its own."""
    gate = json.loads((source / GATE).read_text())
    for name in (GATE, AVERAGE_IMAGE, GATE_HELD_BACK, gate.get("model")):
        if name and (source / name).exists():
            shutil.copyfile(source / name, out / name)
    return gate


def _calibrate(
    served: Classifier,
    inputs: np.ndarray,
    labels: np.ndarray,
    split: Split,
    recipe: Recipe,
    val_probabilities: np.ndarray,
    adult_normal: np.ndarray,
    adult_normal_floor: float | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Temperature and flag thresholds fitted on the tuning split; ECE, the indeterminate share and the
    served decision rule's figures measured on validation. ``adult_normal`` marks every example;
    with ``adult_normal_floor`` a threshold is also raised until that share of the tuning split's adult
    normals is still read Normal (and dropped when argmax alone reads fewer)."""
    from training.calibration import expected_calibration_error, fit_screening_calibration

    calibration, parts = fit_screening_calibration(
        served.predict(inputs[split.tune]),
        labels[split.tune],
        adult_normal[split.tune],
        recipe.flag_sensitivity,
        recipe.min_confidence,
        adult_normal_floor,
    )
    temperature, flags = calibration.temperature, calibration.flag_thresholds
    calibrated = apply_temperature(val_probabilities, temperature)
    truth = labels[split.validation]
    decided, flagged = decide(LABELS, calibrated, calibration)
    confident = (calibrated.max(axis=1) >= recipe.min_confidence) | flagged
    correct = decided == truth
    report = {
        "temperature": temperature,
        "fitted_on": f"tuning split ({len(split.tune)} images, grouped by patient, carved from training)",
        "ece_validation_before": expected_calibration_error(val_probabilities, truth),
        "ece_validation_after": expected_calibration_error(calibrated, truth),
        "min_confidence": recipe.min_confidence,
        "flag_thresholds": flags,
        "flag_rule": ", ".join(
            f"{label}: the largest threshold that keeps {target:.0%} recall on the tuning split"
            for label, target in recipe.flag_sensitivity
        )
        + (
            f"; raised until {adult_normal_floor:.0%} of the tuning split's adult normals "
            f"({int(adult_normal[split.tune].sum())}) are read Normal, dropped if argmax reads fewer"
            if adult_normal_floor is not None
            else ""
        ),
        "flag_threshold_parts": parts,
        "indeterminate_share_validation": round(float(1 - confident.mean()), 4),
        "accuracy_when_confident_validation": round(float(correct[confident].mean()), 4)
        if confident.any()
        else None,
        "accuracy_when_indeterminate_validation": round(float(correct[~confident].mean()), 4)
        if (~confident).any()
        else None,
        "served_rule_validation": classification_report(truth, np.eye(len(LABELS))[decided]),
    }
    fields = {"temperature": temperature, "min_confidence": recipe.min_confidence}
    if flags:
        fields["flag_thresholds"] = flags
    return fields, report


def build_gate(
    config: TrainConfig, recipe: Recipe, inputs: np.ndarray, split: Split, out: Path
) -> dict[str, Any]:
    from training import export
    from training.calibrate_gate import load_negatives

    average = export.average_image(inputs[split.train])
    export.write_png(out / AVERAGE_IMAGE, average)
    served_average = average_input((out / AVERAGE_IMAGE).read_bytes(), config.image_size)
    if not (recipe.learned_gate and config.negatives):
        negatives = load_negatives(config.negatives, config.input_spec) if config.negatives else None
        return calibrate_gate(
            inputs[split.train], inputs[split.validation], served_average, negatives, recipe.gate_keep
        )
    from training.gate_model import split_negatives
    from training.learned_gate import build_learned_gate

    negatives = split_negatives(config.negatives, config.input_spec, config.seed)
    if config.synthetic_negatives:
        from training.synthetic_negatives import add_drawn_kind

        add_drawn_kind(negatives, config.synthetic_negatives, config.input_spec, config.seed)
    gate = calibrate_gate(
        inputs[split.train],
        inputs[split.validation],
        served_average,
        negatives.held_back,
        recipe.gate_keep,
        choose_on=negatives.train,
    )
    (out / GATE_HELD_BACK).write_text(
        "".join(
            f"{digest}  {kind}\n" for kind, hashes in negatives.held_back_files.items() for digest in hashes
        )
    )
    return build_learned_gate(gate, inputs, split, negatives, served_average, config.seed, out / GATE_MODEL)
