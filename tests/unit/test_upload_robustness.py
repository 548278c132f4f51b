"""The upload variants of bench.upload_robustness are what their names say, and its table counts right."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from bench.upload_robustness import UPLOADS, Tally, cropped, letterboxed, read_as_version
from function.bundle import FolderSource, load_bundle
from function.imaging import decode_grayscale
from function.service import read_image
from infra.locations import RELEASE_BUNDLE, TRAINING_SET


def _film() -> np.ndarray:
    path = sorted((TRAINING_SET / "COVID" / "images").glob("*.png"))[0]
    return cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)


def test_lossless_variants_decode_to_the_stored_pixels(shared_data: Path) -> None:
    """RGB and 16-bit PNGs of a film must reach the model as the very pixels of the 8-bit file."""
    film = _film()
    for name in ("the stored file (8-bit PNG)", "RGB PNG", "16-bit PNG"):
        np.testing.assert_array_equal(decode_grayscale(UPLOADS[name](film)), film, err_msg=name)
    np.testing.assert_array_equal(decode_grayscale(UPLOADS["inverted (a negative)"](film)), 255 - film)


def test_lossy_and_geometric_variants_change_the_film(shared_data: Path) -> None:
    film = _film()
    for name in ("JPEG quality 50", "rotated 5 degrees", "darker (gamma 1.5)", "brighter (gamma 0.67)"):
        decoded = decode_grayscale(UPLOADS[name](film))
        assert decoded.shape == film.shape and np.abs(decoded.astype(int) - film).mean() > 0.5, name
    assert decode_grayscale(UPLOADS["upscaled to 1024 px, JPEG 90"](film)).shape == (1024, 1024)


def test_letterbox_adds_black_bars_to_four_by_three_and_crop_cuts_every_edge() -> None:
    film = np.full((120, 120), 200, dtype=np.uint8)
    boxed = letterboxed(film)
    assert boxed.shape == (120, 160)
    assert not boxed[:, :20].any() and not boxed[:, -20:].any() and (boxed[:, 20:140] == 200).all()
    assert cropped(np.arange(100 * 100, dtype=np.int64).reshape(100, 100))[0, 0] == 8 * 100 + 8
    assert cropped(film).shape == (120 - 2 * 10, 120 - 2 * 10)


def test_the_table_row_counts_readings_refusals_and_agreement() -> None:
    stored, variant = Tally(), Tally()
    films = [("COVID-19", True), ("COVID-19", True), ("Normal", True), ("Normal", False)]
    for (truth, adult), first, second in zip(
        films,
        ["COVID-19", "COVID-19", "Normal", "Normal"],
        ["COVID-19", "not_chest_xray", "indeterminate", "Normal"],
        strict=True,
    ):
        stored.add(truth, first, adult)
        variant.add(truth, second, adult, noted_cropped=truth == "Normal" and adult)
    cells = [cell.strip() for cell in variant.row("v", stored).strip("|").split("|")]
    # read correctly, COVID-19 caught, adult normals Normal, refused, indeterminate, same as stored, noted
    assert cells == ["v", "50.0%", "50.0%", "0.0%", "25.0%", "25.0%", "50.0%", "25.0%"]


def test_the_black_bars_benchs_framings_put_the_whole_film_between_bars(shared_data: Path) -> None:
    from bench.black_bars import _bars_to

    film = _film()
    wide, tall = _bars_to(film, 16, 9), _bars_to(film, 3, 4)
    assert wide.shape == (128, 228) and tall.shape == (170, 128)
    np.testing.assert_array_equal(wide[:, 50:178], film)
    np.testing.assert_array_equal(tall[21:149], film)
    assert wide[:, :50].max() == 0 and tall[:21].max() == 0


def test_read_as_version_feeds_the_same_models_through_another_preprocessing() -> None:
    release = load_bundle(FolderSource(RELEASE_BUNDLE))
    as_3 = read_as_version(release, "3")
    assert (as_3.input_spec.preprocessing, as_3.classifier) == ("3", release.classifier)
    assert release.input_spec.preprocessing == "1"  # the bundle itself is untouched
    screenshot = UPLOADS["letterboxed to 4:3"](_film())
    assert read_image(release, screenshot).notes and not read_image(as_3, screenshot).notes  # bars cut away
    with pytest.raises(ValueError, match="preprocessing version"):
        read_as_version(release, "9")
