"""DICOM bytes -> 8-bit gray and the header's view codes, with pydicom imported only when one arrives.

The DICOM half of the input contract (``function.imaging``): transfer syntax read from the file meta
(deflated files refused before pydicom inflates them), the frame's decoded and compressed sizes checked
before any pixel is decoded, then grayscale (through the display pipeline of ``function.dicom_display``),
RGB and PALETTE COLOR turned into one 8-bit channel band by band. It is its own module because none of it
applies to the other formats and pydicom stays out of a cold start: most uploads are PNG or JPEG.
"""

from __future__ import annotations

import io
import re
import struct
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from function.dicom_display import GrayDisplay, refuse_raw_detector_data
from function.errors import number
from function.image_errors import ImageError, ImageTooLarge, UndecodableImage, UnsupportedImageType
from function.image_limits import (
    MAX_DICOM_FRAME_BYTES,
    MAX_PIXELS,
    PILLOW_BOMB,
    check_dimensions,
    check_jpeg_scans,
    image_size,
    over_pixel_limit,
    row_bands,
)
from function.logging_setup import quiet_pydicom

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

DEFLATED_DICOM = "1.2.840.10008.1.2.1.99"
"""Deflated Explicit VR Little Endian: pydicom inflates the whole dataset before anything can be checked,
so a 4.5 MB upload could claim 4.6 GB of memory (a zip bomb). Refused from the file meta instead."""
_DICOM_CODE = re.compile(r"[A-Z0-9 _-]{1,16}")
"""A DICOM code (a CS value's characters and length, and '-' that machines write in ViewPosition): only
such a header value is ever kept (``dicom_view``) or named in a message."""
EXPORT_INSTEAD = (
    "exporte la imagen sin comprimir, o como DICOM RLE o JPEG 2000, PNG o JPEG.",
    "export the image uncompressed, or as RLE or JPEG 2000 DICOM, PNG or JPEG.",
)
"""(Spanish, English): what to do with a DICOM whose compression is not read."""


@dataclass(frozen=True)
class DicomView:
    """What a DICOM file's header says of how it was made, as codes: ``Modality`` (0008,0060) and
    ``ViewPosition`` (0018,5101), upper-case; "" when missing, several values, or not a short code (free
    text is never kept, so nothing of it can be echoed). function/dicom_header.py judges them."""

    modality: str = ""
    view_position: str = ""


def decode_dicom(data: bytes) -> tuple[np.ndarray, DicomView]:
    """DICOM bytes -> gray and the header's view codes. Any failure inside pydicom is this file's damage,
    so it is a 4xx, never a 500: pydicom parses elements lazily, and fuzzing found ValueError,
    NotImplementedError and more raised long after ``dcmread`` returned."""
    pydicom = _quiet_pydicom()
    try:
        deflated = _transfer_syntax(data) == DEFLATED_DICOM
        dataset = None if deflated else pydicom.dcmread(io.BytesIO(data), force=False)
    except Exception as error:
        raise _damaged_dicom(error) from None
    if dataset is None:
        raise UnsupportedImageType(
            es=f"No se aceptan archivos DICOM comprimidos con Deflate: {EXPORT_INSTEAD[0]}",
            en=f"Deflate-compressed DICOM files are not accepted: {EXPORT_INSTEAD[1]}",
        )
    try:
        gray = _dicom_to_gray(dataset)
    except ImageError:
        raise
    except Exception as error:
        raise _damaged_dicom(error) from None
    return gray, dicom_view(dataset)


def dicom_view(dataset: Dataset) -> DicomView:
    """The header's view codes; "" for any that is missing, multi-valued, free text or unreadable (a
    damaged element must not turn a decoded film into a 500)."""

    def code(keyword: str) -> str:
        try:
            value = dataset.get(keyword)
        except Exception:
            return ""
        text = value.strip().upper() if isinstance(value, str) else ""
        return text if _DICOM_CODE.fullmatch(text) else ""

    return DicomView(modality=code("Modality"), view_position=code("ViewPosition"))


