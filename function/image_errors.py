"""The refusals of an upload that cannot become model input, one class per kind of answer.

Both decoders (``function.raster_decode``, ``function.dicom_decode``), the limits they share and the
public face (``function.imaging``) raise them, and callers catch ``ImageError`` without importing any
decoder's details. Each carries an HTTP status, a stable error code and its message in Spanish and English
(``function.errors``), so the API maps it to a 4xx answer in one place.
"""

from __future__ import annotations

from function.errors import ClientError

SEND_A_RADIOGRAPH = (
    "Use una imagen PNG, JPEG, BMP, TIFF o DICOM de una radiografía de tórax.",
    "Send a PNG, JPEG, BMP, TIFF or DICOM chest radiograph.",
)
"""(Spanish, English): what to send instead of a file refused for its type; the Spanish is the page's."""


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
