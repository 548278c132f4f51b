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
     then min-max scaled to 0..255; the first frame of a multi-frame file;
   - multi-page TIFF: the first page. Animated GIF, WebP, PDF and everything else are refused.
   The image's dimensions are read from its header and checked before any pixel is decoded
   (``MAX_PIXELS``, ``MAX_SIDE``), so a small file that claims a huge image is refused cheaply.
2. ``to_model_input(gray, size)`` resizes that array directly to ``size`` x ``size`` with
   ``cv2.INTER_AREA`` (aspect ratio not kept, as in the paper and the Kaggle pipeline), scales to
   ``float32`` in [0, 1] (``v / 255``) and adds the channel axis: shape (size, size, 1).

Every refusal is an ``ImageError`` subclass carrying an HTTP status and a stable error code, so the API
maps it to a 4xx answer without knowing the details. Nothing here writes to disk or logs pixel data.
"""

from __future__ import annotations

import io
import warnings
from typing import ClassVar

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

PREPROCESSING_VERSION = "1"
"""Bumped whenever decode or resize changes what a model sees; recorded in every bundle's manifest."""

MAX_PIXELS = 50_000_000
"""Largest accepted image area (a 7000x7000 film fits; a 30000x30000 header claim does not)."""
MAX_SIDE = 16_384
MIN_SIDE = 8
"""Smaller images carry no radiograph worth reading (and break SSIM's 7x7 window)."""

Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's own bomb guard agrees with ours

_PILLOW_FORMATS = {"PNG", "JPEG", "MPO", "BMP", "TIFF", "DIB"}


class ImageError(ValueError):
    """An upload that cannot become model input; ``status`` and ``code`` go straight into the API answer."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "invalid_image"


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


def decode_grayscale(data: bytes) -> np.ndarray:
    """Decode PNG/JPEG/BMP/TIFF/DICOM bytes to a (H, W) uint8 grayscale array (see the module contract)."""
    if not data:
        raise UndecodableImage("The image is empty.")
    kind = sniff_format(data)
    if kind == "DICOM":
        gray = _decode_dicom(data)
    elif kind in ("PNG", "JPEG", "BMP", "TIFF"):
        gray = _decode_with_pillow(data)
    elif kind is None:
        raise UnsupportedImageType(
            "The file is not an image we can read. Send a PNG, JPEG, BMP, TIFF or DICOM chest radiograph."
        )
    else:
        raise UnsupportedImageType(
            f"{kind} files are not accepted. Send a PNG, JPEG, BMP, TIFF or DICOM chest radiograph."
        )
    _check_dimensions(gray.shape[1], gray.shape[0])
    return gray


def to_model_input(gray: np.ndarray, size: int) -> np.ndarray:
    """Resize (H, W) uint8 to (size, size) with INTER_AREA, scale to float32 [0, 1], add the channel axis."""
    if gray.dtype != np.uint8 or gray.ndim != 2:
        raise TypeError(f"expected a 2-D uint8 array, got {gray.dtype} with shape {gray.shape}")
    resized = cv2.resize(gray, (size, size), interpolation=cv2.INTER_AREA)
    return (resized.astype(np.float32) / np.float32(255.0))[..., np.newaxis]


def preprocess(data: bytes, size: int) -> np.ndarray:
    """Image file bytes -> (size, size, 1) float32 in [0, 1]; decode_grayscale then to_model_input."""
    return to_model_input(decode_grayscale(data), size)


def _check_dimensions(width: int, height: int) -> None:
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise ImageTooLarge(
            f"The image is too large: {width}x{height} pixels; the limit is "
            f"{MAX_PIXELS // 1_000_000} megapixels and {MAX_SIDE} pixels a side."
        )
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ImageTooSmall(
            f"The image is {width}x{height} pixels; at least {MIN_SIDE}x{MIN_SIDE} is needed."
        )


def _decode_with_pillow(data: bytes) -> np.ndarray:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in _PILLOW_FORMATS:
                raise UnsupportedImageType(f"{image.format} images are not accepted.")
            _check_dimensions(*image.size)  # header only: nothing decoded yet
            if getattr(image, "n_frames", 1) > 1:
                image.seek(0)
            image.load()
            image = ImageOps.exif_transpose(image)
            return _pillow_to_uint8_gray(image)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge(f"The image is too large: over {MAX_PIXELS // 1_000_000} megapixels.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError) as error:
        raise UndecodableImage(f"The image file is damaged or incomplete ({type(error).__name__}).") from None


def _pillow_to_uint8_gray(image: Image.Image) -> np.ndarray:
    mode = image.mode
    if mode == "L":
        return np.asarray(image, dtype=np.uint8).copy()
    if mode.startswith("I;16") or mode in ("I", "F"):
        return _scale_wide_to_uint8(np.asarray(image), mode)
    if mode in ("LA", "La"):
        image = image.getchannel("L")
        return np.asarray(image, dtype=np.uint8).copy()
    if mode in ("RGBA", "RGBa", "PA", "P"):
        image = image.convert("RGBA").convert("RGB")  # alpha dropped, not composited
    return np.asarray(image.convert("L"), dtype=np.uint8).copy()


def _scale_wide_to_uint8(pixels: np.ndarray, mode: str) -> np.ndarray:
    """16/32-bit integer or float pixels -> uint8, linear over the type's full range (documented above)."""
    values = pixels.astype(np.float64)
    if mode == "F":
        low, high = float(np.nanmin(values)), float(np.nanmax(values))
        scale = 255.0 / (high - low) if high > low else 0.0
        return np.clip(np.round((values - low) * scale), 0, 255).astype(np.uint8)
    full_range = 65535.0 if mode.startswith("I;16") or values.max(initial=0) <= 65535 else 2.0**32 - 1
    return np.clip(np.round(values * (255.0 / full_range)), 0, 255).astype(np.uint8)


