"""The Kaggle folder loader (both release layouts) and the stratified split."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from function.bundle_format import LABELS
from function.imaging import InputSpec
from training.data import (
    DatasetError,
    class_counts,
    ignored_folders,
    list_examples,
    load_images,
    stratified_split,
)


def _image(path: Path, value: int, fmt: str = "PNG") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((16, 16), value, dtype=np.uint8)).save(path, format=fmt)


def _layout_2020(root: Path, covid_name: str = "COVID-19") -> Path:
    for index in range(3):
        _image(root / covid_name / f"COVID ({index}).png", 10)
        _image(root / "NORMAL" / f"NORMAL ({index}).png", 20)
        _image(root / "Viral Pneumonia" / f"Viral Pneumonia ({index}).jpg", 30, "JPEG")
    (root / "COVID-19.metadata.xlsx").write_bytes(b"not an image")
    return root


def _layout_2021(root: Path) -> Path:
    for index in range(2):
        _image(root / "COVID" / "images" / f"COVID-{index}.png", 10)
        _image(root / "COVID" / "masks" / f"COVID-{index}.png", 255)
        _image(root / "Normal" / "images" / f"Normal-{index}.png", 20)
        _image(root / "Viral Pneumonia" / "images" / f"Viral Pneumonia-{index}.png", 30)
        _image(root / "Lung_Opacity" / "images" / f"Lung_Opacity-{index}.png", 40)
    return root


def test_2020_layout_with_images_directly_inside(tmp_path: Path) -> None:
    examples = list_examples([_layout_2020(tmp_path / "COVID-19 Radiography Database")])
    assert class_counts(examples) == {"Normal": 3, "COVID-19": 3, "Viral Pneumonia": 3}
    assert {e.path.suffix for e in examples} == {".png", ".jpg"}


def test_2020_layout_named_covid_and_lowercase(tmp_path: Path) -> None:
    root = _layout_2020(tmp_path / "data", covid_name="covid")
    (root / "NORMAL").rename(root / "normal")
    assert class_counts(list_examples([root]))["COVID-19"] == 3


def test_2021_layout_ignores_masks_and_lung_opacity(tmp_path: Path) -> None:
    examples = list_examples([_layout_2021(tmp_path / "x")])
    assert class_counts(examples) == {"Normal": 2, "COVID-19": 2, "Viral Pneumonia": 2}
    assert all(e.path.parent.name == "images" for e in examples)
    # the label follows the folder, and each image decodes to its class's grey value
    values = load_images(examples, InputSpec(8), progress=False)[:, 0, 0, 0]
    assert {LABELS[e.label]: round(float(v) * 255) for e, v in zip(examples, values, strict=True)} == {
        "COVID-19": 10,
        "Normal": 20,
        "Viral Pneumonia": 30,
    }


def test_the_single_folder_a_zip_unpacks_to_is_entered(tmp_path: Path) -> None:
    _layout_2021(tmp_path / "archive" / "COVID-19_Radiography_Dataset")
    assert len(list_examples([tmp_path / "archive"])) == 6


def test_a_mac_zip_s_extra_folders_do_not_hide_the_dataset(tmp_path: Path) -> None:
    """A zip made on a Mac unpacks a __MACOSX/ folder (and maybe .DS_Store folders) beside the dataset."""
    _layout_2021(tmp_path / "archive" / "COVID-19_Radiography_Dataset")
    _image(tmp_path / "archive" / "__MACOSX" / "COVID-19_Radiography_Dataset" / "._COVID-0.png", 0)
    (tmp_path / "archive" / ".Trashes").mkdir()
    assert len(list_examples([tmp_path / "archive"])) == 6


def test_a_missing_class_is_named(tmp_path: Path) -> None:
    root = _layout_2021(tmp_path / "x")
    for path in (root / "Viral Pneumonia" / "images").iterdir():
        path.unlink()
    with pytest.raises(DatasetError, match="Viral Pneumonia"):
        list_examples([root])


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    root = _layout_2021(tmp_path / "x")
    broken = root / "Normal" / "images" / "Normal-broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(DatasetError, match=r"Normal-broken\.png"):
        load_images(list_examples([root]), InputSpec(8), progress=False)


def test_split_is_stratified_and_deterministic() -> None:
    labels = np.array([0] * 100 + [1] * 50 + [2] * 30)
    train, val = stratified_split(labels, 0.4, seed=7)
    assert Counter(labels[val].tolist()) == {0: 40, 1: 20, 2: 12}
    assert not set(train) & set(val) and len(train) + len(val) == len(labels)
    again_train, again_val = stratified_split(labels, 0.4, seed=7)
    np.testing.assert_array_equal(val, again_val)
    np.testing.assert_array_equal(train, again_train)
    _, other_val = stratified_split(labels, 0.4, seed=8)
    assert set(other_val) != set(val)
    _, eighty_twenty = stratified_split(labels, 0.2, seed=7)
    assert Counter(labels[eighty_twenty].tolist()) == {0: 20, 1: 10, 2: 6}


def test_hidden_files_are_skipped(tmp_path: Path) -> None:
    """macOS leaves ``._name.png`` (AppleDouble) beside every file it copies: not images."""
    root = _layout_2021(tmp_path / "x")
    (root / "Normal" / "images" / "._Normal-0.png").write_bytes(b"\x00\x05\x16\x07 resource fork")
    examples = list_examples([root])
    assert class_counts(examples)["Normal"] == 2
    load_images(examples, InputSpec(8), progress=False)  # nothing unreadable was listed


def test_folders_of_no_class_are_named(tmp_path: Path) -> None:
    _layout_2021(tmp_path / "archive" / "COVID-19_Radiography_Dataset")
    assert ignored_folders(tmp_path / "archive") == ["Lung_Opacity"]


def test_two_data_folders_of_one_name_are_refused(tmp_path: Path) -> None:
    """Bundles record their data folders by name: two Kaggle 'archive' folders would be read as one."""
    first = _layout_2021(tmp_path / "first" / "archive")
    second = _layout_2021(tmp_path / "second" / "archive")
    with pytest.raises(DatasetError, match="two --data folders are named archive"):
        list_examples([first, second])


def test_a_manifest_inside_the_folder_the_zip_unpacked_to_is_read(tmp_path: Path) -> None:
    from training.cohorts import cohorts_for, has_manifest

    dataset = _layout_2021(tmp_path / "archive" / "covid19-radiography")
    rows = ["path,source_repo,patient_id,note"]
    rows += [f"Normal/images/Normal-{index}.png,kermany,patient-7,pediatric" for index in range(2)]
    (dataset / "MANIFEST.csv").write_text("\n".join(rows) + "\n")
    wrapped = tmp_path / "archive"
    assert has_manifest(wrapped)
    examples = list_examples([wrapped])
    cohorts = dict(zip((e.path.name for e in examples), cohorts_for(examples, [wrapped]), strict=True))
    assert cohorts["Normal-0.png"].group == cohorts["Normal-1.png"].group == "patient-7"
    assert cohorts["Normal-0.png"].age == "pediatric"
    assert cohorts["COVID-0.png"].age == "unknown"  # no row: its own group


def test_manifest_options_on_a_kaggle_download_warn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from training.train import TrainConfig, warn_without_manifest

    root = _layout_2021(tmp_path / "x")
    warn_without_manifest(TrainConfig(data=[root], out=tmp_path, recipe="screening", split="image"))
    assert capsys.readouterr().err == ""
    warn_without_manifest(TrainConfig(data=[root], out=tmp_path, recipe="screening", split="grouped"))
    warning = capsys.readouterr().err
    assert "--split grouped" in warning and str(root) in warning and "own patient" in warning


def test_every_command_prints_its_help() -> None:
    """argparse formats help text with %: a literal one in an option's help broke `train --help`."""
    import subprocess
    import sys

    from infra.locations import REPO_ROOT
    from training.__main__ import _parser

    subcommands = next(
        action for action in _parser()._actions if action.choices and "train" in action.choices
    )
    for name in ["", *subcommands.choices]:
        done = subprocess.run(
            [sys.executable, "-m", "training", *([name] if name else []), "--help"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0 and "usage:" in done.stdout, (name, done.stderr[-500:])


def test_a_manifest_beside_the_wrapper_folder_is_still_read(tmp_path: Path) -> None:
    """A MANIFEST.csv in the --data folder itself, its paths through the wrapper, as before 2026-12-07."""
    from training.cohorts import cohorts_for

    _layout_2021(tmp_path / "data" / "wrapper")
    row = "wrapper/Normal/images/Normal-0.png,kermany,patient-9,pediatric"
    (tmp_path / "data" / "MANIFEST.csv").write_text(f"path,source_repo,patient_id,note\n{row}\n")
    examples = list_examples([tmp_path / "data"])
    found = cohorts_for(examples, [tmp_path / "data"])
    cohorts = dict(zip((e.path.name for e in examples), found, strict=True))
    assert cohorts["Normal-0.png"].group == "patient-9"
