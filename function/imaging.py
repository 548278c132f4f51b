"""Upload bytes -> model input: the one preprocessing path shared by training, the gate and the API.

Input contract (what every model in a bundle was trained on, and what it is fed when served):

1. ``decode_grayscale(data)`` turns the bytes of a PNG, JPEG, BMP, TIFF or DICOM file into a 2-D
   ``uint8`` array (H, W), values 0..255, 0 = black:
   - EXIF orientation is applied (a phone photo of a film is upright);
   - RGB, RGBA, LA, palette, CMYK and 1-bit images become ITU-R 601 luma (Pillow ``convert("L")``);
     alpha is ignored; an RGB image whose channels are equal gives exactly that channel;
   - 16-bit and 32-bit integer images are scaled linearly from their type's full range
     (``v * 255 / 65535`` for 16 bit), so a 16-bit copy of an 8-bit image gives the same 8-bit image;
   - DICOM: modality LUT (rescale slope/intercept), then the VOI LUT or window, MONOCHROME1 inverted,
     then min-max scaled to 0..255; RGB and PALETTE COLOR (through the file's lookup tables) become
     luma first; the first frame of a multi-frame file;
   - multi-page TIFF: the first page. Animated GIF, WebP, PDF, deflated DICOM and everything else
     are refused.
   ``decode_upload(data)`` is the same decode, keeping besides the picture a DICOM file's ``Modality`` and
   ``ViewPosition`` codes from the same parse (``DicomView``; the API refuses on them:
   function/dicom_header.py).
   The image's dimensions are read from its header and checked before any pixel is decoded
   (``MAX_PIXELS``, ``MAX_SIDE``), so a small file that claims a huge image is refused cheaply; so are
   a JPEG of more than ``MAX_JPEG_SCANS`` scans and a DICOM frame over ``MAX_DICOM_FRAME_BYTES``.
   Wide pixels (16/32-bit, float, DICOM) are converted ``BAND_ROWS`` rows at a time and the
   orientation is applied to the 8-bit result, so an image at the pixel limit costs about its own
   decoded size plus 50 MB, not several float64 copies of itself (docs/reliability.md).
2. ``InputSpec(size, preprocessing).model_input(gray)`` turns that array into what the bundle's models
   take, by the bundle's preprocessing version (``PREPROCESSING_VERSIONS``; every manifest records its own):
   - ``"1"`` (the paper's, every bundle before 2026-11-29): ``to_model_input(gray, size)`` resizes the
     array directly to ``size`` x ``size`` with ``cv2.INTER_AREA`` (aspect ratio not kept, as in the paper
     and the Kaggle pipeline), scales to ``float32`` in [0, 1] (``v / 255``) and adds the channel axis:
     shape (size, size, 1);
   - ``"2"``: first cuts away the dark margin of every side (the outer lines with no pixel brighter than
     ``function.framing.DARK_LEVEL`` at the input size: a viewer's black bars and a film's own black
     edge alike), then as ``"1"``. A film and a letterboxed screenshot of it then give nearly the same
     input; cutting only bars would leave the film's own dark edge in one and not in the other.
   A bundle is served with the version it was trained with, never another.

Every refusal is an ``ImageError`` subclass carrying an HTTP status, a stable error code and its message in
Spanish and English (``function.errors``), so the API maps it to a 4xx answer without knowing the details.
Nothing here writes to disk or logs pixel data.
"""

from __future__ import annotations

import io
import re
import struct
import warnings
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

import cv2
import numpy as np
from PIL import ExifTags, Image

from function.errors import ClientError, Language, number
from function.framing import dark_bars, inside_margins

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

PREPROCESSING_VERSIONS = {
    "1": "decode, resize to the input size",
    "2": "decode, cut the dark margins (black bars) of every side, resize to the input size",
    "3": "decode, cut the dark margins of every side only when the image is letterboxed (black bars of at "
    "least 10% on two opposite sides, as the black-bars note finds them), resize to the input size",
}
"""What a model sees, by version; a new version whenever decode or resize changes it. Each bundle's manifest
names the one its models were trained with, and the service feeds them exactly that."""
DEFAULT_PREPROCESSING = "1"

