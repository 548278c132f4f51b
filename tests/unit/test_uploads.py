"""function.uploads: the ``image`` field -> file bytes, with the limit checked before decoding."""

from __future__ import annotations

import base64

import pytest

from function.uploads import (
    DeclaredTypeNotImage,
    InvalidBase64,
    InvalidDataUrl,
    UploadTooLarge,
    base64_length,
    upload_bytes,
)

DATA = bytes(range(256)) * 3


@pytest.mark.parametrize(
    "image",
    [
        base64.b64encode(DATA).decode(),
        base64.urlsafe_b64encode(DATA).decode().rstrip("="),
        " " + base64.encodebytes(DATA).decode(),  # 76-column lines with \n
        "data:image/png;base64," + base64.b64encode(DATA).decode(),
        "DATA:Image/PNG;charset=x;BASE64," + base64.b64encode(DATA).decode(),
        "data:;base64," + base64.b64encode(DATA).decode(),
        "data:application/dicom;base64," + base64.b64encode(DATA).decode(),
    ],
)
def test_accepted_spellings(image: str) -> None:
    assert upload_bytes(image, max_bytes=len(DATA)) == DATA


@pytest.mark.parametrize(
    ("image", "error"),
    [
        ("data:text/html;base64,PGI+", DeclaredTypeNotImage),
        ("data:application/pdf;base64,JVBERg==", DeclaredTypeNotImage),
        ("data:image/png,%89PNG", InvalidDataUrl),
        ("data:image/png;base64", InvalidDataUrl),
        ("data:" + "x" * 300 + ";base64,AAAA", InvalidDataUrl),
        ("A", InvalidBase64),
        ("AA=A", InvalidBase64),
        ("AAAA\x00", InvalidBase64),
    ],
)
def test_refusals(image: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        upload_bytes(image, max_bytes=1000)


def test_the_limit_is_checked_on_the_text_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_decoding(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("an oversized upload must not be decoded")

    monkeypatch.setattr(base64, "b64decode", no_decoding)
    with pytest.raises(UploadTooLarge):
        upload_bytes("A" * (base64_length(1000) + 4), max_bytes=1000)
    with pytest.raises(UploadTooLarge):
        upload_bytes("A" * 10_000_000, max_bytes=1000)


def test_limit_arithmetic() -> None:
    assert base64_length(4_500_000) == 6_000_000
    assert base64_length(1) == 4 and base64_length(3) == 4 and base64_length(4) == 8


def test_a_declared_type_is_echoed_only_when_it_is_a_plain_type_name() -> None:
    with pytest.raises(DeclaredTypeNotImage, match="text/html"):
        upload_bytes("data:text/html;base64,AAAA", max_bytes=100)
    with pytest.raises(DeclaredTypeNotImage) as refused:
        upload_bytes("data:<script>alert(1)</script>;base64,AAAA", max_bytes=100)
    assert "<script>" not in str(refused.value)
    with pytest.raises(DeclaredTypeNotImage) as refused:  # a well-formed type that carries a name
        upload_bytes("data:application/maria.lopez-historia-88231;base64,AAAA", max_bytes=100)
    assert "maria" not in str(refused.value) and "maria" not in refused.value.message


def test_an_upload_over_the_limit_after_decoding_says_the_limit_once() -> None:
    """Base64 of 1,000,001 bytes passes the length check of 1,000,000 (both 1,333,336 characters):
    refused after decoding, saying the limit, not a size that would read as the limit too."""
    with pytest.raises(UploadTooLarge) as refused:
        upload_bytes(base64.b64encode(bytes(1_000_001)).decode(), max_bytes=1_000_000)
    assert str(refused.value) == "The upload is larger than the 1.0 MB limit."
