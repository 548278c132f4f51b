"""The preprocessing contract of function.imaging, on a real radiograph from the shared data."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from function.image_errors import ImageTooLarge, ImageTooSmall, UndecodableImage, UnsupportedImageType
from function.image_limits import MAX_PIXELS
from function.imaging import InputSpec, decode_grayscale, to_model_input
from infra.locations import REPO_ROOT, TRAINING_SET


def _encode(image: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def radiograph(shared_data: Path) -> np.ndarray:
    path = next((TRAINING_SET / "COVID" / "images").glob("*.png"))
    gray = decode_grayscale(path.read_bytes())
    assert gray.dtype == np.uint8 and gray.ndim == 2
    assert gray.std() > 10, "fixture should be a real image with contrast"
    return gray


def test_rgb_rgba_16bit_palette_all_become_the_same_8bit_gray(radiograph: np.ndarray) -> None:
    rgb = np.stack([radiograph] * 3, axis=-1)
    rgba = np.dstack([rgb, np.random.default_rng(0).integers(0, 256, radiograph.shape, dtype=np.uint8)])
    sixteen = radiograph.astype(np.uint16) * 257
    palette = Image.fromarray(radiograph, mode="L").convert("P")  # greyscale ramp palette
    variants = {
        "rgb": _encode(Image.fromarray(rgb, mode="RGB")),
        "rgba (alpha ignored)": _encode(Image.fromarray(rgba, mode="RGBA")),
        "16-bit png": cv2.imencode(".png", sixteen)[1].tobytes(),
        "palette": _encode(palette),
        "bmp": _encode(Image.fromarray(radiograph), "BMP"),
        "tiff": _encode(Image.fromarray(radiograph), "TIFF"),
    }
    for name, data in variants.items():
        decoded = decode_grayscale(data)
        assert decoded.dtype == np.uint8, name
        np.testing.assert_array_equal(decoded, radiograph, err_msg=name)


def test_model_input_shape_dtype_and_range(radiograph: np.ndarray) -> None:
    model_input = to_model_input(radiograph, 64)
    assert model_input.shape == (64, 64, 1)
    assert model_input.dtype == np.float32
    assert 0.0 <= model_input.min() < model_input.max() <= 1.0
    expected = cv2.resize(radiograph, (64, 64), interpolation=cv2.INTER_AREA) / 255.0
    np.testing.assert_allclose(model_input[..., 0], expected, atol=1e-6)


def test_version_1_is_decode_then_resize(radiograph: np.ndarray) -> None:
    data = _encode(Image.fromarray(radiograph))
    np.testing.assert_array_equal(InputSpec(32, "1").from_bytes(data), to_model_input(radiograph, 32))
    assert InputSpec(32) == InputSpec(32, "1")  # every bundle before version 2 was made by version 1


def test_non_square_inputs_are_resized_without_keeping_aspect() -> None:
    wide = np.tile(np.arange(200, dtype=np.uint8), (50, 1))
    assert to_model_input(wide, 64).shape == (64, 64, 1)


def test_exif_orientation_is_applied(radiograph: np.ndarray) -> None:
    marked = radiograph.copy()
    marked[:20, :20] = 255  # a bright top-left corner tells which way is up
    stored = np.rot90(marked, k=1)  # stored rotated; orientation 6 says "rotate 90 CW to display"
    exif = Image.Exif()
    exif[0x0112] = 6
    data = _encode(Image.fromarray(np.ascontiguousarray(stored)), "JPEG", quality=95, exif=exif.tobytes())
    decoded = decode_grayscale(data)
    assert decoded.shape == marked.shape
    assert decoded[:20, :20].mean() > 200
    assert np.abs(decoded.astype(int) - marked.astype(int)).mean() < 4


def _png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def test_a_huge_header_is_refused_before_decoding() -> None:
    data = _png_claiming(30_000, 30_000)
    assert len(data) < 200
    assert MAX_PIXELS < 30_000 * 30_000
    with pytest.raises(ImageTooLarge, match="too large"):
        decode_grayscale(data)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", UndecodableImage),
        (b"hello, this is text", UnsupportedImageType),
        (b"%PDF-1.4\n...", UnsupportedImageType),
        (b"GIF89a" + b"\0" * 20, UnsupportedImageType),
    ],
)
def test_non_images_are_refused_with_a_typed_error(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        decode_grayscale(data)


def test_truncated_png_is_undecodable(radiograph: np.ndarray) -> None:
    data = _encode(Image.fromarray(radiograph))
    with pytest.raises(UndecodableImage):
        decode_grayscale(data[: len(data) // 2])


def test_tiny_image_is_refused() -> None:
    with pytest.raises(ImageTooSmall):
        decode_grayscale(_encode(Image.new("L", (4, 4))))


def test_dicom_monochrome1_is_inverted(radiograph: np.ndarray) -> None:
    import pydicom
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

    def dicom(photometric: str, pixels: np.ndarray) -> bytes:
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID = meta.MediaStorageSOPClassUID
        ds.Modality = "CR"
        ds.Rows, ds.Columns = pixels.shape
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = photometric
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.PixelData = pixels.astype(np.uint16).tobytes()
        buffer = io.BytesIO()
        pydicom.dcmwrite(buffer, ds, enforce_file_format=True)
        return buffer.getvalue()

    twelve_bit = radiograph.astype(np.uint16) * 16
    mono2 = decode_grayscale(dicom("MONOCHROME2", twelve_bit))
    mono1 = decode_grayscale(dicom("MONOCHROME1", 4095 - twelve_bit))
    assert np.corrcoef(mono2.ravel(), radiograph.ravel())[0, 1] > 0.99
    assert np.abs(mono1.astype(int) - mono2.astype(int)).max() <= 1


def test_decoding_passes_no_warning_on_and_never_quotes_the_file() -> None:
    """pydicom warns about an invalid UID by quoting it; Python would print that to stderr (the function's
    log). Decoding silences decoders' warnings, and the 415 names the syntax without the file's text."""
    import warnings

    from tests.hostile_inputs import dicom_with_syntax_text

    upload = dicom_with_syntax_text(b"<b>PATIENT-SMITH</b>")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(UnsupportedImageType) as refused:
            decode_grayscale(upload)
    assert "PATIENT" not in str(refused.value) and "an unknown transfer syntax" in str(refused.value)
    assert [str(warning.message) for warning in caught] == []


PILLOW_WARNING_RANGE_SCRIPT = """
from function.image_errors import ImageTooLarge
from function.imaging import decode_grayscale
from tests.upload_samples import png_claiming
try:
    decode_grayscale(png_claiming(9000, 9000))  # 81 megapixels: over MAX_PIXELS, under twice it
except ImageTooLarge as error:
    print("refused:", error)
"""


def test_an_image_pillow_only_warns_about_is_refused_with_nothing_on_stderr() -> None:
    """Between MAX_PIXELS and twice it Pillow warns (the upload's size, to stderr) instead of refusing; the
    function makes that warning an error once for the whole process, so a fresh interpreter with Python's
    default warning filters refuses the file and prints nothing."""
    done = subprocess.run(
        [sys.executable, "-c", PILLOW_WARNING_RANGE_SCRIPT],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("refused: The image is too large")
    assert done.stderr == ""