Region = tuple[float, float, float, float]
"""(left, top, right, bottom) of an image, as fractions of its width and height."""
WHOLE: Region = (0.0, 0.0, 1.0, 1.0)

MAX_PIXELS = 50_000_000
"""Largest accepted image area (a 7000x7000 film fits; a 30000x30000 header claim does not)."""
MAX_SIDE = 16_384
MIN_SIDE = 8
"""Smaller images carry no radiograph worth reading (and break SSIM's 7x7 window)."""
MAX_DICOM_FRAME_BYTES = 3 * MAX_PIXELS
"""Largest decoded DICOM frame: a 16-bit gray film or an 8-bit RGB image at the pixel limit fits (100 and
150 MB); a 16-bit RGB one up to 25 megapixels."""
MAX_JPEG_SCANS = 100
"""Most scans (start-of-scan markers) a JPEG may hold. libjpeg walks every block of the image on every scan
of a progressive JPEG, so a 1.7 MB file of 20000 empty scans over 7000x7000 pixels took 74 s to decode; real
files have 1 (baseline) to about 10 (progressive), a few more with an embedded thumbnail. TurboJPEG 3
has such a limit (TJPARAM_SCANLIMIT, off by default); Pillow does not pass one on, so the markers are
counted.
Times: ``bench.decode_cost`` (docs/reliability.md)."""

DEFLATED_DICOM = "1.2.840.10008.1.2.1.99"
"""Deflated Explicit VR Little Endian: pydicom inflates the whole dataset before anything can be checked,
so a 4.5 MB upload could claim 4.6 GB of memory (a zip bomb). Refused from the file meta instead."""
BAND_ROWS = 256
"""Rows converted at a time from wide pixels: bounds the float64 temporaries to a few MB per band."""

Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's own bomb guard agrees with ours
# Between MAX_PIXELS and twice it Pillow only warns (to stderr, with the upload's size) and goes on; as an
# error it is refused like any other bomb. Set once here, process-wide: a per-call catch_warnings() would
# change the filter list other threads are reading (the warnings module is not thread-safe).
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)

_ORIENTATION_TRANSPOSES = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
"""EXIF Orientation -> the transpose that shows the picture upright (as ``ImageOps.exif_transpose``)."""

_PILLOW_FORMATS = {"PNG", "JPEG", "MPO", "BMP", "TIFF", "DIB"}
_DICOM_CODE = re.compile(r"[A-Z0-9 _-]{1,16}")
"""A DICOM code (a CS value's characters and length, and '-' that machines write in ViewPosition): only
such a header value is ever kept (``dicom_view``) or named in a message."""
SEND_A_RADIOGRAPH = (
    "Use una imagen PNG, JPEG, BMP, TIFF o DICOM de una radiografía de tórax.",
    "Send a PNG, JPEG, BMP, TIFF or DICOM chest radiograph.",
)
"""(Spanish, English): what to send instead of a file refused for its type; the Spanish is the page's."""
EXPORT_INSTEAD = (
    "exporte la imagen sin comprimir, o como DICOM RLE o JPEG 2000, PNG o JPEG.",
    "export the image uncompressed, or as RLE or JPEG 2000 DICOM, PNG or JPEG.",
)
"""(Spanish, English): what to do with a DICOM whose compression is not read."""


class ImageError(ClientError):
    """An upload that cannot become model input; ``status`` and ``code`` go straight into the API answer."""

    status = 400
    code = "invalid_image"


class UnsupportedImageType(ImageError):
    status = 415
    code = "unsupported_media_type"


class UndecodableImage(ImageError):
    status = 400
    code = "undecodable_image"


class ImageTooLarge(ImageError):
    status = 413
    code = "image_too_large"


class ImageTooSmall(ImageError):
    status = 400
    code = "image_too_small"


