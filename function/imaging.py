"""Upload bytes -> model input: the one preprocessing path shared by training, the gate and the API.

Input contract (what every model in a bundle was trained on, and what it is fed when served):

1. ``decode_grayscale(data)`` turns the bytes of a PNG, JPEG, BMP, TIFF or DICOM file into a 2-D
   ``uint8`` array (H, W), values 0..255, 0 = black:
   - EXIF orientation is applied (a phone photo of a film is upright);
   - RGB, RGBA, LA, palette, CMYK and 1-bit images become ITU-R 601 luma (Pillow ``convert("L")``);
     alpha is ignored; an RGB image whose channels are equal gives exactly that channel;
   - 16-bit and 32-bit integer images are scaled linearly from the bit depth their values use (the
     fewest bits holding the brightest pixel, rounded up to an even count of at least 8:
     ``function.raster_decode.used_bits``): ``v * 255 / 4095`` for a 12-bit film stored in a 16-bit PNG,
     ``v * 255 / 65535`` for one using 16 bits, so a 16-bit copy (``v * 257``) of an 8-bit image whose
     brightest pixel is at least 64 gives the same 8-bit image; float images over their own range;
   - DICOM (``function.dicom_display``): a grayscale file's stored values read Bits Stored wide (bits
     above it dropped, negative from its top one when Pixel Representation is 1), whatever the codec left
     in the cells; modality LUT (rescale slope/intercept), then the first VOI LUT or else the first
     window (LINEAR, LINEAR_EXACT, SIGMOID), then min-max scaled to 0..255 and inverted for MONOCHROME1
     or a Presentation LUT Shape of INVERSE; RGB and PALETTE COLOR (through the file's lookup tables)
     become luma first; the first frame of a multi-frame file. A grayscale file's
     declared padding (stored values equal to Pixel Padding Value, or from it to Pixel Padding Range
     Limit: pixels outside the exposed area, PS3.3 C.7.5.1.1.2; both read as the pixels are, Bits Stored
     wide in the Pixel Representation's sense, whether written US or SS) is left out of the min and max
     and shown black (0) after any inversion; padding the header does not declare is scaled as image (no
     guessing). A "FOR PROCESSING" image (raw detector data, no radiologist's view) is refused;
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
     input; cutting only bars would leave the film's own dark edge in one and not in the other;
   - ``"3"``: cuts those margins only from a letterboxed image (dark bars of at least 10% on two opposite
     sides, as the black-bars note finds them), then as ``"1"``; every other image is read exactly as
     under ``"1"``, so a film's own dark edge stays what the model was trained on.
   A bundle is served with the version it was trained with, never another.

Step 1 is dispatched here by content (``sniff_format``) to ``function.raster_decode`` (Pillow) or
``function.dicom_decode`` (pydicom, imported only when a DICOM file arrives); the limits are in
``function.image_limits``. Step 2 is this module's own.

Every refusal is an ``ImageError`` subclass (``function.image_errors``) carrying an HTTP status, a stable
error code and its message in Spanish and English (``function.errors``), so the API maps it to a 4xx answer
without knowing the details. Nothing here writes to disk or logs pixel data.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from function.dicom_decode import DicomView, decode_dicom
from function.framing import dark_bars, inside_margins
from function.image_errors import SEND_A_RADIOGRAPH, UndecodableImage, UnsupportedImageType
from function.image_errors import ImageError as ImageError  # public: callers of decode_upload catch it
from function.image_limits import check_dimensions
from function.raster_decode import decode_with_pillow

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
    check_dimensions(upload.gray.shape[1], upload.gray.shape[0])
    return upload


def _decode_by_kind(data: bytes) -> DecodedUpload:
    """Hand the bytes to the decoder their content names (never their file name); refuse the rest by name."""
    kind = sniff_format(data)
    if kind == "DICOM":
        gray, view = decode_dicom(data)
        return DecodedUpload(gray, view)
    if kind in ("PNG", "JPEG", "BMP", "TIFF"):
        return DecodedUpload(decode_with_pillow(data))
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
