"""function.framing on a real radiograph framed the ways screenshots frame it, and preprocessing version 2,
which cuts those frames away."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from bench.upload_robustness import letterboxed
from function.framing import DARK_LEVEL, MIN_BAR, Bars, dark_bars
from function.imaging import WHOLE, InputSpec, to_model_input
from tests.upload_samples import COVID_RADIOGRAPH, NORMAL_RADIOGRAPH, gray_of

SIZE = 128


def _bars(gray: np.ndarray, size: int = SIZE) -> Bars:
    return dark_bars(to_model_input(gray, size))


def _padded(gray: np.ndarray, top: int, bottom: int, left: int, right: int, value: int = 0) -> np.ndarray:
    return cv2.copyMakeBorder(gray, top, bottom, left, right, cv2.BORDER_CONSTANT, value=value)


@pytest.mark.parametrize("path", [COVID_RADIOGRAPH, NORMAL_RADIOGRAPH], ids=["covid", "normal"])
def test_a_film_as_stored_has_no_bars(path: Path) -> None:
    bars = _bars(gray_of(path))
    assert not bars.letterboxed
    assert max(bars.left, bars.right, bars.top, bars.bottom) < MIN_BAR / 2


@pytest.mark.parametrize("size", [64, 128, 224])
def test_a_4_to_3_screenshot_is_letterboxed_with_bars_of_an_eighth(size: int) -> None:
    bars = _bars(letterboxed(gray_of(COVID_RADIOGRAPH)), size)
    assert bars.letterboxed
    eighth = pytest.approx(0.125, abs=2 / size)
    assert bars.left == eighth and bars.right == eighth


def test_bars_above_and_below_count_too() -> None:
    film = gray_of(NORMAL_RADIOGRAPH)
    assert _bars(_padded(film, 24, 24, 0, 0)).letterboxed


def test_one_sided_or_narrow_bars_do_not() -> None:
    film = gray_of(COVID_RADIOGRAPH)  # 128 px: 40 px is a quarter of the new width, 10 px under 8%
    assert not _bars(_padded(film, 0, 0, 40, 0)).letterboxed
    assert not _bars(_padded(film, 0, 0, 10, 10)).letterboxed
    assert _bars(_padded(film, 0, 0, 20, 20)).letterboxed


def test_a_dark_grey_viewer_background_counts_a_mid_grey_one_does_not() -> None:
    film = gray_of(COVID_RADIOGRAPH)
    darkest_counted = int(DARK_LEVEL * 255)
    assert _bars(_padded(film, 0, 0, 21, 21, value=darkest_counted)).letterboxed
    assert not _bars(_padded(film, 0, 0, 21, 21, value=darkest_counted + 8)).letterboxed


def test_an_all_dark_image_has_no_bars_to_speak_of() -> None:
    assert not dark_bars(np.zeros((SIZE, SIZE, 1), dtype=np.float32)).letterboxed


# Preprocessing version 2 cuts the dark margins before the resize (function.imaging.InputSpec.picture).


def _screenshots(film: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "4:3 bars": letterboxed(film),
        "bars above and below": _padded(film, 24, 24, 0, 0),
        "uneven bars": _padded(film, 0, 0, 13, 41),
        "dark grey bars": _padded(film, 0, 0, 21, 21, value=int(DARK_LEVEL * 255)),
    }


@pytest.mark.parametrize("path", [COVID_RADIOGRAPH, NORMAL_RADIOGRAPH], ids=["covid", "normal"])
@pytest.mark.parametrize("size", [64, 128])
def test_version_2_gives_a_screenshot_the_films_own_model_input(path: Path, size: int) -> None:
    """What version 2 exists for: bars around the film no longer change what the model sees."""
    film = gray_of(path)
    expected = InputSpec(size, "2").model_input(film)
    for name, screenshot in _screenshots(film).items():
        as_version_1 = InputSpec(size, "1").model_input(screenshot)
        assert np.abs(as_version_1 - expected).mean() > 0.05, name  # the bars did change version 1's input
        np.testing.assert_allclose(
            InputSpec(size, "2").model_input(screenshot), expected, atol=0.2, err_msg=name
        )
        assert np.abs(InputSpec(size, "2").model_input(screenshot) - expected).mean() < 0.015, name


def _cut(gray: np.ndarray) -> np.ndarray:
    return gray[InputSpec(SIZE, "2").picture(gray)]


def test_version_2_cuts_a_films_own_dark_edge_and_leaves_the_rest_alone() -> None:
    film = gray_of(COVID_RADIOGRAPH)
    np.testing.assert_array_equal(
        InputSpec(SIZE, "2").model_input(film), InputSpec(SIZE, "1").model_input(film)
    )
    dark_edged = film.copy()
    dark_edged[:, :9] = 0  # the film's own black edge: not a bar, but cut as one
    assert _cut(dark_edged).shape == (film.shape[0], film.shape[1] - 9)


def test_version_2_keeps_a_dark_image_whole_and_a_thin_picture_at_least_one_line() -> None:
    dark = np.zeros((40, 60), dtype=np.uint8)
    assert _cut(dark).shape == (40, 60)
    line = dark.copy()
    line[:, 30] = 255
    assert _cut(line).shape == (40, 1)


def test_an_unknown_preprocessing_version_is_refused() -> None:
    with pytest.raises(ValueError, match="preprocessing version '9'"):
        InputSpec(SIZE, "9")


def test_the_region_names_the_part_of_the_upload_the_model_input_shows() -> None:
    film = gray_of(COVID_RADIOGRAPH)  # 128 x 128: the 4:3 copy has 21 px bars either side, 170 px wide
    screenshot = letterboxed(film)
    assert InputSpec(SIZE, "1").read(screenshot)[1] == WHOLE
    left, top, right, bottom = InputSpec(SIZE, "2").read(screenshot)[1]
    assert (left * 170, top, right * 170, bottom) == pytest.approx((21, 0, 149, 1))


# Preprocessing version 3 cuts them only from a letterboxed image: version 1 everywhere else.


@pytest.mark.parametrize("path", [COVID_RADIOGRAPH, NORMAL_RADIOGRAPH], ids=["covid", "normal"])
def test_version_3_reads_a_screenshot_as_version_2_does(path: Path) -> None:
    film = gray_of(path)
    for name, screenshot in _screenshots(film).items():
        if not dark_bars(InputSpec(SIZE, "1").model_input(screenshot)).letterboxed:
            assert name == "uneven bars"  # 7% on one side: under the note's 10%, so version 3 keeps it
            continue
        np.testing.assert_array_equal(
            InputSpec(SIZE, "3").model_input(screenshot), InputSpec(SIZE, "2").model_input(screenshot), name
        )


def test_version_3_leaves_an_image_without_bars_as_version_1_reads_it() -> None:
    """A film's own dark edge, or one bar alone, is not a screenshot's letterbox: nothing is cut."""
    film = gray_of(COVID_RADIOGRAPH)
    dark_edged = film.copy()
    dark_edged[:, : film.shape[1] // 5] = 0  # one wide dark side: version 2 would cut it
    for image in (film, dark_edged):
        np.testing.assert_array_equal(
            InputSpec(SIZE, "3").model_input(image), InputSpec(SIZE, "1").model_input(image)
        )
    assert InputSpec(SIZE, "2").picture(dark_edged) != InputSpec(SIZE, "3").picture(dark_edged)
