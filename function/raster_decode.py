"""PNG, JPEG, BMP and TIFF bytes -> 8-bit gray through Pillow, refusing a bomb before it is decoded.

Pillow opens many formats; only the ones the input contract names (``function.imaging``) get past the
header, and only after their claimed size (and a JPEG's scan count: ``function.image_limits``) passes. Then
EXIF orientation, alpha, palettes and wide (16/32-bit, float) pixels are turned into the contract's single
8-bit channel, band by band, so an image at the pixel limit costs about its own size.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import ExifTags, Image

from function.image_errors import (
    SEND_A_RADIOGRAPH,
    ImageError,
    UndecodableImage,
    UnsupportedImageType,
)
from function.image_limits import PILLOW_BOMB, check_dimensions, check_jpeg_scans, over_pixel_limit, row_bands

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


def decode_with_pillow(data: bytes) -> np.ndarray:
    """PNG/JPEG/BMP/TIFF bytes -> (H, W) uint8 gray, upright; any failure inside Pillow is the file's 4xx."""
    try:
        image = Image.open(io.BytesIO(data))
        if image.format not in _PILLOW_FORMATS:
            raise UnsupportedImageType(
                es=f"No se aceptan imágenes {image.format}. {SEND_A_RADIOGRAPH[0]}",
                en=f"{image.format} images are not accepted. {SEND_A_RADIOGRAPH[1]}",
            )
        check_dimensions(*image.size)  # header only: nothing decoded yet
        if image.format in ("JPEG", "MPO"):
            check_jpeg_scans(data)
        # Pillow opens the first page or frame and reads no other. Not even to count them: a TIFF's
        # n_frames walks every page, and 60000 chained pages (4 MB) took 18 s.
        image.load()
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
        gray = _pillow_to_uint8_gray(image)
        del image  # the decoded picture can be 200 MB; the 8-bit gray copy is all that is needed now
        return _upright(gray, orientation)
    except ImageError:
        raise
    except PILLOW_BOMB:
        raise over_pixel_limit("La imagen es demasiado grande:", "The image is too large:") from None
    except Exception as error:  # Pillow's plugins raise many kinds (fuzzing found TypeError from TIFF tags)
        raise UndecodableImage(
            es=f"No se pudo leer la imagen: el archivo está dañado o incompleto ({type(error).__name__}).",
            en=f"The image file is damaged or incomplete ({type(error).__name__}).",
        ) from None


def _upright(gray: np.ndarray, orientation: object) -> np.ndarray:
    """Apply an EXIF orientation to the 8-bit gray pixels (rotating 50 MB rather than a 200 MB RGB image)."""
    method = _ORIENTATION_TRANSPOSES.get(orientation) if isinstance(orientation, int) else None
    if method is None:
        return gray
    return np.asarray(Image.fromarray(gray).transpose(method), dtype=np.uint8).copy()


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
    """16/32-bit integer or float pixels -> uint8, linear (as the input contract in ``function.imaging``
    says): integers over the bit depth they use (``used_bits``), floats over their own range.

    Band by band: converting a 50-megapixel 16-bit image at once took 1.3 GB of float64 temporaries.
    """
    mode = image.mode
    width, height = image.size
    bands = row_bands(height)

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
        brightest = max(float(band_of(rows).max(initial=0)) for rows in bands)
        scale, offset = 255.0 / (2.0 ** used_bits(brightest) - 1), 0.0
    gray = np.empty((height, width), dtype=np.uint8)
    for rows in bands:
        values = np.nan_to_num(band_of(rows), nan=offset)  # a NaN pixel counts as the lowest value
        gray[rows] = np.clip(np.round((values - offset) * scale), 0, 255).astype(np.uint8)
    return gray


def used_bits(brightest: float) -> int:
    """The bit depth an integer image's values use: the fewest bits that hold its brightest pixel, rounded
    up to an even count of at least 8 (a detector's 10, 12, 14 or 16 bits).

    Export tools store a 12-bit film's values unscaled in a 16-bit PNG or TIFF (0..4095, with no ``sBIT``
    chunk to say so); over the 16-bit range that film was 0..16 of 255, black. A 16-bit copy of an 8-bit
    image (``v * 257``) whose brightest pixel is 64 or more still uses 16 bits, so it gives that image.
    """
    bits = max(int(brightest), 0).bit_length()
    return max(8, bits + bits % 2)
