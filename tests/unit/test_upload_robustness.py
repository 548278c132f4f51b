"""The upload variants of bench.upload_robustness are what their names say, and its table counts right."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from bench.upload_robustness import (
    LIGHT_BOX,
    PHOTO_FRAME,
    PHOTO_OF_A_SCREEN,
    PHOTO_ON_A_LIGHT_BOX,
    SCREEN,
    UPLOADS,
    Tally,
    cropped,
    film_seed,
    jpeg_bytes,
    letterboxed,
    photographed,
    read_as_version,
    selected_ways,
)
from function.bundle import FolderSource, load_bundle
from function.imaging import decode_grayscale
from function.service import read_image
from infra.locations import RELEASE_BUNDLE, TRAINING_SET


def _film(index: int = 0) -> np.ndarray:
    path = sorted((TRAINING_SET / "COVID" / "images").glob("*.png"))[index]
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


def test_a_photo_of_a_film_is_the_same_for_the_same_film_and_seed_only(shared_data: Path) -> None:
    film, other = _film(), _film(1)
    for setting in (SCREEN, LIGHT_BOX):
        first, again = photographed(film, setting, 7), photographed(film, setting, 7)
        np.testing.assert_array_equal(first.frame, again.frame)
        np.testing.assert_array_equal(first.film_corners, again.film_corners)
        assert not np.array_equal(first.frame, photographed(film, setting, 8).frame)
    assert film_seed(film) == film_seed(film.copy()) != film_seed(other)
    for name in (PHOTO_OF_A_SCREEN, PHOTO_ON_A_LIGHT_BOX):
        assert UPLOADS[name](film) == UPLOADS[name](film.copy()) != UPLOADS[name](other), name
    assert UPLOADS[PHOTO_OF_A_SCREEN](film) != UPLOADS[PHOTO_ON_A_LIGHT_BOX](film)


def test_a_photo_of_a_film_is_a_tinted_rgb_jpeg_of_a_phones_frame(shared_data: Path) -> None:
    """Saved as a phone saves it: a 1600x1200 JPEG in colour, bluish off a screen and warm off a light box."""
    for name, cast in ((PHOTO_OF_A_SCREEN, "blue"), (PHOTO_ON_A_LIGHT_BOX, "red")):
        with Image.open(io.BytesIO(UPLOADS[name](_film()))) as photo:
            assert (photo.format, photo.mode, photo.size) == ("JPEG", "RGB", PHOTO_FRAME), name
            red, _, blue = (float(np.asarray(photo)[..., channel].mean()) for channel in range(3))
        assert (blue - red if cast == "blue" else red - blue) > 5, name


def test_the_film_fills_most_of_the_photo_seen_at_a_slight_tilt(shared_data: Path) -> None:
    """Inside the frame, 55-80% of it, and never square-on: its corners are off their bounding box."""
    width, height = PHOTO_FRAME
    for seed in range(8):
        corners = photographed(_film(), SCREEN, seed).film_corners
        assert (corners >= 0).all() and (corners[:, 0] <= width).all() and (corners[:, 1] <= height).all()
        x, y = corners[:, 0], corners[:, 1]
        area = 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))
        assert 0.55 < area / (width * height) < 0.80, seed
        low, high = corners.min(axis=0), corners.max(axis=0)
        square_on = np.array([low, [high[0], low[1]], high, [low[0], high[1]]])
        assert np.abs(corners - square_on).max() > 5, seed


def test_the_photo_shows_the_film_inside_its_surround(shared_data: Path) -> None:
    """Undoing the tilt from the film's corners gives back this film (not another), as the service decodes
    the photo; just outside the film's sides is a monitor's dark surround or a light box's glow."""
    film, other = _film(), _film(1)
    flat = np.float32([[0, 0], [128, 0], [128, 128], [0, 128]])
    for setting, surround_is_dark in ((SCREEN, True), (LIGHT_BOX, False)):
        photo = photographed(film, setting, film_seed(film))
        seen = decode_grayscale(jpeg_bytes(photo.frame, 85))
        undone = cv2.getPerspectiveTransform(photo.film_corners.astype(np.float32), flat)
        back = cv2.warpPerspective(seen, undone, (128, 128), flags=cv2.INTER_AREA).ravel()
        assert np.corrcoef(back, film.ravel())[0, 1] > 0.8
        assert np.corrcoef(back, other.ravel())[0, 1] < 0.5
        for side, outwards in (((0, 3), -1), ((1, 2), 1)):  # left edge, right edge: 10-30 px outside
            x, y = (round(v) for v in photo.film_corners[list(side)].mean(axis=0))
            near, far = sorted((x + outwards * 10, x + outwards * 30))
            strip = seen[y - 100 : y + 100, near:far]
            assert strip.shape == (200, 20)
            assert strip.mean() < 80 if surround_is_dark else strip.mean() > 180


def test_ways_are_chosen_by_a_word_of_their_names_with_the_stored_file_first() -> None:
    assert selected_ways(["photo"]) == [
        "the stored file (8-bit PNG)",
        PHOTO_OF_A_SCREEN,
        PHOTO_ON_A_LIGHT_BOX,
    ]
    assert selected_ways(["LIGHT BOX", "stored"]) == ["the stored file (8-bit PNG)", PHOTO_ON_A_LIGHT_BOX]
    assert selected_ways(None) == list(UPLOADS)
    with pytest.raises(ValueError, match="no way of uploading"):
        selected_ways(["photo", "fax"])
