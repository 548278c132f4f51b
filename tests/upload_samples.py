"""Uploads for the function's tests, built at test time from real radiographs of the shared data.

Nothing here is a stored binary fixture: each variant (16-bit, RGBA, palette, CMYK, EXIF-rotated,
DICOM...) is made from the same real radiograph, so tests can compare the service's answers between
variants of one picture.
"""

from __future__ import annotations

import base64
import io
import struct
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from infra.locations import NOT_CHEST, TRAINING_SET

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

COVID_RADIOGRAPH = TRAINING_SET / "COVID" / "images" / "COVID-2.png"
NORMAL_RADIOGRAPH = TRAINING_SET / "Normal" / "images" / "Normal-1.png"
PHOTO = NOT_CHEST / "photo" / "photo-022.jpg"
"""A bee on a flower (ImageNet subset): a real JPEG photo far below any sensible gate threshold."""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{b64(data)}"


def gray_of(path: Path) -> np.ndarray:
    """A radiograph file as a (H, W) uint8 array (the shared PNGs are 8-bit grayscale)."""
    with Image.open(path) as image:
        return np.asarray(image.convert("L"), dtype=np.uint8).copy()


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def png_16bit(gray: np.ndarray) -> bytes:
    """The same picture as a 16-bit grayscale PNG (v * 257: decodes back to exactly v)."""
    wide = gray.astype(np.uint16) * 257
    return encode(Image.fromarray(wide), "PNG")


def png_rgba(gray: np.ndarray) -> bytes:
    rgba = np.dstack([gray, gray, gray, np.full_like(gray, 255)])
    return encode(Image.fromarray(rgba, "RGBA"), "PNG")


def png_palette(gray: np.ndarray) -> bytes:
    """An 8-bit palette PNG whose palette is the gray ramp: same pixels, different storage."""
    image = Image.frombytes("P", (gray.shape[1], gray.shape[0]), gray.tobytes())
    image.putpalette([level for value in range(256) for level in (value, value, value)])
    return encode(image, "PNG")


def jpeg_cmyk(gray: np.ndarray) -> bytes:
    return encode(Image.fromarray(gray).convert("CMYK"), "JPEG", quality=95)


def jpeg_exif_rotated(gray: np.ndarray) -> bytes:
    """Pixels stored rotated, with EXIF Orientation 6 ("rotate 90° clockwise to view") restoring them."""
    stored = np.rot90(gray, k=1)  # 90° counter-clockwise; a viewer turns it back clockwise
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(Image.fromarray(np.ascontiguousarray(stored)), "JPEG", quality=95, exif=exif)


def jpeg_plain(gray: np.ndarray) -> bytes:
    return encode(Image.fromarray(gray), "JPEG", quality=95)


def jpeg_rotated_without_exif(gray: np.ndarray) -> bytes:
    return encode(Image.fromarray(np.ascontiguousarray(np.rot90(gray, k=1))), "JPEG", quality=95)


def png_claiming(width: int, height: int) -> bytes:
    """A ~100-byte PNG whose IHDR claims ``width`` x ``height`` (valid CRCs, almost no pixel data)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale
    pixels = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def dicom(
    gray: np.ndarray,
    photometric: str = "MONOCHROME2",
    window: tuple[float, float] | None = None,
    transfer_syntax: str | None = None,
    modality: str | None = "DX",
    view_position: str | None = "PA",
) -> bytes:
    """A digital X-ray DICOM file of ``gray`` stored as 12-bit values (MONOCHROME1 stores them inverted).

    ``transfer_syntax`` compresses the pixel data (e.g. pydicom's RLELossless, JPEG2000Lossless);
    ``modality`` and ``view_position`` are the header's claims (None: the tag is left out).
    """
    values = gray.astype(np.uint16) * 16  # 0..4080 in 12 bits
    if photometric == "MONOCHROME1":
        values = np.uint16(4095) - values
    dataset = dx_dataset(gray.shape, photometric)
    if modality is not None:
        dataset.Modality = modality
    if view_position is not None:
        dataset.ViewPosition = view_position
    dataset.BitsAllocated = 16
    dataset.BitsStored = 12
    dataset.HighBit = 11
    dataset.PixelRepresentation = 0
    dataset.RescaleSlope = 1
    dataset.RescaleIntercept = 0
    if window is not None:
        dataset.WindowCenter, dataset.WindowWidth = window
    dataset.PixelData = values.tobytes()
    if transfer_syntax is not None:
        dataset.compress(transfer_syntax)
    return saved(dataset)


def dx_dataset(shape: tuple[int, ...], photometric: str) -> Dataset:
    """A digital X-ray "FOR PRESENTATION" dataset with its file meta (explicit VR little endian), its size
    and photometric interpretation, one sample a pixel; the caller adds the pixels and the rest."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    dx_for_presentation = "1.2.840.10008.5.1.4.1.1.1.1"
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = dx_for_presentation
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = Dataset()
    dataset.file_meta = meta
    dataset.SOPClassUID = dx_for_presentation
    dataset.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    dataset.Rows, dataset.Columns = (int(side) for side in shape[:2])
    dataset.SamplesPerPixel = 1
    dataset.PhotometricInterpretation = photometric
    return dataset


def compressed_as_is(dataset: Dataset, syntax: str) -> None:
    """Compress the dataset's cells in the transfer ``syntax`` as they are, bits above Bits Stored included:
    RLE by pydicom's own encoder; the JPEG 2000 family as one 16-bit precision codestream of the whole
    cells (openjpeg, signed when Pixel Representation is 1), as a writer that encodes the cell rather than
    Bits Stored does. HTJ2K too: a Part 1 codestream, which HTJ2K decoders read (no HTJ2K encoder here)."""
    from openjpeg import encode
    from pydicom.encaps import encapsulate
    from pydicom.uid import RLELossless

    if syntax == RLELossless:
        dataset.compress(syntax)
        return
    dataset.pixel_array_options(correct_unused_bits=False)
    cells = dataset.pixel_array
    dataset.PixelData = encapsulate([encode(cells, bits_stored=16)])
    dataset["PixelData"].VR = "OB"
    dataset.file_meta.TransferSyntaxUID = syntax


def saved(dataset: Dataset) -> bytes:
    """The dataset as the bytes of a DICOM file (preamble, file meta)."""
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def dicom_palette(gray: np.ndarray, stored_entries: int = 256) -> bytes:
    """``gray`` as an 8-bit PALETTE COLOR DICOM whose three 16-bit lookup tables map index v to v * 257;
    the tables' descriptors always say 256 entries, ``stored_entries`` is how many are written."""
    from pydicom.filereader import dcmread

    dataset = dcmread(io.BytesIO(dicom(gray)))
    dataset.PhotometricInterpretation = "PALETTE COLOR"
    dataset.BitsAllocated = dataset.BitsStored = 8
    dataset.HighBit = 7
    dataset.PixelData = gray.astype(np.uint8).tobytes()
    table = (np.arange(stored_entries, dtype=np.uint16) * 257).astype("<u2").tobytes()
    for color in ("Red", "Green", "Blue"):
        setattr(dataset, f"{color}PaletteColorLookupTableDescriptor", [256, 0, 16])
        dataset[f"{color}PaletteColorLookupTableDescriptor"].VR = "US"  # the standard allows US or SS
        setattr(dataset, f"{color}PaletteColorLookupTableData", table)
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()
