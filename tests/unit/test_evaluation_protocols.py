"""The pieces behind the evaluation protocols: patient groups, grouped split, bootstrap, calibration."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from function.calibration import Calibration, apply_temperature
from infra.locations import ADULT_SET, TRAINING_SET
from training.calibration import expected_calibration_error, fit_temperature
from training.cohorts import Cohort, bootstrap_interval, cohorts_for, grouped_split, read_cohorts
from training.data import list_examples
from training.report import black_out_lung_fields, crop_border
from training.train import Split, TrainConfig, split_examples


def test_manifest_cohorts_mark_kermany_pediatric_and_group_patients(shared_data: Path) -> None:
    cohorts = read_cohorts(TRAINING_SET)
    assert {c.age for path, c in cohorts.items() if path.startswith("Normal/")} == {"pediatric"}
    covid_ages = Counter(c.age for path, c in cohorts.items() if path.startswith("COVID/"))
    assert covid_ages["adult"] > 1000 and covid_ages["pediatric"] == 13
    groups = Counter(c.group for c in cohorts.values())
    assert max(groups.values()) > 5, "some patients have several films"
    reported_normal = [path for path, c in cohorts.items() if c.reported_normal]
    assert len(reported_normal) == 37 and all(path.startswith("COVID/") for path in reported_normal)


def test_adult_supplement_groups_consecutive_bimcv_numbers(shared_data: Path) -> None:
    cohorts = read_cohorts(ADULT_SET)
    assert {c.age for c in cohorts.values()} == {"adult"}
    covid_groups = Counter(c.group for path, c in cohorts.items() if path.startswith("COVID/"))
    assert len(covid_groups) < 1601 and max(covid_groups.values()) >= 5
    assert {c.source for path, c in cohorts.items() if path.startswith("Normal/")} == {
        "RSNA/NIH (clinical, US)"
    }


def test_folders_without_a_manifest_fall_back_to_one_group_per_file(tmp_path: Path) -> None:
    from PIL import Image

    for label in ("COVID", "Normal", "Viral Pneumonia"):
        (tmp_path / label).mkdir()
        Image.new("L", (16, 16)).save(tmp_path / label / "a.png")
    examples = list_examples([tmp_path])
    cohorts = cohorts_for(examples, [tmp_path])
    assert len({c.group for c in cohorts}) == 3 and {c.age for c in cohorts} == {"unknown"}


def test_grouped_split_keeps_every_group_on_one_side() -> None:
    groups = [f"p{i // 3}" for i in range(300)]  # 100 patients, 3 films each
    labels = np.array([int(g[1:]) % 3 for g in groups])
    train, val = grouped_split(labels, groups, 0.4, seed=1)
    assert not {groups[i] for i in train} & {groups[i] for i in val}
    assert len(train) + len(val) == 300
    assert abs(len(val) / 300 - 0.4) < 0.05
    again = grouped_split(labels, groups, 0.4, seed=1)[1]
    np.testing.assert_array_equal(val, again)


def test_a_patient_with_films_of_two_classes_stays_on_one_side() -> None:
    """A follow-up film of another class must not put the same patient in training and validation."""
    groups = [f"p{i // 4}" for i in range(400)]  # 100 patients, 4 films each
    labels = np.array([(i // 4 + i % 2) % 3 for i in range(400)])  # two classes within every patient
    for seed in range(5):
        train, val = grouped_split(labels, groups, 0.4, seed)
        assert not {groups[i] for i in train} & {groups[i] for i in val}, seed
        assert len(train) + len(val) == 400 and abs(len(val) / 400 - 0.4) < 0.05


def _two_sources(big_group: int = 20) -> tuple[np.ndarray, list[str], list[str]]:
    """One class, two sources: "big" in groups of ``big_group`` films (200), "small" in 200 single films."""
    sources = ["big"] * 200 + ["small"] * 200
    groups = [f"b{i // big_group}" for i in range(200)] + [f"s{i}" for i in range(200)]
    return np.zeros(400, dtype=np.int64), groups, sources


def test_a_split_by_source_takes_the_fraction_within_each_source() -> None:
    labels, groups, sources = _two_sources()
    for seed in range(5):
        train, val = grouped_split(labels, groups, 0.15, seed, strata=sources)
        assert not {groups[i] for i in train} & {groups[i] for i in val}
        taken = Counter(sources[i] for i in val)
        # round(200 * 0.15) = 30 from each source, overshooting by less than one group
        assert 30 <= taken["big"] < 30 + 20 and 30 <= taken["small"] < 31, (seed, taken)


def test_one_stratum_is_the_split_by_class_alone() -> None:
    """The default must stay the split the release was trained on: same random draws, same sides."""
    labels = np.arange(400) % 2
    groups = [f"p{i // 4}" if i % 2 else f"q{i // 4}" for i in range(400)]
    plain = grouped_split(labels, groups, 0.15, seed=3)
    one_stratum = grouped_split(labels, groups, 0.15, seed=3, strata=["any"] * 400)
    for side, same in zip(plain, one_stratum, strict=True):
        np.testing.assert_array_equal(side, same)


def test_tuning_by_class_and_source_keeps_the_validation_split() -> None:
    """Only the tuning split changes: every model stays comparable on one validation split. By class
    alone a source of large patient groups swings in the tuning split from seed to seed; by source it
    keeps its share."""
    sources = ["big"] * 600 + ["small"] * 600
    groups = [f"b{i // 10}" for i in range(600)] + [f"s{i}" for i in range(600)]
    labels = np.array([int(group[1:]) % 2 for group in groups])  # each patient's films of one class
    cohorts = [Cohort(group=g, source=s, age="adult") for g, s in zip(groups, sources, strict=True)]

    def tuning_shares(split: Split) -> list[float]:
        return [
            sum(sources[i] == source for i in split.tune if labels[i] == label)
            / sum(sources[i] == source for i in split.train if labels[i] == label)
            for label in (0, 1)
            for source in ("big", "small")
        ]

    swings = []
    for seed in range(5):
        by_class, by_source = (
            split_examples(
                TrainConfig(
                    data=[],
                    out=Path("."),
                    recipe="screening",
                    split="grouped",
                    seed=seed,
                    tuning_strata=strata,
                ),
                labels,
                cohorts,
            )
            for strata in ("class", "class-and-source")
        )
        np.testing.assert_array_equal(by_class.validation, by_source.validation)
        assert not set(by_source.tune) & (set(by_source.fit) | set(by_source.validation))
        assert sorted([*by_source.fit, *by_source.tune]) == sorted([*by_class.fit, *by_class.tune])
        assert all(0.1 <= share <= 0.2 for share in tuning_shares(by_source)), (
            seed,
            tuning_shares(by_source),
        )
        swings.append(max(abs(share - 0.15) for share in tuning_shares(by_class)))
    assert max(swings) > 0.05, swings  # the case the option exists for


def test_films_reported_normal_leave_fit_and_tune_but_stay_in_validation() -> None:
    labels = np.arange(300) % 3
    cohorts = [
        Cohort(group=f"p{i}", source="web", age="adult", reported_normal=i % 7 == 1) for i in range(300)
    ]
    config = TrainConfig(data=[], out=Path("."), recipe="screening", split="grouped")
    everything = split_examples(config, labels, cohorts)
    config.fit_without_reported_normal = True
    curated = split_examples(config, labels, cohorts)
    np.testing.assert_array_equal(curated.validation, everything.validation)
    assert any(cohorts[i].reported_normal for i in curated.validation)
    for part in ("fit", "tune"):
        kept, before = getattr(curated, part), getattr(everything, part)
        assert not any(cohorts[i].reported_normal for i in kept)
        assert sorted(kept) == [i for i in before if not cohorts[i].reported_normal]


def test_bootstrap_interval_covers_the_mean_and_widens_with_clustering() -> None:
    correct = np.array([1] * 90 + [0] * 10, dtype=float)
    independent = bootstrap_interval(correct, [str(i) for i in range(100)])
    clustered = bootstrap_interval(correct, [str(i // 10) for i in range(100)])  # errors all in one patient
    assert independent[0] < 0.9 < independent[1]
    assert clustered[1] - clustered[0] > independent[1] - independent[0]


def test_temperature_scaling_recovers_an_overconfident_model() -> None:
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, 4000)
    logits = rng.normal(size=(4000, 3))
    logits[np.arange(4000), truth] += 1.0
    honest = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    overconfident = apply_temperature(honest, 0.4)  # as if logits were multiplied by 2.5
    temperature = fit_temperature(overconfident, truth)
    assert 2.0 < temperature < 3.0
    assert expected_calibration_error(apply_temperature(overconfident, temperature), truth) < 0.5 * (
        expected_calibration_error(overconfident, truth)
    )
    np.testing.assert_array_equal(
        apply_temperature(overconfident, temperature).argmax(axis=1), overconfident.argmax(axis=1)
    )


def test_served_calibration_defaults_to_identity() -> None:
    identity = Calibration.from_manifest({})
    probabilities = np.array([0.2, 0.5, 0.3])
    np.testing.assert_array_equal(identity.calibrate(probabilities), probabilities)
    assert identity.is_confident(probabilities)
    strict = Calibration.from_manifest({"calibration": {"temperature": 2.0, "min_confidence": 0.6}})
    assert not strict.is_confident(strict.calibrate(probabilities))


@pytest.mark.parametrize("probe", [black_out_lung_fields, crop_border])
def test_shortcut_probes_keep_shape_and_change_the_image(probe) -> None:  # type: ignore[no-untyped-def]
    inputs = np.random.default_rng(0).random((2, 64, 64, 1), dtype=np.float32)
    probed = probe(inputs)
    assert probed.shape == inputs.shape and probed.dtype == np.float32
    assert not np.allclose(probed, inputs)


def test_lung_fields_are_blacked_out_and_the_border_is_kept() -> None:
    probed = black_out_lung_fields(np.ones((1, 64, 64, 1), dtype=np.float32))
    assert probed[0, 30, 19, 0] == 0.0 and probed[0, 30, 45, 0] == 0.0  # inside each lung field
    assert probed[0, 1, 1, 0] == 1.0 and probed[0, 62, 32, 0] == 1.0  # corner and bottom edge


def test_the_released_gates_held_back_negatives_are_reproduced(shared_data: Path) -> None:
    """The held-back half of each kind (where the gate's rejection rates were measured) is a pure function
    of the folder, the input size and the seed, and so are the held-back drawn images, so anyone can
    re-measure the same images."""
    import json

    from function.imaging import InputSpec
    from infra.locations import ADULT_SET, NOT_CHEST, RELEASE_BUNDLE, TRAINING_SET
    from training.bundle_split import config_from_manifest
    from training.gate_model import split_negatives

    manifest = json.loads((RELEASE_BUNDLE / "manifest.json").read_text())
    spec = InputSpec(int(manifest["input"]["height"]), manifest["preprocessing_version"])
    split = split_negatives(NOT_CHEST, spec, int(manifest["training"]["seed"]))
    listed = (RELEASE_BUNDLE / "gate_held_back_files.txt").read_text().split()
    expected = [(digest, kind) for kind, hashes in split.held_back_files.items() for digest in hashes]
    assert listed == [part for pair in expected for part in pair]
    gate = json.loads((RELEASE_BUNDLE / "gate.json").read_text())
    drawn = config_from_manifest(
        RELEASE_BUNDLE, manifest, [TRAINING_SET, ADULT_SET], NOT_CHEST
    ).synthetic_negatives
    counts = {kind: len(images) for kind, images in split.held_back.items()}
    assert {**counts, **({"synthetic": drawn} if drawn else {})} == gate["held_back"]["negatives"]


@pytest.mark.parametrize("recipe", ["screening", "screening-whole-split"])
def test_only_the_whole_split_recipe_fits_on_every_training_image(recipe: str, shared_data: Path) -> None:
    """The paper's protocol trains on the whole 60%: the whole-split recipe must not carve a tuning split
    out of it, and the screening recipe must (its early stopping and calibration need one)."""
    from training.data import stratified_split
    from training.train import TrainConfig, prepare

    config = TrainConfig(
        data=[TRAINING_SET], out=Path("unused"), recipe=recipe, image_size=32, limit_per_class=60
    )
    prepared = prepare(config)
    train, validation = stratified_split(prepared.labels, config.val_fraction, config.seed)
    assert np.array_equal(prepared.split.validation, validation)
    assert np.array_equal(prepared.split.train, np.sort(train))
    if recipe == "screening-whole-split":
        assert len(prepared.split.tune) == 0
    else:
        assert 0 < len(prepared.split.tune) < len(train) / 4
