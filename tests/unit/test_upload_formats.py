"""The same real radiograph sent in each accepted storage format gets the same reading.

Lossless variants (16-bit, RGBA, palette, BMP, TIFF) must give exactly the PNG's answer; lossy or
re-sampled ones (JPEG, CMYK, EXIF rotation, DICOM windowing) must stay close to it, and close to it
*because* the conversion was done (a rotated image without its EXIF tag does not stay close). A DICOM
file whose own header says it is no frontal chest radiograph is refused whatever its pixels; one whose
header says nothing or a frontal radiograph is read by its pixels.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from function.dicom_decode import DicomView
from function.dicom_header import header_refusal
from function.imaging import decode_upload
from tests.api_support import make_client, post_image
from tests.upload_samples import (
    COVID_RADIOGRAPH,
    dicom,
    dicom_palette,
    encode,
    gray_of,
    jpeg_cmyk,
    jpeg_exif_rotated,
    jpeg_plain,
    jpeg_rotated_without_exif,
    png_16bit,
    png_palette,
    png_rgba,
)


@pytest.fixture(scope="module")
def client(shared_data: Path) -> Iterator[TestClient]:
    with make_client() as client:
        yield client


@pytest.fixture(scope="module")
def gray(shared_data: Path) -> np.ndarray:
    return gray_of(COVID_RADIOGRAPH)


@pytest.fixture(scope="module")
def reference(client: TestClient) -> dict[str, Any]:
    return _reading(client, COVID_RADIOGRAPH.read_bytes())


def _reading(client: TestClient, data: bytes) -> dict[str, Any]:
    response = post_image(client, data)
    assert response.status_code == 200, response.text
    return response.json()


def _assert_close(answer: dict[str, Any], reference: dict[str, Any], tolerance: float) -> None:
    assert answer["result"] == reference["result"]
    assert answer["consistency"]["ssim"] == pytest.approx(reference["consistency"]["ssim"], abs=tolerance)
    for label, probability in reference["probabilities"].items():
        assert answer["probabilities"][label] == pytest.approx(probability, abs=tolerance)


LOSSLESS: dict[str, Callable[[np.ndarray], bytes]] = {
    "png-16-bit": png_16bit,
    "png-rgba": png_rgba,
    "png-palette": png_palette,
    "bmp": lambda gray: encode(Image.fromarray(gray), "BMP"),
    "tiff": lambda gray: encode(Image.fromarray(gray), "TIFF"),
    "tiff-rgb-deflate": lambda gray: encode(
        Image.fromarray(gray).convert("RGB"), "TIFF", compression="tiff_adobe_deflate"
    ),
}


@pytest.mark.parametrize("variant", sorted(LOSSLESS))
def test_lossless_variants_give_exactly_the_png_reading(
    client: TestClient, gray: np.ndarray, reference: dict[str, Any], variant: str
) -> None:
    assert _reading(client, LOSSLESS[variant](gray)) == reference


def test_a_cmyk_jpeg_is_read_like_the_grayscale_jpeg(client: TestClient, gray: np.ndarray) -> None:
    _assert_close(_reading(client, jpeg_cmyk(gray)), _reading(client, jpeg_plain(gray)), tolerance=0.03)


def test_exif_orientation_is_applied(client: TestClient, gray: np.ndarray) -> None:
    upright = _reading(client, jpeg_plain(gray))
    with_exif = _reading(client, jpeg_exif_rotated(gray))
    without_exif = post_image(client, jpeg_rotated_without_exif(gray)).json()

    _assert_close(with_exif, upright, tolerance=0.02)
    # The check above can fail: the same pixels lying on their side score visibly differently.
    assert abs(without_exif["consistency"]["ssim"] - upright["consistency"]["ssim"]) > 0.05


def test_dicom_monochrome2_is_read_like_the_png(
    client: TestClient, gray: np.ndarray, reference: dict[str, Any]
) -> None:
    # The DICOM path stretches the stored range to 0..255; the PNG's own range is narrower, so compare
    # with the same picture stretched.
    stretched = _stretch(gray)
    assert _reading(client, dicom(gray)) == _reading(client, encode(Image.fromarray(stretched), "PNG"))
    _assert_close(_reading(client, dicom(gray)), reference, tolerance=0.15)


def test_dicom_monochrome1_is_inverted_back(client: TestClient, gray: np.ndarray) -> None:
    monochrome2 = _reading(client, dicom(gray, window=(2048, 4096)))
    monochrome1 = _reading(client, dicom(gray, photometric="MONOCHROME1", window=(2048, 4096)))
    _assert_close(monochrome1, monochrome2, tolerance=1e-3)
    assert monochrome1["result"] == "diagnosis"


def test_an_inverted_picture_would_not_pass_as_the_same(client: TestClient, gray: np.ndarray) -> None:
    """Guards the MONOCHROME1 test: without the inversion the reading differs."""
    normal = _reading(client, dicom(gray))
    negative = post_image(client, dicom(255 - gray)).json()
    assert abs(negative["consistency"]["ssim"] - normal["consistency"]["ssim"]) > 0.05


def test_palette_color_dicom_is_read_through_its_lookup_tables(client: TestClient, gray: np.ndarray) -> None:
    """Its stored values are palette indices: the reading must be the picture's, as if MONOCHROME2."""
    assert _reading(client, dicom_palette(gray)) == _reading(client, dicom(gray))