def sniff_format(data: bytes) -> str | None:
    """Name the container format from magic bytes, or None: we decide by content, never by file name."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if len(data) >= 132 and data[128:132] == b"DICM":
        return "DICOM"  # before BMP/TIFF: a DICOM preamble may start with TIFF magic (dual-format files)
    if data.startswith(b"BM"):
        return "BMP"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data.startswith(b"%PDF"):
        return "PDF"
    if data.startswith(b"PK\x03\x04"):
        return "ZIP"
    return None


@dataclass(frozen=True)
class DicomView:
    """What a DICOM file's header says of how it was made, as codes: ``Modality`` (0008,0060) and
    ``ViewPosition`` (0018,5101), upper-case; "" when missing, several values, or not a short code (free
    text is never kept, so nothing of it can be echoed). function/dicom_header.py judges them."""

    modality: str = ""
    view_position: str = ""


@dataclass(frozen=True)
class DecodedUpload:
    """An upload decoded once: its picture and, for a DICOM file, what its header says (None otherwise)."""

    gray: np.ndarray
    dicom_view: DicomView | None = None


def decode_grayscale(data: bytes) -> np.ndarray:
    """Decode PNG/JPEG/BMP/TIFF/DICOM bytes to a (H, W) uint8 grayscale array (see the module contract)."""
    return decode_upload(data).gray


def decode_upload(data: bytes) -> DecodedUpload:
    """``decode_grayscale``, keeping a DICOM file's view codes from the same parse."""
    if not data:
        raise UndecodableImage(es="La imagen está vacía.", en="The image is empty.")
    upload = _decode_by_kind(data)
    _check_dimensions(upload.gray.shape[1], upload.gray.shape[0])
    return upload


def _decode_by_kind(data: bytes) -> DecodedUpload:
    kind = sniff_format(data)
    if kind == "DICOM":
        return _decode_dicom(data)
    if kind in ("PNG", "JPEG", "BMP", "TIFF"):
        return DecodedUpload(_decode_with_pillow(data))
    if kind is None:
        raise UnsupportedImageType(
            es=f"El archivo no es una imagen que el servicio pueda leer. {SEND_A_RADIOGRAPH[0]}",
            en=f"The file is not an image we can read. {SEND_A_RADIOGRAPH[1]}",
        )
    raise UnsupportedImageType(
        es=f"No se aceptan archivos {kind}. {SEND_A_RADIOGRAPH[0]}",
        en=f"{kind} files are not accepted. {SEND_A_RADIOGRAPH[1]}",
    )


def to_model_input(gray: np.ndarray, size: int) -> np.ndarray:
    """Resize (H, W) uint8 to (size, size) with INTER_AREA, scale to float32 [0, 1], add the channel axis."""
    if gray.dtype != np.uint8 or gray.ndim != 2:
        raise TypeError(f"expected a 2-D uint8 array, got {gray.dtype} with shape {gray.shape}")
    resized = cv2.resize(gray, (size, size), interpolation=cv2.INTER_AREA)
    return (resized.astype(np.float32) / np.float32(255.0))[..., np.newaxis]


def average_input(data: bytes, size: int) -> np.ndarray:
    """A bundle's ``average.png`` as the (size, size, 1) array the consistency check compares uploads with.

    The file is already a model input (the mean of the training inputs, written at the input size), so it is
    read by the plain resize, which leaves it as it is, under every preprocessing version; version 2 must
    not cut the average's own dark edges."""
    return to_model_input(decode_grayscale(data), size)


