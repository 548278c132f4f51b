"""The Kaggle folder loader (both release layouts) and the stratified split."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from function.bundle_format import LABELS
from function.imaging import InputSpec
from training.data import DatasetError, class_counts, list_examples, load_images, stratified_split


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
