"""bench.aspect_probe: the re-shaping changes the chest's width against its height in the stated direction
and keeps the size; the manifest's shape figure is the best single cut."""

from __future__ import annotations

import numpy as np
import pytest

from bench.aspect_probe import best_single_cut
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
    assert best_single_cut([1.0, 1.1, 1.2], [1.5, 1.6]) == 1.0
    assert best_single_cut([1.5, 1.6], [1.0, 1.1, 1.2]) == 1.0  # either side may be the first class
    assert best_single_cut([1.0, 1.5], [1.1, 1.6]) == 0.75
