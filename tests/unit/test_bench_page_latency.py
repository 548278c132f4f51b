"""bench.bench_page_latency's uploads: the formats they name, and a redraw exactly where the name says so."""

from __future__ import annotations

import numpy as np

from bench.bench_page_latency import UPLOADS
from bench.page_redraw import PAGE_SIDE
from function.imaging import decode_grayscale


def test_each_upload_is_the_format_it_names_and_redrawn_only_when_it_says_so() -> None:
    film = np.random.default_rng(0).integers(0, 256, size=(128, 128), dtype=np.uint8)
    for name, (suffix, upload) in UPLOADS.items():
        data = upload(film)
        assert data[:2] == (b"\xff\xd8" if suffix == ".jpg" else b"\x89P"), name
        assert ("JPEG" in name) == (suffix == ".jpg"), name
        height, width = decode_grayscale(data).shape
        assert f"{width} x {height}" in name or f"{width} px" in name, name
        assert (max(height, width) > PAGE_SIDE) == ("redrawn" in name), name
