"""bench.aspect_probe: the re-shaping changes the chest's width against its height in the stated direction
and keeps the size; the manifest's shape figure is the best single cut; a film's shape agrees with its
class when it lies on that class's side of the cut."""

from __future__ import annotations

import numpy as np
import pytest

from bench.aspect_probe import ShapeCut, best_single_cut, shape_agrees_with_class
from training.augment import reshaped


def _extent(mask: np.ndarray) -> tuple[int, int]:
    """(width, height) of the bright block."""
    rows, columns = np.nonzero(mask > 127)
    return int(columns.max() - columns.min() + 1), int(rows.max() - rows.min() + 1)


@pytest.mark.parametrize(("widen", "expected"), [(1.25, (50, 40)), (0.8, (40, 50)), (1.0, (40, 40))])
def test_reshaping_widens_or_narrows_the_picture_against_its_height(
    widen: float, expected: tuple[int, int]
) -> None:
    gray = np.zeros((128, 128), dtype=np.uint8)
    gray[44:84, 44:84] = 255  # a centred 40x40 block
    out = reshaped(gray, widen)
    assert out.shape == (128, 128) and out.dtype == np.uint8
    width, height = _extent(out)
    assert abs(width - expected[0]) <= 1 and abs(height - expected[1]) <= 1


def test_the_best_single_cut_separates_what_one_value_separates() -> None:
    assert best_single_cut([1.0, 1.1, 1.2], [1.5, 1.6]) == ShapeCut(1.0, 1.2, second_is_wider=True)
    # either side may be the first class
    assert best_single_cut([1.5, 1.6], [1.0, 1.1, 1.2]) == ShapeCut(1.0, 1.2, second_is_wider=False)
    assert best_single_cut([1.0, 1.5], [1.1, 1.6]).accuracy == 0.75


@pytest.mark.parametrize(
    ("aspect", "is_second", "second_is_wider", "agrees"),
    [
        (1.1, False, True, True),  # a normal as narrow as normals are
        (1.6, False, True, False),  # a normal as wide as viral pneumonia films are
        (1.6, True, True, True),
        (1.1, True, True, False),
        (1.1, True, False, True),  # the classes the other way round
        (1.6, False, False, True),
        (1.3, False, True, True),  # on the cut: the narrow side's
        (1.3, True, True, False),
    ],
)
def test_a_films_shape_agrees_with_its_class_on_its_classs_side_of_the_cut(
    aspect: float, is_second: bool, second_is_wider: bool, agrees: bool
) -> None:
    assert shape_agrees_with_class(aspect, is_second, ShapeCut(0.9, 1.3, second_is_wider)) is agrees