@pytest.mark.parametrize("syntax", ["RLELossless", "JPEG2000Lossless"])
def test_compressed_dicom_is_read_like_the_uncompressed_one(
    client: TestClient, gray: np.ndarray, syntax: str
) -> None:
    import pydicom.uid

    compressed = dicom(gray, transfer_syntax=getattr(pydicom.uid, syntax))
    assert _reading(client, compressed) == _reading(client, dicom(gray))


def _stretch(gray: np.ndarray) -> np.ndarray:
    low, high = float(gray.min()), float(gray.max())
    return np.clip(np.round((gray.astype(np.float64) - low) * (255.0 / (high - low))), 0, 255).astype(
        np.uint8
    )


# ------------------------------------------------------------ what a DICOM file's own header says
# The pixels are a real chest radiograph the service reads, so a refusal can only come from the header
# (function/dicom_header.py).


def _answer(client: TestClient, data: bytes) -> dict[str, Any]:
    response = post_image(client, data)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize(
    ("modality", "view", "says"),
    [
        ("CT", "PA", "Modality CT"),
        ("MR", None, "Modality MR"),
        ("us ", None, "Modality US"),  # case and padding as some machines write them
        ("MG", None, "Modality MG"),
        ("DX", "LL", "ViewPosition LL"),
        ("CR", "rl", "ViewPosition RL"),
        ("DX", "RLO", "ViewPosition RLO"),
        (None, "XTABLE LATERAL", "ViewPosition XTABLE LATERAL"),
    ],
)
def test_a_header_that_says_otherwise_is_refused_whatever_the_pixels(
    client: TestClient, gray: np.ndarray, modality: str | None, view: str | None, says: str
) -> None:
    data = dicom(gray, modality=modality, view_position=view)
    assert header_refusal(decode_upload(data).dicom_view) == says
    refused = _answer(client, data)
    assert refused["result"] == "not_chest_xray" and refused["probabilities"] is None
    assert refused["consistency"]["dicom_header"] == says
    read = _answer(client, dicom(gray))  # the same pixels, a frontal DX header: the gate lets them through
    assert read["result"] != "not_chest_xray"
    assert read["consistency"]["ssim"] == refused["consistency"]["ssim"], "the scores are still the pixels'"


@pytest.mark.parametrize(
    ("modality", "view"),
    [
        ("DX", "PA"),
        ("CR", "AP"),
        ("RG", None),
        ("OT", None),
        ("SC", "LLD"),
        ("DX", "LATERAL DECUBITUS"),  # a frontal projection of a patient lying on one side
        (None, None),
        ("", ""),
        ("CT\\DX", None),  # two values: no single code, so nothing usable
        ("<SCRIPT>ALERT(1)</SCRIPT>", None),  # free text, never echoed
    ],
)
def test_a_header_that_says_a_frontal_radiograph_or_nothing_usable_leaves_it_to_the_pixels(
    client: TestClient, gray: np.ndarray, modality: str | None, view: str | None
) -> None:
    data = dicom(gray, modality=modality, view_position=view)
    assert header_refusal(decode_upload(data).dicom_view) is None
    read = _answer(client, data)
    assert read["result"] == _answer(client, dicom(gray))["result"] != "not_chest_xray"
    assert read["consistency"]["dicom_header"] is None


@pytest.mark.parametrize(
    ("modality", "view", "says"),
    [
        ("JOHN DOE", "PA", None),  # a name where the modality goes: no DICOM modality, so it says nothing
        ("DX", "LL JOHN DOE", "ViewPosition LL"),  # a name typed after a lateral view: the view alone
        (None, "XTABLE_LAT SMITH", "ViewPosition XTABLE LAT"),
    ],
)
def test_a_header_value_holding_a_name_is_never_echoed(
    client: TestClient, gray: np.ndarray, modality: str | None, view: str, says: str | None
) -> None:
    """Short upper-case text passes for a code (a CS value's characters): only DICOM's own terms are
    repeated, so a name in one of the two fields never comes back in the answer (or on the page)."""
    answer = _answer(client, dicom(gray, modality=modality, view_position=view))
    assert answer["consistency"]["dicom_header"] == says
    assert "JOHN" not in json.dumps(answer) and "SMITH" not in json.dumps(answer)


def test_other_formats_and_unreadable_headers_say_nothing(gray: np.ndarray) -> None:
    from pydicom.dataset import Dataset

    from function.dicom_decode import dicom_view

    assert decode_upload(COVID_RADIOGRAPH.read_bytes()).dicom_view is None
    assert header_refusal(None) is None
    assert decode_upload(dicom(gray, modality="CT")).dicom_view == DicomView("CT", "PA")

    class Damaged(Dataset):
        def get(self, *_: object, **__: object) -> None:
            raise ValueError("an element pydicom cannot parse")

    assert dicom_view(Damaged()) == DicomView("", ""), "a header that cannot be read says nothing (no 500)"