def _damaged_dicom(error: Exception) -> UndecodableImage:
    """The refusal of a DICOM pydicom fails on: the exception's type only, its text may quote the file."""
    return UndecodableImage(
        es=f"El archivo DICOM está dañado ({type(error).__name__}).",
        en=f"The DICOM file is damaged ({type(error).__name__}).",
    )


def _quiet_pydicom() -> ModuleType:
    """pydicom, imported lazily (most uploads are PNG/JPEG), with its value checks off.

    pydicom warns about a field's invalid value by quoting it ("Invalid value for VR UI: '...'"), and a
    warning goes to stderr, the function's log: an upload must never reach it. Its checks decide nothing
    here; they are set process-wide and idempotently, unlike per-request warning filters, which threads
    (uvicorn's pool under `make run`) would undo for each other.
    """
    import pydicom
    import pydicom.config

    pydicom.config.settings.reading_validation_mode = pydicom.config.IGNORE
    quiet_pydicom()  # its import set its logger back to WARNING
    return pydicom


def _transfer_syntax(data: bytes) -> str:
    """The file meta's TransferSyntaxUID, read without touching the dataset after it."""
    from pydicom.filereader import _read_file_meta_info, read_preamble

    stream = io.BytesIO(data)
    read_preamble(stream, False)
    return str(_read_file_meta_info(stream).get("TransferSyntaxUID", ""))


def _dicom_to_gray(dataset: Dataset) -> np.ndarray:
    """The first frame as the contract's (H, W) uint8, after every size check: displayed values (the
    display pipeline of ``function.dicom_display``, or luma), min-max scaled over the image's own pixels,
    inverted where the file says its lowest value is white; the padding a grayscale file declares is left
    out of the scaling and shown black."""
    if "PixelData" not in dataset and "FloatPixelData" not in dataset:
        raise UndecodableImage(
            es="El archivo DICOM no contiene ninguna imagen (no tiene datos de píxeles).",
            en="The DICOM file holds no image (no pixel data).",
        )
    try:
        rows, columns = int(dataset.Rows), int(dataset.Columns)
        frames = int(getattr(dataset, "NumberOfFrames", 1) or 1)
    except (AttributeError, TypeError, ValueError):
        raise UndecodableImage(
            es="El archivo DICOM no indica el tamaño de su imagen.",
            en="The DICOM file does not say how large its image is.",
        ) from None
    refuse_raw_detector_data(dataset)
    check_dimensions(columns, rows)
    if rows * columns * frames > 4 * MAX_PIXELS:
        raise ImageTooLarge(
            es=f"El archivo DICOM contiene {number(frames, 'es')} fotogramas de "
            f"{image_size(columns, rows, 'es')}: demasiados píxeles.",
            en=f"The DICOM file holds {number(frames, 'en')} frames of "
            f"{image_size(columns, rows, 'en')}; too many pixels.",
        )
    _check_frame_bytes(dataset, rows, columns)
    _check_compressed_size(dataset, frames, rows, columns)
    try:
        dataset.pixel_array_options(index=0)  # decode the first frame only, not every frame of a series
        pixels = dataset.pixel_array
    except (NotImplementedError, RuntimeError):
        spanish, english = _syntax_name(dataset)
        raise UnsupportedImageType(
            es=f"No se admite la compresión de este archivo DICOM ({spanish}): {EXPORT_INSTEAD[0]}",
            en=f"This DICOM file's compression ({english}) is not supported: {EXPORT_INSTEAD[1]}",
        ) from None
    except (ValueError, TypeError, AttributeError, KeyError, IndexError, EOFError, OSError) as error:
        raise UndecodableImage(
            es=f"No se pueden leer los datos de píxeles del DICOM ({type(error).__name__}).",
            en=f"The DICOM pixel data cannot be read ({type(error).__name__}).",
        ) from None
    photometric = str(getattr(dataset, "PhotometricInterpretation", "MONOCHROME2")).upper()
    monochrome = photometric.startswith("MONOCHROME")
    palette = photometric == "PALETTE COLOR"  # indices into RGB lookup tables stored in the file
    if pixels.ndim != (2 if monochrome or palette else 3):
        named = f" ({photometric})" if _DICOM_CODE.fullmatch(photometric) else ""  # a code, never markup
        raise UndecodableImage(
            es=f"La disposición de los píxeles de este DICOM{named} es inesperada.",
            en=f"Unexpected pixel layout for this DICOM{named}.",
        )
    display = GrayDisplay.of(dataset) if monochrome else None

    def values_of(rows: slice) -> tuple[np.ndarray, np.ndarray | None]:
        """The displayed values of some rows and which of them are padding (None: the file declares none).
        LUTs are per pixel, so bands give the whole image's values; a palette's RGB copy of a whole
        50-megapixel frame alone would be 300 MB."""
        band = pixels[rows]
        if display is not None:
            stored = display.stored(band)
            return np.asarray(display.values(stored), dtype=np.float64), display.padded(stored)
        rgb = (_palette_rgb(band, dataset) if palette else band).astype(np.float64)
        return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114, None

    def extremes(values: np.ndarray, padded: np.ndarray | None) -> tuple[float, float] | None:
        """The lowest and highest displayed value of the image's own pixels in a band (padding is no part
        of the image: PS3.3 C.7.5.1.1.2), None for a band of padding only."""
        image = values if padded is None else values[~padded]
        return (float(image.min()), float(image.max())) if image.size else None

    # Two passes over row bands (range, then scaling): float64 copies of a 50-megapixel frame took 1.6 GB.
    bands = row_bands(pixels.shape[0])
    ranges = [band for band in (extremes(*values_of(rows)) for rows in bands) if band is not None]
    low = min((band[0] for band in ranges), default=0.0)  # an image of padding only comes out black
    high = max((band[1] for band in ranges), default=0.0)
    if not (np.isfinite(low) and np.isfinite(high)):
        raise UndecodableImage(
            es="Los valores de los píxeles del DICOM no son números finitos (revise su reescalado y su "
            "ventana).",
            en="The DICOM pixel values are not finite numbers (see its rescale and window).",
        )
    scale = 255.0 / (high - low) if high > low else 0.0
    gray = np.empty(pixels.shape[:2], dtype=np.uint8)
    for rows in bands:
        values, padded = values_of(rows)
        band = np.clip(np.round((values - low) * scale), 0, 255).astype(np.uint8)
        if display is not None and display.inverted:
            np.subtract(255, band, out=band)
        if padded is not None:
            band[padded] = 0  # shown black, whatever the presentation
        gray[rows] = band
    return gray


