"""bench.heatmap_location's zones and shares: what its table's figures mean, checked on heatmaps whose
answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from bench.heatmap_location import ZONES, heatmap_values, placement, zone_masks
from training.report import black_out_lung_fields, crop_border


@pytest.mark.parametrize("size", [64, 128])
def test_the_zones_split_the_input_once_and_match_the_shortcut_probes(size: int) -> None:
    masks = zone_masks(size)
    covered = sum(mask.astype(int) for mask in masks.values())
    assert (covered == 1).all(), "every cell in exactly one zone"
    ones = np.ones((1, size, size, 1), dtype=np.float32)
    blacked = black_out_lung_fields(ones)[0, ..., 0] == 0
    assert (masks["lungs"] == blacked).all(), "the lungs are what the shortcut check blacks out"
    margin = round(size * 0.15)
    assert masks["border"][0].all() and masks["border"][:, margin - 1].sum() > 0
    assert not masks["border"][margin:-margin, margin:-margin].any()
    assert crop_border(ones).shape == ones.shape  # the same 15% band the other probe cuts away


def test_an_even_heatmap_puts_each_zones_area_share_on_it() -> None:
    masks = zone_masks(128)
    found = placement(np.ones((128, 128), dtype=np.float32), masks)
    assert found is not None
    for zone in ZONES:
        assert found.shares[zone] == pytest.approx(masks[zone].mean())


def test_a_corner_marker_is_all_border_and_a_lung_patch_all_lungs() -> None:
    masks = zone_masks(128)
    corner = np.zeros((128, 128), dtype=np.float32)
    corner[2:10, 110:126] = 1.0
    found = placement(corner, masks)
    assert found is not None and found.hottest == "border" and found.shares["border"] == 1.0
    lung = np.zeros((128, 128), dtype=np.float32)
    lung[56:64, 34:42] = 0.5  # inside the left ellipse (centre 38, 61)
    lung[0, 0] = 0.25
    found = placement(lung, masks)
    assert found is not None and found.hottest == "lungs"
    assert found.shares["lungs"] == pytest.approx(32 / 32.25) and found.shares["border"] > 0


def test_a_heatmap_of_zeros_points_nowhere_and_a_64_cell_map_is_read_on_the_inputs_grid() -> None:
    assert placement(np.zeros((128, 128), dtype=np.float32), zone_masks(128)) is None
    small = np.zeros((64, 64))
    small[0, 63] = 1.0
    values = heatmap_values({"values": small.tolist()}, 128)
    assert values.shape == (128, 128) and values[0:2, 126:128].all() and values.sum() == 4
