"""The training CLI: ``python -m training COMMAND``: train, evaluate, gate, crop-note, ensemble,
recompute-batchnorm, publish.

See ``--help`` of each command."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from function.bundle_format import INT8_DYNAMIC_WEIGHTS, TFLITE_WEIGHTS, BundleError
from function.imaging import DEFAULT_PREPROCESSING, PREPROCESSING_VERSIONS
from training.checkpoint import CheckpointMismatch
from training.data import DatasetError
from training.recipes import ARCHITECTURE_NAMES, RECIPES, TUNING_STRATA
from training.views import VIEW_SETS


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model and write a bundle folder")
    add = train.add_argument
    add(
        "--data",
        type=Path,
        action="append",
        required=True,
        help="a Kaggle-layout folder (2020 or 2021 release); repeat to combine folders",
    )
    add("--out", type=Path, required=True, help="bundle folder to write")
    add(
        "--recipe",
        choices=sorted(RECIPES),
        default="paper",
        help="paper: the published protocol; screening: augmentation, class weights, early stopping, "
        "temperature scaling and the learned gate stage; screening-whole-split: the screening network and "
        "augmentation on the whole training split, no tuning split (training/recipes.py)",
    )
    add(
        "--split",
        choices=["image", "grouped"],
        default="image",
        help="image: the paper's image-level split; grouped: by patient (from MANIFEST.csv where present)",
    )
    add("--epochs", type=int, default=100, help="at most this many (the screening recipe stops early)")
    add("--val-fraction", type=float, default=0.4, help="0.4 = the paper's 60/40; 0.2 = 80/20")
    add("--image-size", type=int, default=64)
    add("--seed", type=int, default=0, help="the split; also the weights unless --init-seed is given")
    add(
        "--init-seed",
        type=int,
        default=None,
        help="weights and augmentation order only: members of an ensemble share --seed, differ here",
    )
    add("--batch-size", type=int, default=32)
    add(
        "--negatives",
        type=Path,
        default=None,
        help="a not-chest-xray folder (one subfolder per kind): measures the gate, trains its second stage",
    )
    _add_synthetic_negatives(add, 0, "")
    add("--limit-per-class", type=int, default=None, help="use at most N images per class (quick runs)")
    add(
        "--architecture",
        choices=sorted(ARCHITECTURE_NAMES),
        default=None,
        help="the network to train instead of the recipe's (an ensemble may mix them; training/model.py)",
    )
    add(
        "--tuning-strata",
        choices=TUNING_STRATA,
        default="class",
        help="how the screening recipe's tuning split is drawn from the training split: by class (the "
        "release's), or by class and source so its mix of hospitals matches the rest (the validation "
        "split is the same either way)",
    )
    add(
        "--fit-without-reported-normal",
        action="store_true",
        help="leave the COVID-19 films whose radiograph their source reports without abnormality "
        "(MANIFEST.csv note) out of fit and tune; validation keeps them",
    )
    add(
        "--augment-framing",
        action="store_true",
        help="the screening recipe's augmentation also crops up to about 8%% a side and squeezes films "
        "between black bars to 4:3, as uploads come (bench.upload_robustness)",
    )
    add(
        "--augment-aspect",
        action="store_true",
        help="the screening recipe's augmentation also widens or narrows each film's chest by 0.8 to 1.25, "
        "so that the film's shape stops telling its class (bench.aspect_probe)",
    )
    add(
        "--augment-border",
        action="store_true",
        help="the screening recipe's augmentation also paints, on half the films, a band of up to 15%% of "
        "each side one drawn gray, so the border stops telling the class (bench.heatmap_location)",
    )
    add(
        "--preprocessing",
        choices=sorted(PREPROCESSING_VERSIONS),
        default=DEFAULT_PREPROCESSING,
        help="how files become model input, recorded in the bundle and used when it is served: "
        + "; ".join(f"{key}: {value}" for key, value in PREPROCESSING_VERSIONS.items()).replace("%", "%%"),
    )
    _add_adult_normal_floor(add, "")

    evaluate = commands.add_parser("evaluate", help="run a bundle's model.tflite on a Kaggle-layout folder")
    add = evaluate.add_argument
    add("--bundle", type=Path, required=True)
    add("--data", type=Path, action="append", required=True)
    add("--validation-only", action="store_true", help="only the images in the bundle's validation_files.txt")
    add(
        "--validation-files",
        type=Path,
        default=None,
        help="only the images in this validation_files.txt (another bundle's split: compare models on it)",
    )
    add(
        "--cohorts",
        action="store_true",
        help="add figures by source and age group with patient-grouped bootstrap 95%% intervals",
    )
    add(
        "--perturb",
        choices=["lungs-blacked-out", "border-cropped"],
        default=None,
        help="shortcut probe: evaluate with the lung fields blacked out or the border cropped away",
    )
    add(
        "--served-rule",
        action="store_true",
        help="score the API's readings (calibration and screening flag thresholds), not the argmax",
    )
    add("--json", action="store_true", help="print the report as JSON")

    gate = commands.add_parser(
        "gate", help="rebuild a bundle's consistency check (both stages) in place, classifier untouched"
    )
    add = gate.add_argument
    add("--bundle", type=Path, required=True)
    add("--data", type=Path, action="append", required=True, help="the folders the bundle was trained on")
    add("--negatives", type=Path, required=True, help="a not-chest-xray folder (one subfolder per kind)")
    _add_synthetic_negatives(add, None, "default: as the bundle's check was built; ")

    crop_note = commands.add_parser(
        "crop-note",
        help="add (or retrain) a bundle's crop detector, behind the 'cropped' upload note, in place",
    )
    add = crop_note.add_argument
    add("--bundle", type=Path, required=True)
    add("--data", type=Path, action="append", required=True, help="the folders the bundle was trained on")
    add("--epochs", type=int, help="training epochs (default: training.crop_note.EPOCHS)")

    ensemble = commands.add_parser(
        "ensemble", help="one bundle averaging the probabilities of bundles trained on one split"
    )
    add = ensemble.add_argument
    add("--member", type=Path, action="append", required=True, help="a member bundle; repeat (2 or more)")
    add("--data", type=Path, action="append", required=True, help="the folders the members were trained on")
    add("--out", type=Path, required=True, help="a new (or empty) folder for the ensemble bundle")
    add(
        "--tflite-weights",
        choices=TFLITE_WEIGHTS,
        default=INT8_DYNAMIC_WEIGHTS,
        help="how model.tflite stores weights: int8 runs the ensemble faster than one float member",
    )
    add(
        "--views",
        choices=sorted(VIEW_SETS),
        default="none",
        help="test-time views inside the model: zoom also reads each image zoomed to 1.06 and 0.94 and "
        "averages (about four times the inference cost, docs/benchmarks.md; training/views.py)",
    )
    _add_adult_normal_floor(add, "the members' own unless given; ")

    recompute = commands.add_parser(
        "recompute-batchnorm",
        help="a bundle's batch-norm statistics recomputed on its clean fit films (training/batchnorm.py)",
    )
    add = recompute.add_argument
    add("--bundle", type=Path, required=True, help="a member or an ensemble bundle (one view)")
    add("--data", type=Path, action="append", required=True, help="the folders the bundle was trained on")
    add("--out", type=Path, required=True, help="a new (or empty) folder for the recomputed bundle")

    publish = commands.add_parser("publish", help="upload a bundle to S3, manifest.json last")
    add = publish.add_argument
    add("--bundle", type=Path, required=True)
    add("--bucket", required=True)
    add("--prefix", default="models/")
    add(
        "--versioned",
        action="store_true",
        help="publish under <prefix><bundle_version>/ and refuse to change a version already there "
        "(what infra/deploy.sh does; the stack's BundleVersion then switches to it)",
    )
    add("--endpoint-url", default=None, help="an S3-compatible server, e.g. http://127.0.0.1:5000")
    return parser  # fmt: skip


def _add_synthetic_negatives(add: Callable[..., Any], default: int | None, prefix: str) -> None:
    """The option of `train` and `gate`: drawn non-radiographs for the learned stage of the check."""
    add(
        "--synthetic-negatives",
        type=int,
        default=default,
        metavar="N",
        help=prefix + "with --negatives and a learned gate: N drawn images that are not radiographs (flat, "
        "ramps, stripes, test patterns, marks, clouds, noise) train the second stage, N more are held back "
        "(training/synthetic_negatives.py)",
    )


def _add_adult_normal_floor(add: Callable[..., Any], prefix: str) -> None:
    """The option of `train` and `ensemble`: the screening threshold's second anchor, a calibration choice."""
    add(
        "--adult-normal-floor",
        type=float,
        default=None,
        metavar="SHARE",
        help=prefix + "raise the screening threshold until this share (e.g. 0.95) of the tuning split's "
        "adult normals is still read Normal; no threshold if argmax alone reads fewer "
        "(docs/model-experiments.md)",
    )


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    for option in ("augment_framing", "augment_aspect", "augment_border"):
        if args.command == "train" and getattr(args, option) and not RECIPES[args.recipe].augment:
            parser.error(f"--{option.replace('_', '-')} needs a recipe that augments; {args.recipe} does not")
    if (getattr(args, "synthetic_negatives", None) or 0) < 0:
        parser.error("--synthetic-negatives is a count of images, 0 or more")
    floor = getattr(args, "adult_normal_floor", None)
    if floor is not None and not 0.0 < floor <= 1.0:
        parser.error(f"--adult-normal-floor is a share of films, above 0 and at most 1, not {floor}")
    if args.command == "train" and floor is not None and not RECIPES[args.recipe].flag_sensitivity:
        parser.error(f"--adult-normal-floor needs a screening threshold; recipe {args.recipe} has none")
    try:
        if args.command == "train":
            from training.train import TrainConfig, run_training

            run_training(
                TrainConfig(
                    data=args.data,
                    out=args.out,
                    recipe=args.recipe,
                    split=args.split,
                    epochs=args.epochs,
                    val_fraction=args.val_fraction,
                    image_size=args.image_size,
                    seed=args.seed,
                    init_seed=args.init_seed,
                    batch_size=args.batch_size,
                    negatives=args.negatives,
                    limit_per_class=args.limit_per_class,
                    architecture=args.architecture,
                    tuning_strata=args.tuning_strata,
                    fit_without_reported_normal=args.fit_without_reported_normal,
                    augment_framing=args.augment_framing,
                    augment_aspect=args.augment_aspect,
                    augment_border=args.augment_border,
                    preprocessing=args.preprocessing,
                    adult_normal_floor=args.adult_normal_floor,
                    synthetic_negatives=args.synthetic_negatives,
                )
            )
        elif args.command == "evaluate":
            from training.evaluate import evaluate_bundle, format_report

            report = evaluate_bundle(
                args.bundle,
                args.data,
                validation_only=args.validation_only,
                validation_files=args.validation_files,
                cohorts=args.cohorts,
                perturbation=args.perturb,
                progress=not args.json,
                served_rule=args.served_rule,
            )
            print(json.dumps(report, indent=2) if args.json else format_report(report))
        elif args.command == "gate":
            from training.rebuild_gate import rebuild_gate

            gate = rebuild_gate(args.bundle, args.data, args.negatives, args.synthetic_negatives)
            print(f"gate: rejects {gate['rejection_rate']}, false rejection {gate['false_rejection_rate']}")
        elif args.command == "crop-note":
            from training.crop_note import build_crop_note

            note = build_crop_note(args.bundle, args.data, args.epochs)
            validation = note["validation"]
            print(
                f"crop note: threshold {note['threshold']}; validation whole films noted "
                f"{validation['whole_films_noted']}, crops caught {validation['crops_caught']}"
            )
        elif args.command == "ensemble":
            from training.ensemble import build_ensemble

            build_ensemble(
                args.member, args.data, args.out, args.tflite_weights, args.views, args.adult_normal_floor
            )
        elif args.command == "recompute-batchnorm":
            from training.batchnorm import recompute_bundle

            recompute_bundle(args.bundle, args.data, args.out)
        elif args.command == "publish":
            from training.publish import publish_bundle

            published = publish_bundle(
                args.bundle, args.bucket, args.prefix, args.endpoint_url, versioned=args.versioned
            )
            for key in published.written:
                print(f"uploaded s3://{args.bucket}/{key}")
            print(f"{len(published.written)} uploaded, {len(published.unchanged)} already there unchanged")
            print(f"bundle at s3://{args.bucket}/{published.prefix}")
    except (DatasetError, BundleError, CheckpointMismatch) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