def _check_frame_bytes(dataset: Dataset, rows: int, columns: int) -> None:
    """A frame must decode to at most ``MAX_DICOM_FRAME_BYTES``: the pixel limit alone let a 16-bit RGB
    frame of 6500x6500 (254 MB decoded, from a 4 MB RLE file) raise the peak memory by 509 MiB."""
    try:
        samples = int(getattr(dataset, "SamplesPerPixel", 1) or 1)
        sample_bytes = (int(getattr(dataset, "BitsAllocated", 16) or 16) + 7) // 8
    except (TypeError, ValueError):
        raise UndecodableImage(
            es="El archivo DICOM no indica cómo se almacenan sus píxeles.",
            en="The DICOM file does not say how its pixels are stored.",
        ) from None
    decoded = rows * columns * samples * sample_bytes
    if decoded > MAX_DICOM_FRAME_BYTES:
        raise ImageTooLarge(
            es=f"La imagen DICOM es de {image_size(columns, rows, 'es')} con {samples} muestra(s) de "
            f"{8 * sample_bytes} bits: ocupa {number(decoded / 1e6, 'es')} MB descomprimida; el límite es "
            f"de {number(MAX_DICOM_FRAME_BYTES / 1e6, 'es')} MB.",
            en=f"The DICOM image is {image_size(columns, rows, 'en')} with {samples} sample(s) of "
            f"{8 * sample_bytes} bits: {number(decoded / 1e6, 'en')} MB decoded; the limit is "
            f"{number(MAX_DICOM_FRAME_BYTES / 1e6, 'en')} MB.",
        )


