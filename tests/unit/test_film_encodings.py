"""Ways a real chest film legitimately arrives that must decode to the gray a radiologist would see.

Each file is written here with Pillow or pydicom from a real radiograph of the shared data, stored as a
detector or an export tool stores it (12 bits in a 16-bit PNG, an 8-bit VOI LUT, an inverse presentation
LUT), and compared with the same film as the training data has it (an 8-bit PNG) or with the DICOM file
that stores it plainly. A "FOR PROCESSING" DICOM holds raw detector data no one reads: it is refused.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from function.image_errors import UnsupportedImageType
from function.imaging import decode_grayscale
from tests.api_support import error_of, make_client, post_image
from tests.upload_samples import COVID_RADIOGRAPH, dicom, encode, gray_of


@pytest.fixture(scope="module")
def film(shared_data: Path) -> np.ndarray:
    return gray_of(COVID_RADIOGRAPH)


def _edited(data: bytes, **elements: object) -> bytes:
    """A DICOM file with some elements set (pydicom infers each VR from the keyword)."""
    from pydicom.filereader import dcmread

    dataset = dcmread(io.BytesIO(data))
    for keyword, value in elements.items():
        setattr(dataset, keyword, value)
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


@pytest.mark.parametrize("bits", [10, 12, 14])
@pytest.mark.parametrize("container", ["PNG", "TIFF"])
def test_a_film_of_fewer_bits_in_a_16_bit_file_is_not_left_nearly_black(
    film: np.ndarray, bits: int, container: str
) -> None:
    """Export tools write a 12-bit detector's values unscaled into 16-bit PNGs and TIFFs; over the 16-bit
    range they were 0..16 of 255, a black picture the gate refused."""
    stored = (film.astype(np.int64) * (2**bits - 1) // 255).astype(np.uint16)
    decoded = decode_grayscale(encode(Image.fromarray(stored), container))
    assert np.abs(decoded.astype(int) - film.astype(int)).max() <= 1


def test_a_16_bit_copy_of_an_8_bit_film_still_gives_the_8_bit_film(film: np.ndarray) -> None:
    for picture in (film, film // 2):  # a dim film too: its brightest pixel is 125
        wide = encode(Image.fromarray(picture.astype(np.uint16) * 257), "PNG")
        np.testing.assert_array_equal(decode_grayscale(wide), picture)


def _voi_lut_item(bits: int) -> object:
    """A VOI LUT of 4096 entries mapping 12-bit values linearly onto ``bits``-bit display values."""
    from pydicom.dataset import Dataset

    item = Dataset()
    item.LUTDescriptor = [4096, 0, bits]
    item.LUTData = np.round(np.linspace(0, 2**bits - 1, 4096)).astype(int).tolist()
    item["LUTData"].VR = "US"
    return item


@pytest.mark.parametrize("bits", [8, 12])
@pytest.mark.parametrize("photometric", ["MONOCHROME2", "MONOCHROME1"])
def test_a_voi_lut_sequence_gives_the_film(film: np.ndarray, bits: int, photometric: str) -> None:
    """An 8-bit VOI LUT (0028,3010) is indexed by 12-bit values: pydicom's lookup wrapped them modulo 256
    and the film came out as noise (correlation -0.09 with itself)."""
    plain = decode_grayscale(dicom(film, photometric=photometric))
    with_lut = decode_grayscale(
        _edited(dicom(film, photometric=photometric), VOILUTSequence=[_voi_lut_item(bits)])
    )
    assert np.abs(with_lut.astype(int) - plain.astype(int)).max() <= 1


def test_a_voi_lut_is_looked_up_not_stretched(film: np.ndarray) -> None:
    """The table decides the display: one that brightens the dark half must show in the gray."""
    item = _voi_lut_item(12)
    item.LUTData = np.round(np.sqrt(np.arange(4096) / 4095) * 4095).astype(int).tolist()
    decoded = decode_grayscale(_edited(dicom(film), VOILUTSequence=[item]))
    plain = decode_grayscale(dicom(film))
    dark = plain < 100
    assert decoded[dark].mean() > plain[dark].mean() + 20


def test_a_voi_lut_whose_first_mapped_value_is_negative_but_written_unsigned_gives_the_film(
    film: np.ndarray,
) -> None:
    """Unsigned stored values with a negative rescale intercept feed the VOI LUT negative values; the
    descriptor's first mapped value (-2048) then reaches the decoder as US, 63488 (pydicom takes its VR
    from Pixel Representation, and explicit-VR writers give US as well). Read as 63488, every pixel fell
    below the table and the film came out one flat gray; no unsigned table can start there and hold 4096
    entries, so it is the two's complement of -2048."""
    item = _voi_lut_item(12)
    item.LUTDescriptor = [4096, 2**16 - 2048, 12]
    item["LUTDescriptor"].VR = "US"
    plain = decode_grayscale(dicom(film))
    shifted = _edited(dicom(film), RescaleIntercept=-2048, VOILUTSequence=[item])
    assert np.abs(decode_grayscale(shifted).astype(int) - plain.astype(int)).max() <= 1


