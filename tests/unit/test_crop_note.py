"""The "cropped" upload note: its detector loaded from the bundle, verified, applied; its training crops.

The detector here is the test stage-2 model of ``tests.gate_bundles`` listed as a crop detector: its
P(cropped) is known in closed form for any model input, so each test can say whether the note is due.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench.upload_robustness import letterboxed
from function.bundle import FolderSource, load_bundle
from function.bundle_format import CROP_MODEL, CROP_NOTE, BundleError
from function.framing import CROP_LABELS
from function.imaging import decode_grayscale, to_model_input
from infra.locations import REPO_ROOT
from tests.api_support import make_client
from tests.gate_bundles import (
    copy_reference,
    expected_frontal_probability,
    mean_brightness_model,
    reference_size,
    write_listed,
)
from tests.upload_samples import COVID_RADIOGRAPH, b64, encode
from training.crop_note import (
    MAX_CUT,
    cropped_variant,
    cut,
    random_sides,
    training_pairs,
    uploaded_picture,
    whole_variant,
)


@pytest.fixture(scope="session")
def detector_model() -> bytes:
    return mean_brightness_model(reference_size())


@pytest.fixture(scope="module")
def radiograph_p(shared_data: Path) -> float:
    """The test detector's P(cropped) for the COVID radiograph's model input."""
    gray = decode_grayscale(COVID_RADIOGRAPH.read_bytes())
    return expected_frontal_probability(to_model_input(gray, reference_size()))


def _with_detector(destination: Path, detector: bytes, **note: Any) -> Path:
    bundle = copy_reference(destination)
    write_listed(bundle, CROP_MODEL, detector)
    config = {"model": CROP_MODEL, "model_labels": list(CROP_LABELS), "threshold": 0.5, **note}
    write_listed(bundle, CROP_NOTE, json.dumps(config).encode())
    return bundle


def _notes(bundle: Path, data: bytes) -> list[str]:
    with make_client(bundle) as client:
        response = client.post("/diagnose", json={"image": b64(data)})
    assert response.status_code == 200, response.text
    return [note["code"] for note in response.json()["notes"]]


@pytest.mark.slow
def test_the_note_is_given_exactly_when_the_detector_reaches_its_threshold(
    tmp_path: Path, detector_model: bytes, radiograph_p: float
) -> None:
    assert 0.05 < radiograph_p < 0.95, "the test model should not saturate on a radiograph"
    film = COVID_RADIOGRAPH.read_bytes()
    below = _with_detector(tmp_path / "below", detector_model, threshold=radiograph_p - 0.01)
    above = _with_detector(tmp_path / "above", detector_model, threshold=radiograph_p + 0.01)
    assert _notes(below, film) == ["cropped"]
    assert _notes(above, film) == []
    assert _notes(copy_reference(tmp_path / "none"), film) == []  # no crop_note.json: no detector


@pytest.mark.slow
def test_a_letterboxed_upload_gets_the_bars_note_only(tmp_path: Path, detector_model: bytes) -> None:
    """The detector never saw bars; the bars' note already asks for the whole film."""
    bundle = _with_detector(tmp_path / "b", detector_model, threshold=0.01)
    framed = letterboxed(decode_grayscale(COVID_RADIOGRAPH.read_bytes()))
    from PIL import Image

    assert _notes(bundle, encode(Image.fromarray(framed), "PNG")) == ["black_bars"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("field", "value", "complaint"),
    [
        ("threshold", 0.0, "not in"),
        ("threshold", "high", "malformed"),
        ("model_labels", ["whole", "other"], "model_labels"),
        ("model", "../model.tflite", "not a bundle file name"),
        ("model", "model.tflite", "not a bundle file name"),
    ],
)
def test_a_malformed_crop_note_is_refused_with_the_reason(
    tmp_path: Path, detector_model: bytes, field: str, value: Any, complaint: str
) -> None:
    bundle = _with_detector(tmp_path / "b", detector_model, **{field: value})
    with pytest.raises(BundleError, match=complaint):
        load_bundle(FolderSource(bundle))


@pytest.mark.slow
def test_a_detector_that_does_not_match_its_hash_is_refused(tmp_path: Path, detector_model: bytes) -> None:
    bundle = _with_detector(tmp_path / "b", detector_model)
    (bundle / CROP_MODEL).write_bytes(detector_model + b"\0")
    with pytest.raises(BundleError, match="sha256"):
        load_bundle(FolderSource(bundle))


# ---------------------------------------------------------------------------------- the training crops


def _film() -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.integers(0, 256, size=(128, 128), dtype=np.uint8)