def _check_compressed_size(dataset: Dataset, frames: int, rows: int, columns: int) -> None:
    """A compressed frame must be the size the DICOM header declares, checked before it is decoded.

    JPEG and JPEG 2000 decoders allocate whatever the frame's own header claims (an 886-byte JPEG 2000
    frame claiming 12000x12000 took 900 MB) and pydicom compares the sizes only afterwards.
    """
    import pydicom.uid
    from pydicom.encaps import generate_frames

    try:
        syntax = pydicom.uid.UID(dataset.file_meta.get("TransferSyntaxUID", ""))
        if not syntax.is_encapsulated:
            return
        frame = next(generate_frames(dataset.PixelData, number_of_frames=frames))
        if syntax in pydicom.uid.JPEG2000TransferSyntaxes:
            size = _jpeg2000_size(frame)
            if size is None:
                raise UndecodableImage(
                    es="La imagen JPEG 2000 del DICOM no tiene una cabecera legible.",
                    en="The DICOM's JPEG 2000 image has no readable header.",
                )
        elif syntax in pydicom.uid.JPEGTransferSyntaxes and frame.startswith(b"\xff\xd8"):
            check_jpeg_scans(frame)
            with Image.open(io.BytesIO(frame)) as header:  # reads the header only
                size = header.size
        else:
            return  # RLE and the rest are decoded into a buffer of the declared size
    except ImageError:
        raise
    except PILLOW_BOMB:
        raise over_pixel_limit("La imagen comprimida del DICOM", "The DICOM's compressed image is") from None
    except Exception:  # a header no codec here reads: decoding will fail too, and say why
        return
    if size != (columns, rows):
        raise UndecodableImage(
            es=f"La imagen comprimida del DICOM mide {image_size(*size, 'es')}, pero su cabecera indica "
            f"{image_size(columns, rows, 'es')}.",
            en=f"The DICOM's compressed image is {image_size(*size, 'en')} but its header says "
            f"{image_size(columns, rows, 'en')}.",
        )


def _syntax_name(dataset: Dataset) -> tuple[str, str]:
    """The transfer syntax's registered name (Spanish, English: the same), never the file's own text: the
    error message goes back to the client and its code to the logs, and a file's UID field can hold
    anything (a name, markup)."""
    import pydicom.uid

    syntax = pydicom.uid.UID(str(dataset.file_meta.get("TransferSyntaxUID", "")))
    if syntax.name != str(syntax):
        return syntax.name, syntax.name
    return "una sintaxis de transferencia desconocida", "an unknown transfer syntax"


def _jpeg2000_size(frame: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG 2000 codestream's SIZ marker, or None if there is none to read.

    Read from the bytes: openjpeg's own header reader allocates for the size the header claims.
    """
    codestream = frame
    if frame[4:8] == b"jP  ":  # a JP2 file wrapped around the codestream: walk its boxes to 'jp2c'
        offset = 0
        while True:
            if offset + 8 > len(frame):
                return None
            length, kind = struct.unpack(">I4s", frame[offset : offset + 8])
            if kind == b"jp2c":
                codestream = frame[offset + 8 :]
                break
            if length < 8:  # 0 (to the end) or 1 (64-bit length): no codestream box before it
                return None
            offset += length
    if not codestream.startswith(b"\xff\x4f\xff\x51") or len(codestream) < 24:  # SOC, then SIZ
        return None
    width, height, x_offset, y_offset = struct.unpack(">IIII", codestream[8:24])
    return width - x_offset, height - y_offset


def _palette_rgb(indices: np.ndarray, dataset: Dataset) -> np.ndarray:
    """RGB of PALETTE COLOR indices; a table the file declares but does not hold is the uploader's 400."""
    from pydicom.pixels import apply_color_lut

    try:
        return np.asarray(apply_color_lut(indices, dataset))
    except (ValueError, TypeError, AttributeError, KeyError, IndexError) as error:
        raise UndecodableImage(
            es=f"No se puede leer la paleta del DICOM ({type(error).__name__}).",
            en=f"The DICOM palette cannot be read ({type(error).__name__}).",
        ) from None