@dataclass(frozen=True)
class InputSpec:
    """What a bundle's models take: ``size`` x ``size`` inputs made by one preprocessing version.

    Training, the consistency check and the API all build model inputs through this, so a model is fed
    what it was trained on: the version travels with the size, from the training options to the manifest
    to the served bundle."""

    size: int
    preprocessing: str = DEFAULT_PREPROCESSING

    def __post_init__(self) -> None:
        if self.preprocessing not in PREPROCESSING_VERSIONS:
            known = ", ".join(PREPROCESSING_VERSIONS)
            raise ValueError(f"preprocessing version {self.preprocessing!r} is not one of {known}")

    def picture(self, gray: np.ndarray) -> tuple[slice, slice]:
        """The rows and columns of (H, W) ``gray`` that the model sees: all of them under version 1; under
        version 2 those inside the dark margins of every side; under version 3 those too when the image
        is letterboxed, else all of them.

        Versions 2 and 3 measure the margins on the plain ``size`` x ``size`` resize, as the black-bars
        note does (a whole dark input line is robust to JPEG noise in a bar), and cut them from the
        full-resolution pixels (``function.framing.inside_margins``), so the picture is resized once, as
        if it had been uploaded without them. Version 3 leaves every image without a screenshot's bars
        exactly as version 1 reads it (all but 19 of the 8057 stored films at 128 px,
        ``bench.black_bars``), so a film's own dark edge stays what the model was trained on."""
        if self.preprocessing in ("2", "3"):
            bars = dark_bars(to_model_input(gray, self.size))
            if self.preprocessing == "2" or bars.letterboxed:
                return inside_margins(gray, self.size, bars)
        return slice(0, gray.shape[0]), slice(0, gray.shape[1])

    def read(self, gray: np.ndarray) -> tuple[np.ndarray, Region]:
        """(H, W) uint8 -> the (size, size, 1) float32 model input in [0, 1], and the part of the image it
        shows: (left, top, right, bottom) as fractions of the width and height, ``WHOLE`` under version 1."""
        rows, columns = self.picture(gray)
        height, width = gray.shape
        region = (columns.start / width, rows.start / height, columns.stop / width, rows.stop / height)
        return to_model_input(gray[rows, columns], self.size), region

    def model_input(self, gray: np.ndarray) -> np.ndarray:
        """(H, W) uint8 -> (size, size, 1) float32 in [0, 1], by this spec's version."""
        return self.read(gray)[0]

    def from_bytes(self, data: bytes) -> np.ndarray:
        """Image file bytes -> model input: ``decode_grayscale`` then ``model_input``."""
        return self.model_input(decode_grayscale(data))


def _size(width: int, height: int, language: Language) -> str:
    """Width by height as each language writes it: "20 000 × 300" / "20,000x300"."""
    times = " × " if language == "es" else "x"
    return f"{number(width, language)}{times}{number(height, language)}"


def _check_dimensions(width: int, height: int) -> None:
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise ImageTooLarge(
            es=f"La imagen es demasiado grande: {_size(width, height, 'es')} píxeles; el límite es de "
            f"{MAX_PIXELS // 1_000_000} megapíxeles y {number(MAX_SIDE, 'es')} píxeles por lado.",
            en=f"The image is too large: {_size(width, height, 'en')} pixels; the limit is "
            f"{MAX_PIXELS // 1_000_000} megapixels and {number(MAX_SIDE, 'en')} pixels a side.",
        )
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ImageTooSmall(
            es=f"La imagen es demasiado pequeña para analizarla: mide {_size(width, height, 'es')} "
            f"píxeles y se necesitan al menos {MIN_SIDE} × {MIN_SIDE}.",
            en=f"The image is {_size(width, height, 'en')} pixels; at least {MIN_SIDE}x{MIN_SIDE} is needed.",
        )


def _decode_with_pillow(data: bytes) -> np.ndarray:
    try:
        image = Image.open(io.BytesIO(data))
        if image.format not in _PILLOW_FORMATS:
            raise UnsupportedImageType(
                es=f"No se aceptan imágenes {image.format}. {SEND_A_RADIOGRAPH[0]}",
                en=f"{image.format} images are not accepted. {SEND_A_RADIOGRAPH[1]}",
            )
        _check_dimensions(*image.size)  # header only: nothing decoded yet
        if image.format in ("JPEG", "MPO"):
            _check_jpeg_scans(data)
        # Pillow opens the first page or frame and reads no other. Not even to count them: a TIFF's
        # n_frames walks every page, and 60000 chained pages (4 MB) took 18 s.
        image.load()
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
        gray = _pillow_to_uint8_gray(image)
        del image  # the decoded picture can be 200 MB; the 8-bit gray copy is all that is needed now
        return _upright(gray, orientation)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge(
            es=f"La imagen es demasiado grande: supera los {MAX_PIXELS // 1_000_000} megapíxeles.",
            en=f"The image is too large: over {MAX_PIXELS // 1_000_000} megapixels.",
        ) from None
    except Exception as error:  # Pillow's plugins raise many kinds (fuzzing found TypeError from TIFF tags)
        raise UndecodableImage(
            es=f"No se pudo leer la imagen: el archivo está dañado o incompleto ({type(error).__name__}).",
            en=f"The image file is damaged or incomplete ({type(error).__name__}).",
        ) from None