def test_cut_removes_each_sides_share() -> None:
    assert cut(_film(), (0.08, 0.0, 0.05, 0.12)).shape == (128 - 10, 128 - 6 - 15)


def test_every_training_crop_cuts_a_side_by_5_percent_or_more() -> None:
    """A "cropped" example that is really whole would teach the detector to note whole films."""
    film = _film()
    rng = np.random.default_rng(0)
    for _ in range(200):
        crop = cropped_variant(film, rng)
        assert crop.shape == (128, 128, 1)
        # a cut of 5% (6 lines) or more leaves no 122-line window of the film equal to the input
        assert not np.array_equal(crop, to_model_input(film, 128))
    sides = np.array([random_sides(rng) for _ in range(2000)])
    assert (sides.max(axis=1) >= 0.05).all(), "every crop cuts some side by 5% or more"
    assert sides.min() >= 0.0 and sides.max() <= MAX_CUT
    assert (sides == 0.0).any(), "and some sides are left whole"


def test_whole_films_get_the_same_upload_processing_as_crops() -> None:
    """Pristine whole films against processed crops taught "not the stored pixels" (experiment log): most
    whole variants must be processed, a few left as stored, and pairs must stay balanced."""
    film = _film()
    rng = np.random.default_rng(0)
    plain = to_model_input(film, 128)
    whole = [whole_variant(film, rng) for _ in range(200)]
    assert all(image.shape == (128, 128, 1) for image in whole)
    untouched = sum(np.array_equal(image, plain) for image in whole)
    assert 6 <= untouched <= 35  # 0.3 x 0.75 x 0.75 x 0.5 = 8.4% expected as stored
    inputs = np.stack([plain] * 3)
    images, labels = training_pairs(inputs, rng)
    assert images.shape == (12, 128, 128, 1) and labels.tolist() == [0, 1] * 6


def test_a_crop_leaves_a_picture_the_size_of_the_whole_film_of_the_same_upload() -> None:
    """Crops cut from the export and then enlarged were blurrier than whole films, and the second detector
    noted enlarged whole films (experiment log): the cut must not change the picture's size."""
    film = _film()
    sides = (0.08, 0.12, 0.0, 0.1)
    sizes = set()
    for seed in range(40):
        whole = uploaded_picture(film, np.random.default_rng(seed))
        crop = uploaded_picture(film, np.random.default_rng(seed), sides)
        assert abs(np.sqrt(crop.size) - np.sqrt(whole.size)) <= 2, seed
        sizes.add(whole.shape[0])
    assert len(sizes) > 10 and min(sizes) < 128 < max(sizes)  # larger, smaller and stored uploads drawn


def test_the_paths_bench_uploads_each_whole_film_at_the_size_and_format_it_names() -> None:
    from bench.crop_note_paths import PATHS

    film = _film()
    for name, upload in PATHS.items():
        data = upload(film)
        side = int(name.split(" px")[0]) if " px" in name else 128
        assert decode_grayscale(data).shape == (side, side), name
        assert data[:2] == (b"\xff\xd8" if "JPEG" in name else b"\x89P"), name


def test_the_paths_bench_cuts_the_export_on_the_sides_it_names() -> None:
    from bench.crop_note_paths import CROPS, cropped_export

    film = _film()
    for name, sides in CROPS.items():
        data = cropped_export(sides)(film)
        top, bottom, left, right = (round(share * 1024) for share in sides)
        assert data[:2] == b"\xff\xd8", name
        assert decode_grayscale(data).shape == (1024 - top - bottom, 1024 - left - right), name


def test_the_page_redraw_bench_chooses_files_the_page_must_redraw() -> None:
    """Every file is larger than the page sends (so Chromium's canvas redraws it), of the format it names."""
    import re

    from bench.page_redraw import CUTS, EXPORT_SIDE, PAGE_SIDE, UPLOADS

    page_side = re.search(r"const MAX_SIDE = (\d+);", (REPO_ROOT / "frontend" / "upload.js").read_text())
    assert page_side and int(page_side.group(1)) == PAGE_SIDE
    film = _film()
    for name, (suffix, upload) in UPLOADS.items():
        data = upload(film)
        assert data[:2] == (b"\xff\xd8" if suffix == ".jpg" else b"\x89P"), name
        sides = next((sides for cut_name, sides in CUTS.items() if name.startswith(cut_name)), (0,) * 4)
        top, bottom, left, right = (round(share * EXPORT_SIDE) for share in sides)
        shape = decode_grayscale(data).shape
        assert shape == (EXPORT_SIDE - top - bottom, EXPORT_SIDE - left - right), name
        assert min(shape) > PAGE_SIDE, name