def _decode_dicom(data: bytes) -> np.ndarray:
    import pydicom  # lazy: most uploads are PNG/JPEG
    from pydicom.errors import InvalidDicomError
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

    try:
        dataset = pydicom.dcmread(io.BytesIO(data), force=False)
    except (InvalidDicomError, OSError, ValueError, EOFError, KeyError, TypeError, AttributeError) as error:
        raise UndecodableImage(f"The DICOM file is damaged ({type(error).__name__}).") from None
    if "PixelData" not in dataset and "FloatPixelData" not in dataset:
        raise UndecodableImage("The DICOM file holds no image (no pixel data).")
    try:
        rows, columns = int(dataset.Rows), int(dataset.Columns)
        frames = int(getattr(dataset, "NumberOfFrames", 1) or 1)
    except (AttributeError, TypeError, ValueError):
        raise UndecodableImage("The DICOM file does not say how large its image is.") from None
    _check_dimensions(columns, rows)
    if rows * columns * frames > 4 * MAX_PIXELS:
        raise ImageTooLarge(f"The DICOM file holds {frames} frames of {columns}x{rows}; too many pixels.")
    try:
        pixels = dataset.pixel_array
    except (NotImplementedError, RuntimeError) as error:
        raise UnsupportedImageType(
            "This DICOM file's compression is not supported "
            f"(transfer syntax {dataset.file_meta.get('TransferSyntaxUID', 'unknown')}): {error}"
        ) from None
    except (ValueError, TypeError, AttributeError, KeyError, IndexError, EOFError, OSError) as error:
        raise UndecodableImage(f"The DICOM pixel data cannot be read ({type(error).__name__}).") from None
    photometric = str(getattr(dataset, "PhotometricInterpretation", "MONOCHROME2")).upper()
    if frames > 1:
        pixels = pixels[0]
    if photometric.startswith("MONOCHROME"):
        values = apply_modality_lut(pixels, dataset)
        values = apply_voi_lut(values, dataset, index=0)
    else:
        if pixels.ndim != 3:
            raise UndecodableImage(f"Unexpected pixel layout for {photometric} DICOM.")
        rgb = pixels.astype(np.float64)
        values = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise UndecodableImage(f"Unexpected DICOM pixel array shape {values.shape}.")
    low, high = float(values.min()), float(values.max())
    scaled = (values - low) * (255.0 / (high - low)) if high > low else np.zeros_like(values)
    gray = np.clip(np.round(scaled), 0, 255).astype(np.uint8)
    if photometric == "MONOCHROME1":
        gray = 255 - gray
    return gray