def _check_jpeg_scans(data: bytes) -> None:
    """Refuse a JPEG with more than ``MAX_JPEG_SCANS`` scans before libjpeg decodes any.

    Counts the start-of-scan marker's two bytes: they cannot occur inside compressed data (a 0xFF there
    is always followed by 0x00), so the count is every scan plus, rarely, the bytes in a metadata block;
    an upper bound, which is what a limit needs."""
    scans = data.count(b"\xff\xda")
    if scans > MAX_JPEG_SCANS:
        raise UndecodableImage(
            es=f"El JPEG contiene {number(scans, 'es')} barridos (pasadas sobre la imagen); las imágenes "
            f"reales tienen unos 10, y las de más de {MAX_JPEG_SCANS} se rechazan como dañadas o "
            "malintencionadas.",
            en=f"The JPEG holds {number(scans, 'en')} scans (passes over the image); real images have about "
            f"10, and over {MAX_JPEG_SCANS} are refused as damaged or hostile.",
        )


def _upright(gray: np.ndarray, orientation: object) -> np.ndarray:
    """Apply an EXIF orientation to the 8-bit gray pixels (rotating 50 MB rather than a 200 MB RGB image)."""
    method = _ORIENTATION_TRANSPOSES.get(orientation) if isinstance(orientation, int) else None
    if method is None:
        return gray
    return np.asarray(Image.fromarray(gray).transpose(method), dtype=np.uint8).copy()


def _row_bands(height: int) -> list[slice]:
    return [slice(start, min(start + BAND_ROWS, height)) for start in range(0, height, BAND_ROWS)]


def _pillow_to_uint8_gray(image: Image.Image) -> np.ndarray:
    mode = image.mode
    if mode == "L":
        return np.asarray(image, dtype=np.uint8).copy()
    if mode.startswith("I;16") or mode in ("I", "F"):
        return _scale_wide_to_uint8(image)
    if mode in ("LA", "La"):
        image = image.getchannel("L")
        return np.asarray(image, dtype=np.uint8).copy()
    if mode in ("RGBa", "PA"):
        image = image.convert("RGBA").convert("RGB")  # alpha dropped, not composited
    # RGBA and P go straight to L: the same luma as through RGB (alpha ignored), without two RGB copies.
    return np.asarray(image.convert("L"), dtype=np.uint8).copy()


def _scale_wide_to_uint8(image: Image.Image) -> np.ndarray:
    """16/32-bit integer or float pixels -> uint8, linear over the type's full range (documented above).

    Band by band: converting a 50-megapixel 16-bit image at once took 1.3 GB of float64 temporaries.
    """
    mode = image.mode
    width, height = image.size
    bands = _row_bands(height)

    def band_of(rows: slice) -> np.ndarray:
        return np.asarray(image.crop((0, rows.start, width, rows.stop))).astype(np.float64)

    if mode == "F":
        extremes = [(np.nanmin(values), np.nanmax(values)) for values in map(band_of, bands)]
        low, high = float(np.nanmin([e[0] for e in extremes])), float(np.nanmax([e[1] for e in extremes]))
        if not (np.isfinite(low) and np.isfinite(high)):
            raise UndecodableImage(
                es="Los valores de los píxeles de la imagen no son números finitos.",
                en="The image's pixel values are not finite numbers.",
            )
        scale, offset = (255.0 / (high - low) if high > low else 0.0), low
    else:
        wide = mode.startswith("I;16") or max(float(band_of(rows).max(initial=0)) for rows in bands) <= 65535
        scale, offset = 255.0 / (65535.0 if wide else 2.0**32 - 1), 0.0
    gray = np.empty((height, width), dtype=np.uint8)
    for rows in bands:
        values = np.nan_to_num(band_of(rows), nan=offset)  # a NaN pixel counts as the lowest value
        gray[rows] = np.clip(np.round((values - offset) * scale), 0, 255).astype(np.uint8)
    return gray


