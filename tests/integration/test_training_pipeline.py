"""The training CLI end to end: a 1-epoch run on a small subset of the shared data yields a verified bundle,
and ``evaluate`` reproduces the committed release's metrics.json."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bench.release_rule import release_rule, rule_figures
from function.bundle import FolderSource, load_bundle
from function.bundle_format import MANIFEST, SERVED_FILES, sha256_hex
from function.imaging import InputSpec
from infra.locations import ADULT_SET, NOT_CHEST, PAPER_BUNDLE, RELEASE_BUNDLE, REPO_ROOT, TRAINING_SET

EXPECTED_FILES = {
    "manifest.json",
    "model.keras",
    "model.h5",
    "model.tflite",
    "average.png",
    "gate.json",
    "metrics.json",
    "validation_files.txt",
    "history.csv",
    "learning_curves.png",
    "confusion_matrix.png",
}


CLI_ENV = {"TF_CPP_MIN_LOG_LEVEL": "2", "PATH": "/usr/bin:/bin"}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "training", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=CLI_ENV,
    )


@pytest.fixture(scope="module")
def small_bundle(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    out = tmp_path_factory.mktemp("bundle")
    result = _cli(
        "train", "--data", str(TRAINING_SET), "--out", str(out), "--epochs", "1",
        "--limit-per-class", "40", "--negatives", str(NOT_CHEST),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "found: Normal: 40, COVID-19: 40, Viral Pneumonia: 40" in result.stdout
    return out


@pytest.mark.slow
def test_one_epoch_training_writes_a_complete_verified_bundle(small_bundle: Path) -> None:
    assert {p.name for p in small_bundle.iterdir()} == EXPECTED_FILES
    manifest = json.loads((small_bundle / MANIFEST).read_text())
    assert set(manifest["files"]) == EXPECTED_FILES - {MANIFEST}
    for name, entry in manifest["files"].items():
        assert sha256_hex((small_bundle / name).read_bytes()) == entry["sha256"], name
    assert manifest["labels"] == ["Normal", "COVID-19", "Viral Pneumonia"]
    assert manifest["input"] == {
        "height": 64,
        "width": 64,
        "channels": 1,
        "dtype": "float32",
        "range": [0.0, 1.0],
    }
    assert manifest["data"]["validation"] == {"Normal": 16, "COVID-19": 16, "Viral Pneumonia": 16}
    assert len(manifest["layers"]) >= 13
    loaded = load_bundle(FolderSource(small_bundle))
    assert loaded.input_size == 64 and set(SERVED_FILES) <= set(manifest["files"])
    gate = json.loads((small_bundle / "gate.json").read_text())
    assert set(gate["rejection_rate"]) == {"ct", "mri", "other-xray", "photo", "lateral-chest"}
    assert len((small_bundle / "validation_files.txt").read_text().splitlines()) == 48


@pytest.mark.slow
def test_training_is_reproducible_on_one_machine(small_bundle: Path, tmp_path: Path) -> None:
    """`make release` promises the committed members again: the same data, split and weights seed give the
    same model.tflite byte for byte (--init-seed 0 is the default weights seed; no --negatives, which
    only the consistency check uses)."""
    result = _cli(
        "train", "--data", str(TRAINING_SET), "--out", str(tmp_path), "--epochs", "1",
        "--limit-per-class", "40", "--init-seed", "0",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "model.tflite").read_bytes() == (small_bundle / "model.tflite").read_bytes()


@pytest.mark.slow
def test_a_tampered_bundle_does_not_load(small_bundle: Path, tmp_path: Path) -> None:
    from function.bundle_format import BundleError

    for path in small_bundle.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    model = tmp_path / "model.tflite"
    model.write_bytes(model.read_bytes()[:-1] + b"\0")
    with pytest.raises(BundleError, match=r"model\.tflite fails its sha256"):
        load_bundle(FolderSource(tmp_path))


@pytest.mark.slow
def test_evaluate_reproduces_the_small_bundles_metrics(small_bundle: Path) -> None:
    result = _cli(
        "evaluate", "--bundle", str(small_bundle), "--data", str(TRAINING_SET), "--validation-only", "--json"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    metrics = json.loads((small_bundle / "metrics.json").read_text())["validation"]
    assert report == metrics


@pytest.mark.parametrize("bundle", [RELEASE_BUNDLE, PAPER_BUNDLE], ids=["release", "paper"])
def test_evaluate_reproduces_the_committed_bundles_metrics(bundle: Path, shared_data: Path) -> None:
    manifest = json.loads((bundle / MANIFEST).read_text())
    data = [arg for name in manifest["training"]["data"] for arg in ("--data", str(shared_data / name))]
    result = _cli("evaluate", "--bundle", str(bundle), *data, "--validation-only", "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report == json.loads((bundle / "metrics.json").read_text())["validation"]
    assert report["n"] == sum(manifest["data"]["validation"].values())


def test_the_releases_crop_note_records_what_its_served_detector_does(shared_data: Path) -> None:
    """crop_note.json is what the crop-note figures of the model card and the experiment log come from:
    the served detector, at its served threshold, must reproduce it on the recomputed split (a threshold
    rounded after the reports were made once moved one tuning film)."""
    from training.crop_note import measure_crop_note

    manifest = json.loads((RELEASE_BUNDLE / MANIFEST).read_text())
    data = [shared_data / name for name in manifest["training"]["data"]]
    recorded = json.loads((RELEASE_BUNDLE / "crop_note.json").read_text())
    measured = measure_crop_note(RELEASE_BUNDLE, data)
    assert measured == {"tuning": recorded["tuning"], "validation": recorded["validation"]}
    assert measured["validation"]["films"] == sum(manifest["data"]["validation"].values())


def test_evaluate_reproduces_the_served_rules_figures(shared_data: Path) -> None:
    """The release's screening flag threshold changes readings; evaluate --served-rule scores exactly the
    readings training reported for it (and they differ from the argmax's)."""
    manifest = json.loads((RELEASE_BUNDLE / MANIFEST).read_text())
    metrics = json.loads((RELEASE_BUNDLE / "metrics.json").read_text())
    assert manifest["calibration"].get("flag_thresholds"), "the release has no screening threshold"
    data = [arg for name in manifest["training"]["data"] for arg in ("--data", str(shared_data / name))]
    flags = ("--validation-only", "--served-rule", "--json")
    result = _cli("evaluate", "--bundle", str(RELEASE_BUNDLE), *data, *flags)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report == metrics["calibration"]["served_rule_validation"]
    assert report["confusion_matrix"] != metrics["validation"]["confusion_matrix"]


def test_train_refuses_a_folder_without_the_classes(tmp_path: Path) -> None:
    (tmp_path / "Normal").mkdir()
    result = _cli("train", "--data", str(tmp_path), "--out", str(tmp_path / "out"), "--epochs", "1")
    assert result.returncode == 2
    assert "tensorflow" not in result.stderr.lower(), "a data error should stop before TensorFlow loads"
    assert "no images for Normal, COVID-19, Viral Pneumonia" in result.stderr


@pytest.fixture(scope="module")
def small_screening_bundle(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    out = tmp_path_factory.mktemp("screening")
    result = _cli(
        "train", "--data", str(TRAINING_SET), "--out", str(out), "--recipe", "screening", "--epochs", "2",
        "--limit-per-class", "40", "--negatives", str(NOT_CHEST),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def _checkpointed_epochs(out: Path) -> dict[str, object] | None:
    """The progress in the run's checkpoint (training.resume), or None before the first epoch ends."""
    for folder in (".resume", ".resume.old"):
        try:
            return json.loads((out / folder / "state.json").read_text())["progress"]
        except FileNotFoundError:  # not written yet, or renamed away while we looked
            continue
    return None


@pytest.mark.slow
def test_a_killed_training_resumes_at_its_last_finished_epoch(tmp_path: Path, shared_data: Path) -> None:
    """SIGKILL in the middle of fit, then the same command: it goes on from the checkpointed epoch,
    logs every epoch once, records where it resumed, and leaves no checkpoint beside the bundle. The
    command with other options is refused in between, naming what differs."""
    args = [
        "train", "--data", str(TRAINING_SET), "--out", str(tmp_path), "--recipe", "screening",
        "--epochs", "8", "--limit-per-class", "40",
    ]  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "training", *args],
        cwd=REPO_ROOT,
        env=CLI_ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 600
    while process.poll() is None and time.monotonic() < deadline:
        progress = _checkpointed_epochs(tmp_path)
        if progress and progress["epochs_done"] >= 2:
            break
        time.sleep(0.05)
    process.kill()
    assert process.wait() == -9, "the run ended before it could be killed in the middle of fit"
    progress = _checkpointed_epochs(tmp_path)
    assert progress is not None and not progress["finished"] and not (tmp_path / MANIFEST).exists()
    killed_at = progress["epochs_done"]

    other = _cli(*[("9" if arg == "8" else arg) for arg in args])
    assert other.returncode == 2 and "(epochs differ)" in other.stderr, other.stderr[-3000:]
    result = _cli(*args)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"resuming at epoch {killed_at + 1} of 8" in result.stdout
    training = json.loads((tmp_path / MANIFEST).read_text())["training"]
    assert (training["resumed_at_epochs"], training["epochs_run"]) == ([killed_at], 8)
    history = (tmp_path / "history.csv").read_text().splitlines()[1:]
    assert [int(line.split(",")[0]) for line in history] == list(range(8))
    assert not list(tmp_path.glob(".resume*"))
    load_bundle(FolderSource(tmp_path))


@pytest.mark.slow
def test_a_training_cut_off_in_its_consistency_check_resumes_the_checks_fit(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The process dies after the second stage's first epoch (its checkpoint written, ``.resume-gate``);
    the same command takes the finished classifier from its checkpoint and the check's fit from epoch 2,
    and leaves no checkpoint beside the bundle. In process, so the cut falls at a known epoch."""
    from training import resume
    from training.__main__ import main
    from training.checkpoint import GATE_CHECKPOINT_DIR

    class Killed(Exception):
        pass

    written = resume.Checkpoint.on_epoch_end

    def dies_after_the_checks_first_epoch(self: resume.Checkpoint, epoch: int, logs: object = None) -> None:
        written(self, epoch, logs)
        if self.name == GATE_CHECKPOINT_DIR:
            raise Killed

    args = [
        "train", "--data", str(TRAINING_SET), "--out", str(tmp_path), "--recipe", "screening",
        "--epochs", "1", "--limit-per-class", "40", "--negatives", str(NOT_CHEST),
    ]  # fmt: skip
    with monkeypatch.context() as patched:
        patched.setattr(resume.Checkpoint, "on_epoch_end", dies_after_the_checks_first_epoch)
        with pytest.raises(Killed):
            main(args)
    assert (tmp_path / GATE_CHECKPOINT_DIR).is_dir() and not (tmp_path / MANIFEST).exists()
    capsys.readouterr()
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert (
        "fit had finished (1 epochs" in printed and "consistency check: resuming at epoch 2 of 30" in printed
    )
    assert not list(tmp_path.glob(".resume*"))
    gate = json.loads((tmp_path / "gate.json").read_text())
    assert gate["model_training"]["resumed_at_epochs"] == [1]
    load_bundle(FolderSource(tmp_path))


@pytest.mark.slow
def test_the_screening_recipe_writes_its_architecture_calibration_and_learned_gate(
    small_screening_bundle: Path,
) -> None:
    manifest = json.loads((small_screening_bundle / MANIFEST).read_text())
    metrics = json.loads((small_screening_bundle / "metrics.json").read_text())
    gate = json.loads((small_screening_bundle / "gate.json").read_text())
    assert manifest["architecture"] == manifest["training"]["architecture"] == "screening-cnn"
    assert manifest["training"]["recipe"] == "screening"
    assert 0.25 <= manifest["calibration"]["temperature"] <= 20
    validation_size = sum(manifest["data"]["validation"].values())
    assert metrics["calibration"]["served_rule_validation"]["n"] == validation_size
    assert gate["model"] == "gate_model.tflite" and 0 < gate["model_threshold"] <= 0.5
    assert "learned stage's training negatives" in gate["calibration"]["chosen_by"]
    assert gate["model_training"]["resumed_at_epochs"] == []
    loaded = load_bundle(FolderSource(small_screening_bundle))
    assert loaded.gate.frontal_threshold == gate["model_threshold"]


def _changed_in_place(
    trained: Path, tmp_path: Path, change: str, command: str, *options: str
) -> tuple[Path, dict, dict]:
    """A copy of ``trained`` changed by ``python -m training COMMAND --bundle copy --data ...``: the copy
    and its manifest before and after, checked to name the version it replaced and to keep its model,
    validation list and metrics."""
    bundle = tmp_path / "bundle"
    shutil.copytree(trained, bundle)
    before = json.loads((bundle / MANIFEST).read_text())
    result = _cli(command, "--bundle", str(bundle), "--data", str(TRAINING_SET), *options)
    assert result.returncode == 0, result.stderr[-3000:]
    after = json.loads((bundle / MANIFEST).read_text())
    assert after[change]["previous_bundle_version"] == before["bundle_version"]
    for unchanged in ("model.tflite", "validation_files.txt", "metrics.json"):
        assert after["files"][unchanged] == before["files"][unchanged], unchanged
    return bundle, before, after


@pytest.mark.slow
def test_gate_rebuilds_the_check_in_place_and_leaves_the_classifier(
    small_screening_bundle: Path, tmp_path: Path
) -> None:
    """With drawn images among the second stage's negatives: trained on, held back and measured, and the
    manifest records how many."""
    bundle, before, after = _changed_in_place(
        small_screening_bundle,
        tmp_path,
        "gate_rebuilt",
        "gate",
        "--negatives",
        str(NOT_CHEST),
        "--synthetic-negatives",
        "18",
    )
    assert after["calibration"] == before["calibration"] and after["training"] == before["training"]
    assert after["gate_rebuilt"]["synthetic_negatives"] == 18
    gate = json.loads((bundle / "gate.json").read_text())
    assert gate["model_training"]["negatives"]["synthetic"] == 18
    assert gate["held_back"]["negatives"]["synthetic"] == 18 and "synthetic" in gate["rejection_rate"]
    assert not list(bundle.glob(".resume*"))  # the check's fit was checkpointed in the bundle
    load_bundle(FolderSource(bundle))  # the rewritten manifest verifies


@pytest.mark.slow
def test_crop_note_adds_its_detector_in_place_and_the_service_notes_by_it(
    small_screening_bundle: Path, tmp_path: Path
) -> None:
    from function.service import read_image
    from training.crop_note import NOTED_WHOLE_FILMS

    bundle, before, after = _changed_in_place(
        small_screening_bundle, tmp_path, "crop_note_added", "crop-note", "--epochs", "1"
    )
    note = json.loads((bundle / "crop_note.json").read_text())
    assert {"crop_note.json", "crop_model.tflite"} <= set(after["files"])
    assert after["files"]["gate.json"] == before["files"]["gate.json"]
    tuned = note["tuning"]
    # the threshold rule: at most NOTED_WHOLE_FILMS of the tuning split's whole films, as stored and as
    # uploaded, noted (ties aside)
    pooled = (tuned["whole_films_noted"] + tuned["whole_films_as_uploaded_noted"]) / 2
    assert pooled <= NOTED_WHOLE_FILMS + 1 / (2 * tuned["films"]) + 1e-4
    assert set(note["validation"]["crops_caught"]) == {
        "cut 5% a side", "cut 8% a side", "cut 12% a side", "cut 8% top and bottom",
    }  # fmt: skip
    loaded = load_bundle(FolderSource(bundle))
    assert loaded.crop_detector is not None and loaded.crop_detector.threshold == note["threshold"]
    for path in sorted((TRAINING_SET / "COVID" / "images").glob("*.png"))[:5]:
        data = path.read_bytes()
        model_input = loaded.input_spec.from_bytes(data)
        noted = [n.code for n in read_image(loaded, data).notes] == ["cropped"]
        assert noted == loaded.crop_detector.cropped(model_input), path.name


def test_gate_refuses_data_that_does_not_reproduce_the_split(
    small_screening_bundle: Path, tmp_path: Path
) -> None:
    """Same folder name, other images: the recomputed validation split would differ, and radiographs the
    classifier was validated on could leak into the gate's training."""
    impostor = tmp_path / TRAINING_SET.name
    for class_folder in ("COVID", "Normal", "Viral Pneumonia"):
        images = sorted((TRAINING_SET / class_folder / "images").iterdir())[-45:]
        (impostor / class_folder / "images").mkdir(parents=True)
        for image in images:
            (impostor / class_folder / "images" / image.name).symlink_to(image)
    bundle = tmp_path / "bundle"
    shutil.copytree(small_screening_bundle, bundle)
    result = _cli("gate", "--bundle", str(bundle), "--data", str(impostor), "--negatives", str(NOT_CHEST))
    assert result.returncode == 2
    assert f"does not reproduce {bundle.name}'s validation_files.txt" in result.stderr
    assert (bundle / MANIFEST).read_bytes() == (small_screening_bundle / MANIFEST).read_bytes()


def test_gate_names_the_training_folders_it_needs(small_screening_bundle: Path, tmp_path: Path) -> None:
    bundle, negatives = str(small_screening_bundle), str(NOT_CHEST)
    result = _cli("gate", "--bundle", bundle, "--data", str(tmp_path), "--negatives", negatives)
    assert result.returncode == 2
    assert f"pass --data for ['{TRAINING_SET.name}']" in result.stderr


@pytest.fixture(scope="module")
def second_member(tmp_path_factory: pytest.TempPathFactory, small_bundle: Path) -> Path:
    """``small_bundle``'s split and recipe with another network and other initial weights: a member."""
    out = tmp_path_factory.mktemp("member")
    result = _cli(
        "train", "--data", str(TRAINING_SET), "--out", str(out), "--epochs", "1",
        "--limit-per-class", "40", "--init-seed", "7", "--architecture", "screening-cnn-fullres",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def _ensemble(out: Path, members: list[Path], *options: str) -> Path:
    member_args = [arg for member in members for arg in ("--member", str(member))]
    result = _cli("ensemble", *member_args, "--data", str(TRAINING_SET), "--out", str(out), *options)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def small_ensemble(tmp_path_factory: pytest.TempPathFactory, small_bundle: Path, second_member: Path) -> Path:
    """float32 weights: LiteRT then gives the exact mean of the members."""
    out = tmp_path_factory.mktemp("ensemble")
    return _ensemble(out, [small_bundle, second_member], "--tflite-weights", "float32")


@pytest.mark.slow
def test_an_ensemble_serves_the_mean_of_its_members_probabilities(
    small_bundle: Path, second_member: Path, small_ensemble: Path
) -> None:
    ensemble, members = (
        load_bundle(FolderSource(small_ensemble)),
        [load_bundle(FolderSource(b)) for b in (small_bundle, second_member)],
    )
    rng = np.random.default_rng(0)
    images = rng.random((6, 64, 64, 1), dtype=np.float32)
    outputs = [member.classifier.predict(images) for member in members]
    assert not np.allclose(outputs[0], outputs[1], atol=1e-3)  # the members really differ
    np.testing.assert_allclose(ensemble.classifier.predict(images), np.mean(outputs, axis=0), atol=1e-5)
    manifest = ensemble.manifest
    assert manifest["architecture"] == "ensemble of 1 paper-cnn + 1 screening-cnn-fullres"
    assert "architecture" not in manifest["training"]  # per member, below
    assert manifest["tflite_weights"] == "float32"
    assert [m["weights_seed"] for m in manifest["training"]["members"]] == [0, 7]
    networks = [m["architecture"] for m in manifest["training"]["members"]]
    assert networks == ["paper-cnn", "screening-cnn-fullres"]
    assert [m["bundle_version"] for m in manifest["training"]["members"]] == [b.version for b in members]
    assert not (small_ensemble / "model.h5").exists()  # model.keras holds the members once
    for copied in ("gate.json", "average.png", "validation_files.txt"):
        assert (small_ensemble / copied).read_bytes() == (small_bundle / copied).read_bytes(), copied


def test_ensemble_refuses_members_of_another_split(
    small_bundle: Path, second_member: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    shutil.copytree(second_member, other)
    manifest = json.loads((other / MANIFEST).read_text())
    manifest["training"]["seed"] = 1
    (other / MANIFEST).write_text(json.dumps(manifest))
    result = _cli(
        "ensemble", "--member", str(small_bundle), "--member", str(other),
        "--data", str(TRAINING_SET), "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert result.returncode == 2
    assert "member 2 differs from member 1 in training.seed" in result.stderr
    assert not (tmp_path / "out").exists()


def test_ensemble_refuses_a_member_twice(small_bundle: Path, tmp_path: Path) -> None:
    result = _cli(
        "ensemble", "--member", str(small_bundle), "--member", str(small_bundle),
        "--data", str(TRAINING_SET), "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert result.returncode == 2
    assert "repeat a network and weights seed (paper-cnn seed 0)" in result.stderr


def test_ensemble_refuses_a_member_whose_keras_model_was_changed(
    small_bundle: Path, second_member: Path, tmp_path: Path
) -> None:
    """model.keras is what the ensemble is built from, and the function never reads it: checked here."""
    other = tmp_path / "other"
    shutil.copytree(second_member, other)
    with (other / "model.keras").open("ab") as keras_file:
        keras_file.write(b"\0")
    result = _cli(
        "ensemble", "--member", str(small_bundle), "--member", str(other),
        "--data", str(TRAINING_SET), "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert result.returncode == 2
    assert f"member {other} does not verify: model.keras fails its sha256 check" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_an_int8_ensemble_stays_close_to_the_float_one_at_a_quarter_of_the_size(
    small_bundle: Path, second_member: Path, small_ensemble: Path, tmp_path: Path
) -> None:
    """The default export: int8 weights must not change the readings of real radiographs noticeably."""
    int8 = load_bundle(FolderSource(_ensemble(tmp_path / "int8", [small_bundle, second_member])))
    float32 = load_bundle(FolderSource(small_ensemble))
    assert int8.manifest["tflite_weights"] == "int8-dynamic-range"
    sizes = [(bundle / "model.tflite").stat().st_size for bundle in (tmp_path / "int8", small_ensemble)]
    assert sizes[0] < 0.35 * sizes[1]
    radiographs = sorted((TRAINING_SET / "COVID" / "images").glob("*.png"))[:8]
    inputs = np.stack([int8.input_spec.from_bytes(path.read_bytes()) for path in radiographs])
    close, exact = int8.classifier.predict(inputs), float32.classifier.predict(inputs)
    assert not np.array_equal(close, exact)  # really another model file
    np.testing.assert_allclose(close, exact, atol=0.05)


def _zoomed(images: np.ndarray, scale: float) -> np.ndarray:
    """The reference zoom, from tf.image rather than the Keras layers the model is built with: bilinear
    resize to round(size * scale), then a centred crop or zero padding back to size."""
    import tensorflow as tf

    size = images.shape[1]
    if scale == 1.0:
        return images
    scaled = tf.image.resize(images, (round(size * scale), round(size * scale)), method="bilinear")
    return tf.image.resize_with_crop_or_pad(scaled, size, size).numpy()


@pytest.mark.slow
def test_a_zoom_view_ensemble_serves_the_mean_over_members_and_views(
    small_bundle: Path, second_member: Path, small_ensemble: Path, tmp_path: Path
) -> None:
    """``--views zoom``: every member reads the image as given, zoomed in to 1.06 and out to 0.94."""
    out = _ensemble(
        tmp_path / "zoom", [small_bundle, second_member], "--tflite-weights", "float32", "--views", "zoom"
    )
    zoomed, plain = load_bundle(FolderSource(out)), load_bundle(FolderSource(small_ensemble))
    members = [load_bundle(FolderSource(b)).classifier for b in (small_bundle, second_member)]
    radiographs = sorted((TRAINING_SET / "Normal" / "images").glob("*.png"))[:6]
    images = np.stack([zoomed.input_spec.from_bytes(path.read_bytes()) for path in radiographs])
    expected = np.mean(
        [member.predict(_zoomed(images, scale)) for scale in (1.0, 1.06, 0.94) for member in members], axis=0
    )
    served = zoomed.classifier.predict(images)
    np.testing.assert_allclose(served, expected, atol=1e-5)
    assert np.abs(served - plain.classifier.predict(images)).max() > 1e-4  # the views change the reading
    assert zoomed.manifest["architecture"] == (
        "ensemble of 1 paper-cnn + 1 screening-cnn-fullres, each on 3 views (zoom 1, 1.06, 0.94)"
    )
    assert zoomed.manifest["training"]["test_time_views"] == [1.0, 1.06, 0.94]
    assert zoomed.manifest["input"] == plain.manifest["input"]  # the served input contract is unchanged


@pytest.mark.slow
def test_preprocessing_2_reaches_the_training_inputs_and_the_manifest(
    small_bundle: Path, tmp_path: Path
) -> None:
    """`--preprocessing 2` changes what the model is trained on (the average radiograph, the mean of the
    training inputs, differs from the version-1 run's on the same split) and is written in the manifest the
    service and `evaluate` read it from; evaluation then reproduces the recorded metrics."""
    result = _cli(
        "train", "--data", str(TRAINING_SET), "--out", str(tmp_path), "--epochs", "1",
        "--limit-per-class", "40", "--preprocessing", "2",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "validation_files.txt").read_text() == (
        small_bundle / "validation_files.txt"
    ).read_text()
    assert (tmp_path / "average.png").read_bytes() != (small_bundle / "average.png").read_bytes()
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert (manifest["preprocessing_version"], manifest["training"]["preprocessing"]) == ("2", "2")
    assert load_bundle(FolderSource(tmp_path)).input_spec == InputSpec(64, "2")
    evaluated = _cli(
        "evaluate", "--bundle", str(tmp_path), "--data", str(TRAINING_SET), "--validation-only", "--json"
    )
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    assert json.loads(evaluated.stdout) == json.loads((tmp_path / "metrics.json").read_text())["validation"]


@pytest.mark.slow
def test_the_release_rule_counts_the_readings_training_reported(small_screening_bundle: Path) -> None:
    """bench.release_rule recomputes the split and the served readings itself; its counts must be those of
    the served-rule confusion matrix that training wrote, or its verdict judges something else."""
    figures = rule_figures(small_screening_bundle, [TRAINING_SET])
    matrix = np.array(
        json.loads((small_screening_bundle / "metrics.json").read_text())["calibration"][
            "served_rule_validation"
        ]["confusion_matrix"]
    )
    assert (figures.correct.hits, figures.correct.of) == (int(np.trace(matrix)), int(matrix.sum()))
    assert (figures.covid_caught.hits, figures.covid_caught.of) == (int(matrix[1, 1]), int(matrix[1].sum()))
    assert figures.adult_normals_normal.of == 0  # the first folder's normals are all children's


@pytest.mark.slow
def test_the_release_rule_never_lets_a_bundle_replace_itself(small_screening_bundle: Path) -> None:
    verdict = release_rule(small_screening_bundle, small_screening_bundle, [TRAINING_SET]).splitlines()[-1]
    assert verdict.startswith("verdict: the candidate does not replace the release")
    assert "not more than the release's" in verdict


def test_the_release_rule_refuses_bundles_of_different_validation_lists(small_bundle: Path) -> None:
    with pytest.raises(SystemExit, match="different validation lists"):
        release_rule(small_bundle, RELEASE_BUNDLE, [TRAINING_SET])


def _tuning_adult_normals_read_normal(bundle: Path, threshold: float | None) -> tuple[int, int]:
    """How many of the bundle's tuning-split adult normals the served model reads Normal at ``threshold``
    (recomputed from the data: the split, the served model.tflite and the manifest's temperature)."""
    from function.calibration import Calibration, decide
    from training.bundle_split import prepare_as_trained
    from training.cohorts import adult_normals

    loaded = load_bundle(FolderSource(bundle))
    _, _, prepared = prepare_as_trained(bundle, [TRAINING_SET, ADULT_SET])
    tune = prepared.split.tune
    adult_normal = adult_normals([prepared.cohorts[i] for i in tune], prepared.labels[tune])
    rule = Calibration(loaded.calibration.temperature, 0.0, {"COVID-19": threshold} if threshold else {})
    decided, _ = decide(loaded.labels, rule.calibrate(loaded.classifier.predict(prepared.inputs[tune])), rule)
    return int((decided[adult_normal] == 0).sum()), int(adult_normal.sum())


def _floor_member(out: Path, init_seed: str, *options: str) -> Path:
    result = _cli(
        "train", "--data", str(TRAINING_SET), "--data", str(ADULT_SET), "--out", str(out),
        "--recipe", "screening", "--split", "grouped", "--epochs", "1", "--limit-per-class", "60",
        "--init-seed", init_seed, *options,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return out


@pytest.mark.slow
def test_the_adult_normal_floor_anchors_the_screening_threshold(
    tmp_path_factory: pytest.TempPathFactory, shared_data: Path
) -> None:
    """`train --adult-normal-floor 0.9` records the floor and its anchor, and the served threshold keeps 90%
    of the tuning split's adult normals Normal (or there is none, because argmax alone reads fewer); an
    ensemble given --adult-normal-floor 1.0 overrides its members' floor the same way."""
    member = _floor_member(tmp_path_factory.mktemp("floor"), "1", "--adult-normal-floor", "0.9")
    other = _floor_member(tmp_path_factory.mktemp("nofloor"), "2")
    ensemble = _ensemble(
        tmp_path_factory.mktemp("floor-ensemble"),
        [member, other],
        "--adult-normal-floor",
        "1",
        "--data",
        str(ADULT_SET),
    )
    for bundle, floor in ((member, 0.9), (ensemble, 1.0)):
        manifest = json.loads((bundle / MANIFEST).read_text())
        assert manifest["training"]["adult_normal_floor"] == floor
        parts = json.loads((bundle / "metrics.json").read_text())["calibration"]["flag_threshold_parts"]
        served = (manifest["calibration"].get("flag_thresholds") or {}).get("COVID-19")
        assert parts["COVID-19"]["threshold"] == served and "for_adult_normal_floor" in parts["COVID-19"]
        read_normal, counted = _tuning_adult_normals_read_normal(bundle, served)
        assert counted > 0
        if served is not None:
            assert read_normal >= floor * counted
        elif parts["COVID-19"]["for_recall"] is not None:  # dropped by the floor: argmax reads too few
            assert read_normal < floor * counted
    assert json.loads((other / MANIFEST).read_text())["training"]["adult_normal_floor"] is None


def test_the_adult_normal_floor_must_be_a_share(tmp_path: Path) -> None:
    result = _cli("train", "--data", str(TRAINING_SET), "--out", str(tmp_path), "--adult-normal-floor", "95")
    assert result.returncode == 2 and "above 0 and at most 1" in result.stderr
    result = _cli(
        "train", "--data", str(TRAINING_SET), "--out", str(tmp_path), "--adult-normal-floor", "0.95"
    )
    assert result.returncode == 2 and "recipe paper has none" in result.stderr


@pytest.mark.slow
def test_the_spread_bench_takes_an_ensembles_members_out_of_it_in_order(
    small_bundle: Path, second_member: Path, small_ensemble: Path
) -> None:
    """bench.ensemble_spread recombines the release's members with new ones: each must be the member it
    names, not another member or the whole ensemble."""
    import keras

    from bench.ensemble_spread import member_networks

    rng = np.random.default_rng(1)
    images = rng.random((6, 64, 64, 1), dtype=np.float32)
    taken = member_networks(small_ensemble)
    assert [name for name, _ in taken] == ["seed 0", "seed 7"]
    for (_, network), member in zip(taken, (small_bundle, second_member), strict=True):
        own = keras.models.load_model(member / "model.keras", compile=False)
        np.testing.assert_allclose(
            network.predict(images, verbose=0), own.predict(images, verbose=0), atol=1e-6
        )
    assert [name for name, _ in member_networks(second_member)] == ["seed 7"]


def test_the_release_rule_judges_only_the_candidates_own_members(
    small_ensemble: Path, small_bundle: Path
) -> None:
    from bench.release_rule import members_figures

    with pytest.raises(SystemExit, match="was built from"):
        members_figures(small_ensemble, [small_bundle], [TRAINING_SET])


@pytest.mark.slow
def test_the_threshold_bootstrap_refits_what_training_fitted(small_screening_bundle: Path) -> None:
    """bench.threshold_bootstrap's spread means something only if its refit on the whole tuning split is the
    rule training wrote into the bundle: same temperature, same flag thresholds."""
    from bench.threshold_bootstrap import read_tuning

    readings = read_tuning(small_screening_bundle, [TRAINING_SET])
    whole = readings.refit(np.arange(len(readings.tune_truth)))
    assert (whole.temperature, whole.flag_thresholds) == (
        readings.calibration.temperature,
        readings.calibration.flag_thresholds,
    )
    assert readings.served(whole) == readings.served(readings.calibration)


def test_the_release_rule_takes_an_ensembles_members_out_of_the_ensemble_itself(
    small_ensemble: Path, small_bundle: Path, second_member: Path
) -> None:
    """``--member CANDIDATE``: its model.keras holds its members (read as the member bundles are:
    test_the_spread_bench_takes_an_ensembles_members_out_of_it_in_order); a single network is no ensemble."""
    from bench.release_rule import check_members_given

    check_members_given(small_ensemble, [small_bundle, second_member])
    check_members_given(small_ensemble, [small_ensemble])
    with pytest.raises(SystemExit, match="was built from"):
        check_members_given(small_ensemble, [small_ensemble, small_bundle])
    with pytest.raises(SystemExit, match="not an ensemble"):
        check_members_given(small_bundle, [small_bundle])


def _recompute(bundle: Path, out: Path) -> Path:
    result = _cli(
        "recompute-batchnorm", "--bundle", str(bundle), "--data", str(TRAINING_SET), "--out", str(out)
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def _batchnorm_statistics(bundle: Path) -> tuple[list[list[float]], list[list[float]]]:
    """Every batch-norm layer's moving statistics, and every other weight, of the bundle's model.keras."""
    import keras

    model = keras.models.load_model(bundle / "model.keras", compile=False)
    moving = [v.numpy().ravel().tolist() for v in model.non_trainable_variables if "moving" in v.path]
    learned = [v.numpy().ravel().tolist() for v in model.trainable_variables]
    return moving, learned


@pytest.mark.slow
def test_recompute_batchnorm_sets_the_statistics_of_the_fit_films_and_nothing_else(
    small_screening_bundle: Path, tmp_path: Path
) -> None:
    """The statistics come from the fit split (not tuning, not validation), as served; the weights, the
    split and the consistency check stay; the served rule is refitted; the manifest says what was done."""
    import keras

    from training.bundle_split import prepare_as_trained

    out = _recompute(small_screening_bundle, tmp_path / "recomputed")
    loaded = load_bundle(FolderSource(out))  # verifies
    source = json.loads((small_screening_bundle / MANIFEST).read_text())
    record = loaded.manifest["training"]["batchnorm_statistics"]
    assert record["recomputed_from"] == source["bundle_version"]
    assert loaded.manifest["training"]["machine"] == source["training"]["machine"]  # where it was trained
    assert record["machine"]
    model = keras.models.load_model(out / "model.keras", compile=False)
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert record["layers"] == len(norms) > 0
    before, after = _batchnorm_statistics(small_screening_bundle), _batchnorm_statistics(out)
    assert after[1] == before[1]  # no learned weight changed
    assert after[0] != before[0]
    _, _, prepared = prepare_as_trained(out, [TRAINING_SET])  # the split is the source's, verified
    first_conv = model.layers[0]
    served = np.asarray(first_conv(prepared.inputs[prepared.split.fit], training=False))
    np.testing.assert_allclose(
        norms[0].moving_mean.numpy(), served.mean(axis=(0, 1, 2)), rtol=1e-4, atol=1e-6
    )
    for copied in ("gate.json", "average.png", "validation_files.txt"):
        assert (out / copied).read_bytes() == (small_screening_bundle / copied).read_bytes(), copied
    assert "tuning split" in json.loads((out / "metrics.json").read_text())["calibration"]["fitted_on"]
    assert loaded.calibration is not None


@pytest.mark.slow
def test_recompute_batchnorm_recomputes_each_member_of_an_ensemble(
    small_ensemble: Path, tmp_path: Path
) -> None:
    out = _recompute(small_ensemble, tmp_path / "recomputed")
    manifest = load_bundle(FolderSource(out)).manifest
    assert (
        manifest["training"]["members"]
        == json.loads((small_ensemble / MANIFEST).read_text())["training"]["members"]
    )
    assert manifest["tflite_weights"] == "float32"  # the source's
    before, after = _batchnorm_statistics(small_ensemble), _batchnorm_statistics(out)
    assert after[1] == before[1] and after[0] != before[0]
    assert manifest["training"]["batchnorm_statistics"]["layers"] == len(after[0]) // 2  # mean, variance


def test_recompute_batchnorm_writes_only_to_a_new_folder(small_bundle: Path, tmp_path: Path) -> None:
    (tmp_path / "taken.txt").write_text("")
    result = _cli(
        "recompute-batchnorm",
        "--bundle",
        str(small_bundle),
        "--data",
        str(TRAINING_SET),
        "--out",
        str(tmp_path),
    )
    assert result.returncode == 2 and "not empty" in result.stderr
