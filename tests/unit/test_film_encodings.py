"""Ways a real chest film legitimately arrives that must decode to the gray a radiologist would see.

Each file is written here with Pillow or pydicom from a real radiograph of the shared data, stored as a
detector or an export tool stores it (12 bits in a 16-bit PNG, an 8-bit VOI LUT, an inverse presentation
LUT), and compared with the same film as the training data has it (an 8-bit PNG) or with the DICOM file
that stores it plainly. A "FOR PROCESSING" DICOM holds raw detector data no one reads: it is refused. A
film framed by declared padding (the pixels outside the exposed area) decodes as the film alone inside a
black frame (bench/dicom_padding.py measures what the padding did before). A 12-bit film whose 16-bit cells
carry bits above Bits Stored decodes as the film stored plainly, however it is compressed.
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
from pydicom import uid

from function.image_errors import UnsupportedImageType
from function.imaging import decode_grayscale
from tests.api_support import error_of, make_client, post_image
from tests.upload_samples import COVID_RADIOGRAPH, compressed_as_is, dicom, encode, gray_of


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


FILM_LOW, FILM_HIGH, BORDER = 300, 3500, 16
"""A film's stored values seldom fill their bits: the film here spans 300..3500, framed by padding."""


def _film_values(film: np.ndarray, photometric: str = "MONOCHROME2") -> np.ndarray:
    """The film as stored values FILM_LOW..FILM_HIGH (MONOCHROME1 stores 4095 minus them)."""
    values = FILM_LOW + film.astype(np.int64) * (FILM_HIGH - FILM_LOW) // 255
    return 4095 - values if photometric == "MONOCHROME1" else values


def _framed(values: np.ndarray, border: np.ndarray | int) -> np.ndarray:
    """Stored values inside a BORDER-pixel frame of ``border`` (the pixels outside the exposed area)."""
    canvas = np.zeros((values.shape[0] + 2 * BORDER, values.shape[1] + 2 * BORDER), dtype=np.int64)
    canvas[...] = border
    canvas[BORDER:-BORDER, BORDER:-BORDER] = values
    return canvas


def _stored_dicom(
    values: np.ndarray,
    photometric: str = "MONOCHROME2",
    padding: int | list[int] | None = None,
    range_limit: int | None = None,
    window: tuple[float, float] | None = None,
    *,
    bits: int = 16,
    padding_vr: str | None = None,
    signed: bool | None = None,
    syntax: str | None = None,
) -> bytes:
    """A DX file of these stored values in 16-bit cells with ``bits`` stored (``signed``, by default when
    any is negative), with Pixel Padding Value (0028,0120) and Pixel Padding Range Limit (0028,0121)
    declared when given, in ``padding_vr`` (by default SS for signed pixels, US for unsigned, as the
    standard has it); compressed in the transfer ``syntax`` when given (``compressed_as_is``)."""
    from pydicom.filereader import dcmread

    signed = bool(values.min() < 0) if signed is None else signed
    dataset = dcmread(
        io.BytesIO(dicom(np.zeros(values.shape, np.uint8), photometric=photometric, window=window))
    )
    dataset.BitsStored, dataset.HighBit, dataset.PixelRepresentation = bits, bits - 1, int(signed)
    dataset.PixelData = values.astype(np.int16 if signed else np.uint16).tobytes()
    for tag, value in ((0x00280120, padding), (0x00280121, range_limit)):
        if value is not None:
            dataset.add_new(tag, padding_vr or ("SS" if signed else "US"), value)
    if syntax is not None:
        compressed_as_is(dataset, syntax)
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


PADDINGS = {
    "MONOCHROME2, -2000": ("MONOCHROME2", -2000, None),
    "MONOCHROME2, 0": ("MONOCHROME2", 0, None),
    "MONOCHROME2, white 65535": ("MONOCHROME2", 65535, None),
    "MONOCHROME1, 65535": ("MONOCHROME1", 65535, None),
    "MONOCHROME1, 4095": ("MONOCHROME1", 4095, None),
    "MONOCHROME2, -2000, window": ("MONOCHROME2", -2000, (1900.0, 2800.0)),
    "MONOCHROME2, -2000, 12-bit window": ("MONOCHROME2", -2000, (2048.0, 4096.0)),
    "MONOCHROME1, 65535, window": ("MONOCHROME1", 65535, (2195.0, 2800.0)),
}
"""(photometric, padding value, window): padding below or above the film's range, dark or bright as stored,
with no window, one narrower than the film (its lowest and highest values clipped, as a vendor's) or the
whole 12-bit range (as export tools write), which clipped the padding below the film's darkest value."""