def _transfer_syntax(data: bytes) -> str:
    """The file meta's TransferSyntaxUID, read without touching the dataset after it."""
    from pydicom.filereader import _read_file_meta_info, read_preamble

    stream = io.BytesIO(data)
    read_preamble(stream, False)
    return str(_read_file_meta_info(stream).get("TransferSyntaxUID", ""))


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
            es=f"La imagen DICOM es de {_size(columns, rows, 'es')} con {samples} muestra(s) de "
            f"{8 * sample_bytes} bits: ocupa {number(decoded / 1e6, 'es')} MB descomprimida; el límite es "
            f"de {number(MAX_DICOM_FRAME_BYTES / 1e6, 'es')} MB.",
            en=f"The DICOM image is {_size(columns, rows, 'en')} with {samples} sample(s) of "
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
            _check_jpeg_scans(frame)
            with Image.open(io.BytesIO(frame)) as header:  # reads the header only
                size = header.size
        else:
            return  # RLE and the rest are decoded into a buffer of the declared size
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge(
            es=f"La imagen comprimida del DICOM supera los {MAX_PIXELS // 1_000_000} megapíxeles.",
            en=f"The DICOM's compressed image is over {MAX_PIXELS // 1_000_000} megapixels.",
        ) from None
    except Exception:  # a header no codec here reads: decoding will fail too, and say why
        return
    if size != (columns, rows):
        raise UndecodableImage(
            es=f"La imagen comprimida del DICOM mide {_size(*size, 'es')}, pero su cabecera indica "
            f"{_size(columns, rows, 'es')}.",
            en=f"The DICOM's compressed image is {_size(*size, 'en')} but its header says "
            f"{_size(columns, rows, 'en')}.",
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
    return pydicom


def _decode_dicom(data: bytes) -> DecodedUpload:
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
    return DecodedUpload(gray, dicom_view(dataset))


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


def _dicom_to_gray(dataset: Dataset) -> np.ndarray:
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

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
    _check_dimensions(columns, rows)
    if rows * columns * frames > 4 * MAX_PIXELS:
        raise ImageTooLarge(
            es=f"El archivo DICOM contiene {number(frames, 'es')} fotogramas de "
            f"{_size(columns, rows, 'es')}: demasiados píxeles.",
            en=f"The DICOM file holds {number(frames, 'en')} frames of {_size(columns, rows, 'en')}; too "
            "many pixels.",
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

    def values_of(rows: slice) -> np.ndarray:
        """The displayed values of some rows (LUTs are per pixel, so bands give the whole image's values;
        a palette's RGB copy of a whole 50-megapixel frame alone would be 300 MB)."""
        band = pixels[rows]
        if monochrome:
            band = apply_voi_lut(apply_modality_lut(band, dataset), dataset, index=0)
        else:
            rgb = (_palette_rgb(band, dataset) if palette else band).astype(np.float64)
            band = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
        return np.asarray(band, dtype=np.float64)

    # Two passes over row bands (range, then scaling): float64 copies of a 50-megapixel frame took 1.6 GB.
    bands = _row_bands(pixels.shape[0])
    extremes = [(float(values.min()), float(values.max())) for values in map(values_of, bands)]
    low, high = min(e[0] for e in extremes), max(e[1] for e in extremes)
    if not (np.isfinite(low) and np.isfinite(high)):
        raise UndecodableImage(
            es="Los valores de los píxeles del DICOM no son números finitos (revise su reescalado y su "
            "ventana).",
            en="The DICOM pixel values are not finite numbers (see its rescale and window).",
        )
    scale = 255.0 / (high - low) if high > low else 0.0
    gray = np.empty(pixels.shape[:2], dtype=np.uint8)
    for rows in bands:
        gray[rows] = np.clip(np.round((values_of(rows) - low) * scale), 0, 255).astype(np.uint8)
    if photometric == "MONOCHROME1":
        gray = 255 - gray
    return gray