def test_an_inverse_presentation_lut_shape_is_shown_inverted(film: np.ndarray) -> None:
    """Presentation LUT Shape INVERSE (2050,0020) says the lowest value is shown white: a MONOCHROME2 file
    storing the film's negative with it shows the film (it was read as the negative, and refused)."""
    plain = decode_grayscale(dicom(film))
    negative_stored = decode_grayscale(_edited(dicom(255 - film), PresentationLUTShape="INVERSE"))
    assert np.abs(negative_stored.astype(int) - plain.astype(int)).max() <= 1
    # MONOCHROME1 already means "lowest is white"; its INVERSE shape (as the DX IOD requires) says it again.
    monochrome1 = _edited(dicom(film, photometric="MONOCHROME1"), PresentationLUTShape="INVERSE")
    assert np.abs(decode_grayscale(monochrome1).astype(int) - plain.astype(int)).max() <= 1
    identity = decode_grayscale(_edited(dicom(film), PresentationLUTShape="IDENTITY"))
    np.testing.assert_array_equal(identity, plain)


DX_FOR_PROCESSING = "1.2.840.10008.5.1.4.1.1.1.1.1"


@pytest.mark.parametrize(
    "elements",
    [
        {"PresentationIntentType": "FOR PROCESSING"},
        {"SOPClassUID": DX_FOR_PROCESSING},
    ],
    ids=["intent", "sop-class"],
)
def test_raw_detector_data_is_refused_with_what_to_send(film: np.ndarray, elements: dict[str, str]) -> None:
    """A "FOR PROCESSING" DX image is the detector's raw signal, before the vendor's processing makes it a
    film; the model never saw one, and min-max scaling it is no radiologist's view."""
    with pytest.raises(UnsupportedImageType) as refused:
        decode_grayscale(_edited(dicom(film), **elements))
    assert "FOR PRESENTATION" in refused.value.message_en and "FOR PRESENTATION" in refused.value.message
    assert decode_grayscale(_edited(dicom(film), PresentationIntentType="FOR PRESENTATION")).std() > 10


# ------------------------------------------------------------------------------ through the API


@pytest.fixture(scope="module")
def client(shared_data: Path) -> Iterator[TestClient]:
    with make_client() as client:
        yield client


def _reading(client: TestClient, data: bytes) -> dict[str, Any]:
    response = post_image(client, data)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_each_way_the_film_arrives_gets_the_plain_files_reading(client: TestClient, film: np.ndarray) -> None:
    """Before the mends the service answered "not a chest radiograph" to the 12-bit PNG and the 8-bit VOI
    LUT, and read the inverse-shaped DICOM as its negative."""
    twelve_bit = (film.astype(np.int64) * 4095 // 255).astype(np.uint16)
    assert _reading(client, encode(Image.fromarray(twelve_bit), "PNG")) == _reading(
        client, COVID_RADIOGRAPH.read_bytes()
    )
    plain = _reading(client, dicom(film))
    assert plain["result"] == "diagnosis"
    for name, data in {
        "8-bit VOI LUT": _edited(dicom(film), VOILUTSequence=[_voi_lut_item(8)]),
        "negative stored, INVERSE shape": _edited(dicom(255 - film), PresentationLUTShape="INVERSE"),
    }.items():
        answer = _reading(client, data)
        assert answer["result"] == plain["result"], name
        assert answer["probabilities"] == pytest.approx(plain["probabilities"], abs=0.02), name


def test_raw_detector_data_is_a_bilingual_415(client: TestClient, film: np.ndarray) -> None:
    response = post_image(client, _edited(dicom(film), PresentationIntentType="FOR PROCESSING"))
    assert response.status_code == 415, response.text
    assert error_of(response)["code"] == "unsupported_media_type"