@pytest.mark.parametrize("case", PADDINGS.values(), ids=PADDINGS)
def test_declared_padding_takes_no_part_in_the_scaling_and_is_black(
    film: np.ndarray, case: tuple[str, int, tuple[float, float] | None]
) -> None:
    """Padding (PS3.3 C.7.5.1.1.2) is no part of the image. It entered the min-max stretch: a MONOCHROME1
    film padded with 65535 came out washed out (its darkest lung 240 of 255), one padded with -2000 grey."""
    photometric, padding, window = case
    values = _film_values(film, photometric)
    alone = decode_grayscale(_stored_dicom(values, photometric, window=window))
    padded = decode_grayscale(_stored_dicom(_framed(values, padding), photometric, padding, window=window))
    np.testing.assert_array_equal(padded[BORDER:-BORDER, BORDER:-BORDER], alone)
    frame = np.ones(padded.shape, dtype=bool)
    frame[BORDER:-BORDER, BORDER:-BORDER] = False
    assert padded[frame].max() == 0  # shown black, after MONOCHROME1's inversion too


def test_a_padding_range_limit_declares_a_noisy_border(film: np.ndarray) -> None:
    """Pixel Padding Range Limit (0028,0121): every stored value from the padding value to it is padding."""
    values = _film_values(film)
    border = np.random.default_rng(0).integers(
        0, 151, (film.shape[0] + 2 * BORDER, film.shape[1] + 2 * BORDER)
    )
    alone = decode_grayscale(_stored_dicom(values))
    for padding, limit in ((0, 150), (150, 0)):  # the standard gives no order
        padded = decode_grayscale(_stored_dicom(_framed(values, border), padding=padding, range_limit=limit))
        np.testing.assert_array_equal(padded[BORDER:-BORDER, BORDER:-BORDER], alone)
        assert padded[:BORDER].max() == 0


PADDINGS_WRITTEN_UNSIGNED = {
    "signed 16-bit, -2000 as US 63536": (16, -2000, 2**16 - 2000, None),
    "signed 16-bit, noisy -2000..-1850 as US 63536..63686": (16, (-2000, -1850), 2**16 - 2000, 2**16 - 1850),
    "signed 12-bit, -2000 as US 63536": (12, -2000, 2**16 - 2000, None),
    "signed 12-bit, -2000 as its 12 bits, US 2096": (12, -2000, 2**12 - 2000, None),
    "signed 12-bit, pixels and padding as 12-bit fields (0x830)": (12, 2**12 - 2000, 2**12 - 2000, None),
}
"""(bits stored, the border's stored cells (or the range of its noise), Pixel Padding Value as written in
US, its range limit as written): what a signed file's writer may put for the padding -2000."""


@pytest.mark.parametrize("case", PADDINGS_WRITTEN_UNSIGNED.values(), ids=PADDINGS_WRITTEN_UNSIGNED)
def test_a_signed_files_padding_written_unsigned_is_still_its_padding(
    film: np.ndarray, case: tuple[int, int | tuple[int, int], int, int | None]
) -> None:
    """The standard gives the padding value and limit the VR of the pixels (SS when Pixel Representation is
    1), but files in the wild write US, and pydicom reads a US value unsigned: -2000 came as 63536, no
    stored value matched it, and the padding took part in the scaling and was not shown black. The value is
    a Bits Stored wide two's complement like the pixels (PS3.5 8.1.1: the sign bit is the High Bit), its
    higher bits junk, as the decoder reads the pixels: in a 12-bit file 0x830 is -2000, stored or declared."""
    bits, cells, padding, limit = case
    values = _film_values(film) - (1900 if bits == 12 else 0)  # 12 bits signed: the film at -1600..1600
    shape = (film.shape[0] + 2 * BORDER, film.shape[1] + 2 * BORDER)
    border = (
        cells if isinstance(cells, int) else np.random.default_rng(0).integers(*cells, shape, endpoint=True)
    )
    alone = decode_grayscale(_stored_dicom(values, bits=bits))
    padded = decode_grayscale(
        _stored_dicom(_framed(values, border), padding=padding, range_limit=limit, bits=bits, padding_vr="US")
    )
    np.testing.assert_array_equal(padded[BORDER:-BORDER, BORDER:-BORDER], alone)
    frame = np.ones(padded.shape, dtype=bool)
    frame[BORDER:-BORDER, BORDER:-BORDER] = False
    assert padded[frame].max() == 0


JPEG_2000_FAMILY = {
    "JPEG 2000 lossless": uid.JPEG2000Lossless,
    "JPEG 2000": uid.JPEG2000,
    "HTJ2K lossless": uid.HTJ2KLossless,
    "HTJ2K lossless RPCL": uid.HTJ2KLosslessRPCL,
    "HTJ2K": uid.HTJ2K,
}
"""Where pydicom 3.0.2 keeps bits above Bits Stored: it only corrects a JPEG 2000 codestream's sign, by the
codestream's precision (function/dicom_display.py's docstring)."""
STORAGES = {"uncompressed": None, "RLE lossless": uid.RLELossless, **JPEG_2000_FAMILY}
"""Every way a 12-bit film's cells reach the decoder here with their bits above Bits Stored: uncompressed
and RLE, which pydicom reads over Bits Stored itself, and the JPEG 2000 family, which it does not. (JPEG
baseline and extended cannot carry 12 bits here, and no JPEG-LS or JPEG lossless decoder is installed.)"""


