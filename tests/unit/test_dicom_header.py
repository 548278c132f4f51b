"""A DICOM upload whose own header says it is no frontal chest radiograph is refused whatever its pixels
look like; one whose header says nothing or says a frontal radiograph is read by its pixels, as before.

The pixels are a real chest radiograph that the service reads (so a refusal can only come from the header).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from function.dicom_header import header_refusal
from tests.api_support import make_client, post_image
from tests.upload_samples import COVID_RADIOGRAPH, dicom, gray_of


@pytest.fixture(scope="module")
def client(shared_data: Path) -> Iterator[TestClient]:
    with make_client() as client:
        yield client


@pytest.fixture(scope="module")
def gray(shared_data: Path) -> np.ndarray:
    return gray_of(COVID_RADIOGRAPH)


def answer(client: TestClient, data: bytes) -> dict[str, Any]:
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
        (None, "LATERAL", "ViewPosition LATERAL"),
    ],
)
def test_a_header_that_says_otherwise_is_refused_whatever_the_pixels(
    client: TestClient, gray: np.ndarray, modality: str | None, view: str | None, says: str
) -> None:
    data = dicom(gray, modality=modality, view_position=view)
    assert header_refusal(data) == says
    refused = answer(client, data)
    assert refused["result"] == "not_chest_xray" and refused["probabilities"] is None
    assert refused["consistency"]["dicom_header"] == says
    read = answer(client, dicom(gray))  # the same pixels, a frontal DX header: the gate lets them through
    assert read["result"] != "not_chest_xray"
    assert read["consistency"]["ssim"] == refused["consistency"]["ssim"], "the scores are still the pixels'"


@pytest.mark.parametrize(
    ("modality", "view"),
    [("DX", "PA"), ("CR", "AP"), ("RG", None), ("OT", None), ("SC", "LLD"), (None, None), ("", "")],
)
def test_a_header_that_says_a_frontal_radiograph_or_nothing_leaves_it_to_the_pixels(
    client: TestClient, gray: np.ndarray, modality: str | None, view: str | None
) -> None:
    data = dicom(gray, modality=modality, view_position=view)
    assert header_refusal(data) is None
    read = answer(client, data)
    assert read["result"] == answer(client, dicom(gray))["result"] != "not_chest_xray"
    assert read["consistency"]["dicom_header"] is None


def test_other_formats_and_unreadable_headers_say_nothing(gray: np.ndarray) -> None:
    assert header_refusal(COVID_RADIOGRAPH.read_bytes()) is None
    assert header_refusal(b"") is None
    data = bytearray(dicom(gray, modality="CT"))
    cut = data[: data.index(b"DICM") + 20]  # the preamble and a torn first element
    assert header_refusal(bytes(cut)) is None
