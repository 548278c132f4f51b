"""The ``image`` field of a request -> the uploaded file's bytes, with the size limit enforced cheaply.

The field holds base64 (standard or URL-safe alphabet, padding optional, line breaks allowed) or a
``data:`` URL. Its length is compared with the base64 length of the limit *before* anything is decoded,
so an oversized upload costs a length check, not a copy. A data URL's MIME type is only used to refuse
what is plainly not an image (``text/html``, ``application/pdf``...): whether an image is readable is
decided later from its content (``function.imaging.sniff_format``), never from a declared type.
"""

from __future__ import annotations

import base64
import binascii
import math
import re

from function.errors import ClientError, Language, number
from function.image_errors import SEND_A_RADIOGRAPH

ACCEPTED_DECLARED_TYPES = frozenset(
    {"", "application/octet-stream", "application/dicom", "application/x-dicom", "application/dicom+binary"}
)
"""Declared MIME types that may hold an image we read, besides any ``image/*`` (content decides)."""
_BASE64_TEXT = re.compile(r"[A-Za-z0-9+/]*={0,2}")
"""Standard base64 once URL-safe letters are mapped and whitespace removed."""
NAMED_NON_IMAGE_TYPES = frozenset(
    {
        "application/pdf",
        "application/json",
        "application/zip",
        "application/msword",
        "text/plain",
        "text/html",
        "text/csv",
        "video/mp4",
        "video/quicktime",
        "audio/mpeg",
    }
)
"""Declared types a refusal names: common ones only, so any other text the client put there is not
echoed (a type is free text: it could carry a name)."""


class UploadError(ClientError):
    """An ``image`` field that cannot become file bytes; ``status`` and ``code`` go into the answer."""

    status = 400
    code = "invalid_base64"


class InvalidBase64(UploadError):
    status = 400
    code = "invalid_base64"


class InvalidDataUrl(UploadError):
    status = 400
    code = "invalid_data_url"


class DeclaredTypeNotImage(UploadError):
    status = 415
    code = "unsupported_media_type"


class UploadTooLarge(UploadError):
    status = 413
    code = "payload_too_large"


def base64_length(decoded_bytes: int) -> int:
    """Characters of padded base64 needed for ``decoded_bytes`` bytes."""
    return 4 * math.ceil(decoded_bytes / 3)


def describe_limit(max_bytes: int, language: Language) -> str:
    """A size in MB with one decimal, as the language writes it: "4,5 MB" / "4.5 MB"."""
    return f"{number(max_bytes / 1_000_000, language, digits=1)} MB"


def too_large(max_bytes: int) -> UploadTooLarge:
    """The refusal of an upload over ``max_bytes``, also the app's 413 for an oversized request body."""
    return UploadTooLarge(
        es=f"El archivo es demasiado grande. El límite es {describe_limit(max_bytes, 'es')}.",
        en=f"The upload is larger than the {describe_limit(max_bytes, 'en')} limit.",
    )


def upload_bytes(image: str, max_bytes: int) -> bytes:
    """Decode the ``image`` field to bytes, refusing anything over ``max_bytes`` before decoding it."""
    payload = _strip_data_url(image)
    limit_chars = base64_length(max_bytes)
    # Generous first bound (line breaks, missing padding) so a 100 MB string is refused without a copy.
    if len(payload) > limit_chars + limit_chars // 32 + 8:
        raise too_large(max_bytes)
    compact = "".join(payload.split()) if _has_whitespace(payload) else payload
    if len(compact) > limit_chars:
        raise too_large(max_bytes)
    data = _decode_base64(compact)
    if len(data) > max_bytes:  # by at most 2 bytes (the check above): its size would read as the limit
        raise too_large(max_bytes)
    return data


def _has_whitespace(text: str) -> bool:
    return any(character in text for character in " \t\r\n\f\v")


def _strip_data_url(image: str) -> str:
    """Return the base64 part of a data URL (checking its declared type), or the field unchanged."""
    if image[:5].lower() != "data:":
        return image
    header, comma, payload = image.partition(",")
    if not comma or len(header) > 256:
        raise InvalidDataUrl(
            es="La URL de datos (data:) está mal formada: se esperaba 'data:<tipo>;base64,<datos>'.",
            en="The data URL is malformed: expected 'data:<type>;base64,<data>'.",
        )
    parameters = [part.strip().lower() for part in header[5:].split(";")]
    declared, options = parameters[0], parameters[1:]
    if "base64" not in options:
        raise InvalidDataUrl(
            es="La URL de datos (data:) debe estar codificada en base64 ('data:<tipo>;base64,<datos>').",
            en="The data URL must be base64-encoded ('data:<type>;base64,<data>').",
        )
    # "image" alone (no subtype) is a sloppy but honest "an image"; the content decides, as for image/*
    if not (declared.startswith("image/") or declared == "image" or declared in ACCEPTED_DECLARED_TYPES):
        named = f" ({declared})" if declared in NAMED_NON_IMAGE_TYPES else ""  # no client text echoed
        raise DeclaredTypeNotImage(
            es=f"El archivo está declarado como algo que no es una imagen{named}. {SEND_A_RADIOGRAPH[0]}",
            en=f"The upload is declared as something other than an image{named}. {SEND_A_RADIOGRAPH[1]}",
        )
    return payload


def _decode_base64(text: str) -> bytes:
    if "-" in text or "_" in text:
        text = text.translate(str.maketrans("-_", "+/"))
    if not _BASE64_TEXT.fullmatch(text):
        raise InvalidBase64(
            es="La imagen no está en base64 válido: contiene un carácter distinto de A-Z, a-z, 0-9, +, / "
            "(o - y _) y = al final.",
            en="The image is not valid base64: it holds a character other than A-Z, a-z, 0-9, +, / "
            "(or - and _) and = at the end.",
        )
    remainder = len(text) % 4
    if remainder == 1:
        raise InvalidBase64(
            es="La imagen no está en base64 válido (su longitud es imposible).",
            en="The image is not valid base64 (its length is impossible).",
        )
    if remainder:
        text += "=" * (4 - remainder)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidBase64(
            es="La imagen no está en base64 válido.", en="The image is not valid base64."
        ) from None