def _decoded_cells(data: bytes) -> np.ndarray:
    """A file's first frame as its codec gives it, none of pydicom's bit corrections applied, as uint16."""
    from pydicom.filereader import dcmread

    dataset = dcmread(io.BytesIO(data))
    dataset.pixel_array_options(index=0, correct_unused_bits=False, apply_j2k_sign_correction=False)
    return np.asarray(dataset.pixel_array).view(np.uint16)


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
@pytest.mark.parametrize("syntax", STORAGES.values(), ids=STORAGES)
def test_bits_above_bits_stored_are_no_part_of_the_film_however_it_is_compressed(
    film: np.ndarray, syntax: str | None, signed: bool
) -> None:
    """A 12-bit film (300..3500, or -1600..1600 signed) whose 16-bit cells hold its 12-bit fields under 4
    random bits: the bits above Bits Stored are no part of a stored value (PS3.5 8.1.1), so it decodes as
    the same film stored plainly. Through JPEG 2000 and HTJ2K pydicom gave back the whole cells (0..65535
    unsigned, -4096..24575 signed, and a signed field 0x830 as 2096, not -2000): the film came out noise."""
    values = _film_values(film) - (1900 if signed else 0)
    junk = np.random.default_rng(0).integers(0, 16, values.shape) << 12
    cells = (values & 0xFFF) | junk
    upload = _stored_dicom(cells, bits=12, signed=signed, syntax=syntax)
    np.testing.assert_array_equal(_decoded_cells(upload), cells)  # the file does carry those bits
    plain = decode_grayscale(_stored_dicom(values, bits=12))
    np.testing.assert_array_equal(decode_grayscale(upload), plain)


@pytest.mark.parametrize("syntax", STORAGES.values(), ids=STORAGES)
def test_junk_bits_above_bits_stored_are_dropped_from_the_padding_value_as_from_the_pixels(
    film: np.ndarray, syntax: str | None
) -> None:
    """An unsigned 12-bit MONOCHROME1 film whose frame cells and Pixel Padding Value are 65535 (all 16 bits
    set): the decoder reads the cells as 4095, so the padding value is 4095 too, not a value no pixel has.
    Through JPEG 2000 and HTJ2K the cells came back 65535 and were taken for image: the film washed out."""
    values = _film_values(film, "MONOCHROME1")
    alone = decode_grayscale(_stored_dicom(values, "MONOCHROME1", bits=12))
    padded = decode_grayscale(
        _stored_dicom(_framed(values, 65535), "MONOCHROME1", 65535, bits=12, syntax=syntax)
    )
    np.testing.assert_array_equal(padded[BORDER:-BORDER, BORDER:-BORDER], alone)
    assert padded[:BORDER].max() == 0


def test_undeclared_or_unreadable_padding_is_part_of_the_image(film: np.ndarray) -> None:
    """No guessing: a border the header does not declare is image (the decoder scales it with the film),
    and so is one whose padding value is not a single number."""
    framed = _framed(_film_values(film), -2000)
    undeclared = decode_grayscale(_stored_dicom(framed))
    expected = np.round((framed + 2000) * 255 / (framed.max() + 2000)).astype(np.uint8)  # min-max of all
    assert np.abs(undeclared.astype(int) - expected.astype(int)).max() <= 1
    multi_valued = _stored_dicom(framed, padding=[-2000, 0])
    np.testing.assert_array_equal(decode_grayscale(multi_valued), undeclared)


@pytest.mark.parametrize("photometric", ["MONOCHROME2", "MONOCHROME1"])
def test_an_image_of_padding_only_is_black(photometric: str) -> None:
    padding_only = np.full((64, 64), 4095 if photometric == "MONOCHROME1" else 0, dtype=np.int64)
    decoded = decode_grayscale(_stored_dicom(padding_only, photometric, padding=int(padding_only[0, 0])))
    assert decoded.max() == 0


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


def test_a_film_framed_by_declared_padding_gets_the_framed_films_reading(
    client: TestClient, film: np.ndarray
) -> None:
    """The reading of a film whose frame is declared padding is that of the same frame shown black, as a
    viewer shows it; before, a MONOCHROME1 film padded with 65535 reached the model washed out."""
    for photometric, padding in (("MONOCHROME2", -2000), ("MONOCHROME1", 65535)):
        values = _film_values(film, photometric)
        darkest = int(values.max() if photometric == "MONOCHROME1" else values.min())
        shown = _reading(client, _stored_dicom(_framed(values, darkest), photometric))
        padded = _reading(client, _stored_dicom(_framed(values, padding), photometric, padding))
        assert padded["result"] == shown["result"], photometric
        assert padded["probabilities"] == pytest.approx(shown["probabilities"], abs=0.005), photometric
