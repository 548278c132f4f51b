"""The crop note's detector: a small CNN that tells a tightly cropped film from a whole one.

A crop is the upload every recipe reads worst (``bench.upload_robustness``: cut 8% a side, the release
reads 53% of adult normals Normal against 95% of the whole films), and the black-bars note cannot see it:
nothing is added, something is missing. The model learned the framing of whole films, so a crop is read
as an unfamiliar framing, most often "COVID-19". This detector lets the service say so ("cropped" note,
``function.framing.CropDetector``); like the black-bars note it changes no reading.

It is trained on the bundle's fit split only: each film whole, and cut by 3% to 15% on each side (a side
left uncut a quarter of the time), both through the served resize (``function.imaging.to_model_input``)
after the same random upload processing (``as_uploaded``: exported larger or smaller to the same picture
size, turned a little, darker or brighter, JPEG-compressed), so that the cut is the only difference between
the classes. The threshold lets ``NOTED_WHOLE_FILMS`` of the tuning split's whole films, as stored and as
uploaded, get the note; the validation split is only measured (``crop_note.json``: whole films noted, per
class and age group, as uploaded, and crops of 5%, 8% and 12% a side and 8% top and bottom caught).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from function.bundle_format import CROP_MODEL, CROP_NOTE, LABELS, BundleError
from function.classifier import Classifier
from function.framing import CROP_LABELS, CROPPED_LABEL
from function.imaging import to_model_input
from training.cohorts import Cohort, adult_normals

if TYPE_CHECKING:
    from training.train import Prepared

MIN_CUT, MAX_CUT = 0.03, 0.15
"""Each cut side loses this share of its length: from barely visible to a crop of the lungs alone."""
UNCUT_SIDE = 0.25
"""How often a side of a training crop is left whole: a screenshot crop is rarely even."""
NOTED_WHOLE_FILMS = 0.02
"""The share of whole films (tuning split) the note may fall on: the price of catching crops."""
EPOCHS = 20
MEASURED_CROPS: dict[str, tuple[float, float, float, float]] = {
    "cut 5% a side": (0.05, 0.05, 0.05, 0.05),
    "cut 8% a side": (0.08, 0.08, 0.08, 0.08),
    "cut 12% a side": (0.12, 0.12, 0.12, 0.12),
    "cut 8% top and bottom": (0.08, 0.08, 0.0, 0.0),
}
"""(top, bottom, left, right) shares cut: the crops the validation split is measured on."""


def cut(gray: np.ndarray, sides: Sequence[float]) -> np.ndarray:
    """``gray`` without the (top, bottom, left, right) shares of its height and width."""
    height, width = gray.shape
    top, bottom = (round(share * height) for share in sides[:2])
    left, right = (round(share * width) for share in sides[2:])
    return gray[top : height - bottom, left : width - right]


def _as_gray(model_input: np.ndarray) -> np.ndarray:
    return np.clip(np.round(model_input[..., 0] * 255.0), 0, 255).astype(np.uint8)


def random_sides(rng: np.random.Generator) -> np.ndarray:
    """(top, bottom, left, right) shares to cut: each MIN_CUT..MAX_CUT or none, at least one 5% or more."""
    sides = rng.uniform(MIN_CUT, MAX_CUT, size=4)
    sides[rng.random(4) < UNCUT_SIDE] = 0.0
    if sides.max() < 0.05:
        sides[int(rng.integers(4))] = rng.uniform(0.05, MAX_CUT)
    return sides


EXPORT_FILTERS = (cv2.INTER_CUBIC, cv2.INTER_LINEAR, cv2.INTER_LANCZOS4)
"""How an upload may have been enlarged: the second detector noted 31% of whole films enlarged bilinearly,
10-13% bicubic or Lanczos, having been trained on bicubic alone (``bench.crop_note_paths``)."""
UPLOAD_SEED_OFFSET = 1
"""The tuning and report uploads draw from ``seed + UPLOAD_SEED_OFFSET``, apart from the training draws."""


def picture_scale(rng: np.random.Generator) -> float:
    """How many times the stored film's side the upload's picture is, after any cut: a full-size export
    (1.5 to 8 times) half the time, a smaller one (0.75 to 1) a fifth, the stored size otherwise."""
    draw = rng.random()
    if draw < 0.5:
        return float(rng.uniform(1.5, 8.0))
    if draw < 0.7:
        return float(rng.uniform(0.75, 1.0))
    return 1.0


def as_uploaded(
    gray: np.ndarray, rng: np.random.Generator, sides: Sequence[float] | None = None
) -> np.ndarray:
    """The model input of the film as one upload might bring it, cut by ``sides`` or whole."""
    return to_model_input(uploaded_picture(gray, rng, sides), gray.shape[0])


def uploaded_picture(
    gray: np.ndarray, rng: np.random.Generator, sides: Sequence[float] | None = None
) -> np.ndarray:
    """The film as one upload might bring it, cut by ``sides`` or whole, before the served resize.

    Every step but the cut is drawn alike for both classes, so that only the cut tells them apart: a
    detector trained on pristine whole films against resampled crops learned "not the stored pixels"
    instead (it noted 48% of whole films uploaded at 1024 px; docs/model-experiments.md, "The crop
    note").
    The picture a crop leaves has the same drawn size as a whole film's (the film is exported larger by
    what the cut takes), so a crop is not blurrier than a whole film of the same upload size: the second
    detector, whose crops were cut from the export and then enlarged, noted 10-13% of enlarged whole films."""
    size = gray.shape[0]
    kept = 1.0 if sides is None else float(np.sqrt((1 - sides[0] - sides[1]) * (1 - sides[2] - sides[3])))
    scale = picture_scale(rng) / kept
    image = gray
    if scale != 1.0:
        side = round(size * scale)
        filter_ = cv2.INTER_AREA if scale < 1.0 else int(rng.choice(EXPORT_FILTERS))
        image = cv2.resize(image, (side, side), interpolation=filter_)
    if rng.random() < 0.25:  # a crooked scan, corners black
        height, width = image.shape
        turn = cv2.getRotationMatrix2D((width / 2, height / 2), rng.uniform(-6.0, 6.0), 1.0)
        image = cv2.warpAffine(image, turn, (width, height), flags=cv2.INTER_LINEAR, borderValue=0)
    if sides is not None:
        image = cut(image, sides)
    if rng.random() < 0.25:
        table = np.round(255.0 * (np.arange(256) / 255.0) ** rng.uniform(0.67, 1.5)).astype(np.uint8)
        image = table[image]
    if rng.random() < 0.5:
        quality = int(rng.integers(30, 96))
        image = cv2.imdecode(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])[1], 0)
    return np.ascontiguousarray(image)


def uploaded_wholes(inputs: np.ndarray, seed: int) -> np.ndarray:
    """Each film whole, once as an upload might bring it: what the threshold is set on besides the stored
    films (the second detector's threshold, set on stored films alone, let 13% of enlarged ones be noted)."""
    rng = np.random.default_rng(seed + UPLOAD_SEED_OFFSET)
    return np.stack([whole_variant(_as_gray(model_input), rng) for model_input in inputs])


def whole_variant(gray: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return as_uploaded(gray, rng)


def cropped_variant(gray: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return as_uploaded(gray, rng, random_sides(rng))


def training_pairs(
    inputs: np.ndarray, rng: np.random.Generator, copies: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """``copies`` whole and ``copies`` cropped variants of every film: model inputs and 0/1 labels."""
    images: list[np.ndarray] = []
    labels: list[int] = []
    for model_input in inputs:
        gray = _as_gray(model_input)
        for _ in range(copies):
            images += [whole_variant(gray, rng), cropped_variant(gray, rng)]
            labels += [0, 1]
    return np.stack(images), np.array(labels, dtype=np.int64)


def train_crop_model(inputs: np.ndarray, seed: int, epochs: int = EPOCHS) -> Any:
    """Fit the gate's small CNN (``training.gate_model.gate_cnn``) to whole vs cropped."""
    import keras

    from training.gate_model import gate_cnn

    images, labels = training_pairs(inputs, np.random.default_rng(seed))
    keras.utils.set_random_seed(seed)
    model = gate_cnn(inputs.shape[1], classes=len(CROP_LABELS))
    batch_size = 64
    steps = epochs * -(-len(images) // batch_size)
    model.compile(  # as the gate: a schedule that settles the last epoch, smoothed labels
        optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=steps)),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.05),
        metrics=["accuracy"],
    )
    one_hot = np.eye(len(CROP_LABELS), dtype=np.float32)[labels]
    model.fit(images, one_hot, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=2)
    return model


def cropped_probability(detector: Classifier, inputs: np.ndarray) -> np.ndarray:
    return detector.predict(inputs)[:, CROP_LABELS.index(CROPPED_LABEL)]


def crop_report(
    score: Callable[[np.ndarray], np.ndarray],
    threshold: float,
    inputs: np.ndarray,
    uploaded: np.ndarray,
    labels: np.ndarray,
    cohorts: Sequence[Cohort],
) -> dict[str, Any]:
    """Share of whole films noted, as stored (all, per class, adults and children) and as uploaded
    (``uploaded``: one ``as_uploaded`` copy of each), and of each measured crop caught."""
    adult = np.array([cohort.age == "adult" for cohort in cohorts], dtype=bool)
    adult_normal = adult_normals(cohorts, labels)

    def noted(images: np.ndarray) -> np.ndarray:
        return score(images) >= threshold

    grays = [_as_gray(model_input) for model_input in inputs]
    size = inputs.shape[1]
    whole = noted(inputs)
    per_class = {label: whole[labels == index] for index, label in enumerate(LABELS)}
    crops = {
        name: noted(np.stack([to_model_input(cut(gray, sides), size) for gray in grays]))
        for name, sides in MEASURED_CROPS.items()
    }
    return {
        "films": len(inputs),
        "whole_films_noted": _share(whole),
        "whole_films_noted_per_class": {label: _share(values) for label, values in per_class.items()},
        "whole_films_noted_adult": _share(whole[adult]),
        "whole_films_noted_pediatric_or_unknown": _share(whole[~adult]),
        "whole_films_as_uploaded_noted": _share(noted(uploaded)),
        "crops_caught": {name: _share(values) for name, values in crops.items()},
        "adult_normals": int(adult_normal.sum()),
        "adult_normals_cropped_8pct_caught": _share(crops["cut 8% a side"][adult_normal]),
    }


def _share(values: np.ndarray) -> float | None:
    return round(float(values.mean()), 4) if len(values) else None


def split_reports(
    detector: Classifier, threshold: float, prepared: Prepared, seed: int
) -> dict[str, dict[str, Any]]:
    """``crop_report`` of the tuning and the validation split: what ``crop_note.json`` records, and what
    ``measure_crop_note`` recomputes from a bundle."""
    rows = {"tuning": prepared.split.tune, "validation": prepared.split.validation}
    return {
        name: crop_report(
            lambda images: cropped_probability(detector, images),
            threshold,
            prepared.inputs[indices],
            uploaded_wholes(prepared.inputs[indices], seed),
            prepared.labels[indices],
            [prepared.cohorts[index] for index in indices],
        )
        for name, indices in rows.items()
    }


def measure_crop_note(bundle: Path, data: list[Path]) -> dict[str, dict[str, Any]]:
    """The bundle's served crop detector measured again on its recomputed split (``split_reports``)."""
    from function.bundle import FolderSource, load_bundle
    from training.bundle_split import prepare_as_trained

    detector = load_bundle(FolderSource(bundle)).crop_detector
    if detector is None:
        raise BundleError(f"{bundle.name} has no crop detector ({CROP_NOTE})")
    _, config, prepared = prepare_as_trained(bundle, data)
    return split_reports(detector.model, detector.threshold, prepared, config.seed)


def build_crop_note(bundle: Path, data: list[Path], epochs: int | None = None) -> dict[str, Any]:
    """Train the detector on the bundle's fit split, choose its threshold on the tuning split, measure it
    on the validation split; write ``crop_model.tflite`` and ``crop_note.json`` and a new manifest.

    ``epochs`` None means ``EPOCHS``: the CLI leaves the default here so that its start-up need not import
    this module (OpenCV and all) for every command."""
    epochs = EPOCHS if epochs is None else epochs
    from training import export
    from training.bundle_split import prepare_as_trained
    from training.repeatable import make_repeatable

    manifest, config, prepared = prepare_as_trained(bundle, data)
    make_repeatable(None)
    split, inputs = prepared.split, prepared.inputs
    if not len(split.tune):
        raise BundleError(f"{bundle.name} has no tuning split to choose the crop note's threshold on")
    model = train_crop_model(inputs[split.fit], config.seed, epochs)
    tflite = export.to_tflite(model)
    (bundle / CROP_MODEL).write_bytes(tflite)
    detector = Classifier(tflite, CROP_LABELS)
    tune_wholes = np.concatenate([inputs[split.tune], uploaded_wholes(inputs[split.tune], config.seed)])
    tune_scores = cropped_probability(detector, tune_wholes)
    # rounded before the reports are made, so that crop_note.json records what the served threshold does
    threshold = round(float(np.quantile(tune_scores, 1.0 - NOTED_WHOLE_FILMS, method="higher")), 6)

    note = {
        "model": CROP_MODEL,
        "model_labels": list(CROP_LABELS),
        "threshold": threshold,
        "threshold_rule": f"percentile {100 * (1 - NOTED_WHOLE_FILMS):g} of P({CROPPED_LABEL}) over the "
        "tuning split's whole films, each as stored and once as uploaded (uploaded_wholes), to 6 decimals",
        "training": {
            "films": f"the fit split ({len(split.fit)} films), each twice whole and twice cropped",
            "crops": f"{MIN_CUT:.0%} to {MAX_CUT:.0%} of each side, "
            f"a side uncut {UNCUT_SIDE:.0%} of the time",
            "processing": "as_uploaded, alike for whole films and crops: exported larger (bicubic, "
            "bilinear or Lanczos) or smaller to the same picture size after the cut, turned a little, "
            "darker or brighter, JPEG-compressed",
            "epochs": epochs,
            "seed": config.seed,
        },
        **split_reports(detector, threshold, prepared, config.seed),
    }
    export.write_json(bundle / CROP_NOTE, note)
    export.rewrite_manifest(bundle, manifest, "crop_note_added", {"epochs": epochs})
    return note
