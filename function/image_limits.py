"""How much an upload may cost: the limits both decoders enforce, checked before any pixel is decoded.

One place for every number that bounds memory and time (image area and sides, a DICOM frame's decoded
size, a JPEG's scan count, the rows converted at a time), shared by ``function.raster_decode`` (Pillow)
and ``function.dicom_decode`` (whose compressed frames are JPEGs too). Importing it also sets Pillow's own
bomb guard to the same area, once for the process. Measured costs: docs/reliability.md.
"""

from __future__ import annotations

import warnings

from PIL import Image

from function.errors import Language, number
from function.image_errors import ImageTooLarge, ImageTooSmall, UndecodableImage

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
BAND_ROWS = 256
"""Rows converted at a time from wide pixels: bounds the float64 temporaries to a few MB per band."""

Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's own bomb guard agrees with ours
# Between MAX_PIXELS and twice it Pillow only warns (to stderr, with the upload's size) and goes on; as an
# error it is refused like any other bomb. Set once here, process-wide: a per-call catch_warnings() would
# change the filter list other threads are reading (the warnings module is not thread-safe).
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)


PILLOW_BOMB = (Image.DecompressionBombError, Image.DecompressionBombWarning)
"""What Pillow raises for an image over ``MAX_PIXELS`` (its warning is an error here, set above)."""


def over_pixel_limit(subject_es: str, subject_en: str) -> ImageTooLarge:
    """The refusal of an image Pillow found over the pixel limit; the subject says which image."""
    megapixels = MAX_PIXELS // 1_000_000
    return ImageTooLarge(
        es=f"{subject_es} supera los {megapixels} megapíxeles.",
        en=f"{subject_en} over {megapixels} megapixels.",
    )


def image_size(width: int, height: int, language: Language) -> str:
    """Width by height as each language writes it: "20 000 × 300" / "20,000x300"."""
    times = " × " if language == "es" else "x"
    return f"{number(width, language)}{times}{number(height, language)}"


def check_dimensions(width: int, height: int) -> None:
    """Refuse an image by the size its header claims: too large to decode safely, or too small to read."""
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise ImageTooLarge(
            es=f"La imagen es demasiado grande: {image_size(width, height, 'es')} píxeles; el límite es de "
            f"{MAX_PIXELS // 1_000_000} megapíxeles y {number(MAX_SIDE, 'es')} píxeles por lado.",
            en=f"The image is too large: {image_size(width, height, 'en')} pixels; the limit is "
            f"{MAX_PIXELS // 1_000_000} megapixels and {number(MAX_SIDE, 'en')} pixels a side.",
        )
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ImageTooSmall(
            es=f"La imagen es demasiado pequeña para analizarla: mide {image_size(width, height, 'es')} "
            f"píxeles y se necesitan al menos {MIN_SIDE} × {MIN_SIDE}.",
            en=f"The image is {image_size(width, height, 'en')} pixels; at least {MIN_SIDE}x{MIN_SIDE} is "
            "needed.",
        )


def check_jpeg_scans(data: bytes) -> None:
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


def row_bands(height: int) -> list[slice]:
    """Slices of at most ``BAND_ROWS`` rows covering ``height``: wide pixels are converted band by band,
    never as float64 copies of the whole image."""
    return [slice(start, min(start + BAND_ROWS, height)) for start in range(0, height, BAND_ROWS)]
