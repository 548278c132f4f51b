"""Every error answer speaks both languages: ``message`` in Spanish, ``message_en`` in English, as a reading.

A client shows ``message`` whatever the status, so an error in English only would switch languages under the
person. Each way the service refuses (the request, the upload, the image, unknown routes and methods, the
guard's 403 and 413, the 500, the 503) is taken here and checked by ``tests.api_support.assert_bilingual``:
both texts present, different, with the same numbers. Raise sites no request here reaches are checked in
the source: each names both texts.
"""

from __future__ import annotations

import ast
import dataclasses
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from function.app import create_app
from function.bundle import FolderSource, load_bundle
from function.errors import ClientError, ErrorAnswer
from function.gate import Gate
from function.service import BundleHolder
from function.settings import Settings
from infra.locations import RELEASE_BUNDLE, REPO_ROOT
from tests.api_support import assert_bilingual, error_of, make_client, post_image
from tests.hostile_inputs import CASES
from tests.upload_samples import COVID_RADIOGRAPH, dicom, gray_of, png_16bit

REFUSED_UPLOADS = (
    "empty-body", "not-json", "json-null", "no-image", "image-number", "explain-not-bool", "image-empty",
    "base64-symbols", "base64-length", "data-url-no-comma", "data-url-not-base64", "data-url-wrong-mime",
    "random-bytes", "pdf", "png-truncated", "jpeg-truncated", "png-claims-30000", "png-claims-9000",
    "png-over-pixel-limit", "png-1x1", "over-upload-limit", "image-10mb-string", "dicom-no-pixel-data",
    "dicom-truncated", "dicom-jpeg-ls", "dicom-syntax-markup", "dicom-deflated", "dicom-deflate-bomb",
    "dicom-jpeg2000-size-lie", "dicom-palette-short-table",
)  # fmt: skip
"""Rows of tests/hostile_inputs.py, one or more per refusal (tests/unit/test_hostile_inputs.py posts all)."""


@pytest.fixture(scope="module")
def client(shared_data: Path) -> Iterator[TestClient]:
    with make_client() as client:
        yield client


def _sixteen_bit_png_cut_in_half() -> bytes:
    whole = png_16bit(gray_of(COVID_RADIOGRAPH))
    return whole[: len(whole) // 2]


def _sixteen_bit_rgb_dicom_too_large() -> bytes:
    """A 16-bit RGB DICOM whose header claims 6500 x 6500 (254 MB decoded), refused before decoding: the
    table's ``dicom-rgb-16-bit-over-frame-limit`` without its 4 MB of pixels, which take seconds to make."""
    from pydicom.filereader import dcmread

    dataset = dcmread(io.BytesIO(dicom(np.zeros((8, 8), np.uint8))))
    dataset.Rows = dataset.Columns = 6500
    dataset.SamplesPerPixel = 3
    dataset.PhotometricInterpretation = "RGB"
    dataset.PlanarConfiguration = 0
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


SIXTEEN_BIT = {
    "png-16-bit-truncated": (_sixteen_bit_png_cut_in_half, 400, "undecodable_image"),
    "dicom-16-bit-rgb-over-frame-limit": (_sixteen_bit_rgb_dicom_too_large, 413, "image_too_large"),
}


@pytest.mark.parametrize("name", REFUSED_UPLOADS)
def test_a_refused_upload_is_answered_in_both_languages(client: TestClient, name: str) -> None:
    (case,) = [case for case in CASES if case.name == name]
    response = client.post("/diagnose", content=case.build(), headers={"content-type": "application/json"})
    assert response.status_code == case.status, response.text[:300]
    assert error_of(response)["code"] == case.code


@pytest.mark.parametrize("name", SIXTEEN_BIT)
def test_a_refused_16_bit_image_is_answered_in_both_languages(client: TestClient, name: str) -> None:
    build, status, code = SIXTEEN_BIT[name]
    response = post_image(client, build())
    assert response.status_code == status, response.text[:300]
    assert error_of(response)["code"] == code


# ------------------------------------------------------------------------- routes, guard, 500, 503


def _not_found() -> httpx2.Response:
    with make_client() as client:
        return client.get("/nowhere")


def _method_not_allowed() -> httpx2.Response:
    with make_client() as client:
        return client.get("/diagnose")


def _declared_too_large() -> httpx2.Response:
    with make_client(max_upload_bytes=1_000) as client:
        return client.post("/diagnose", content=b"x" * 200_000, headers={"content-type": "application/json"})


def _streamed_too_large() -> httpx2.Response:
    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives, refused by the app
        for _ in range(50):
            yield b"x" * 10_000

    with make_client(max_upload_bytes=1_000) as client:
        return client.post("/diagnose", content=chunks(), headers={"content-type": "application/json"})


def _forbidden() -> httpx2.Response:
    with make_client(origin_verify="the-distributions-secret") as client:
        return post_image(client, COVID_RADIOGRAPH.read_bytes())


def _unavailable(tmp_path: Path) -> httpx2.Response:
    with make_client(tmp_path / "no-bundle-here") as client:
        return post_image(client, COVID_RADIOGRAPH.read_bytes())


def _internal_error() -> httpx2.Response:
    good = load_bundle(FolderSource(RELEASE_BUNDLE))
    broken = dataclasses.replace(good, gate=Gate(average=np.zeros((3, 3), np.float32), threshold=0.5))
    app = create_app(Settings(bundle_location="unused"), BundleHolder("unused", loader=lambda _: broken))
    with TestClient(app, raise_server_exceptions=False) as client:
        return post_image(client, COVID_RADIOGRAPH.read_bytes())


SERVICE_ERRORS: dict[str, tuple[Callable[..., httpx2.Response], int, str]] = {
    "404": (_not_found, 404, "not_found"),
    "405": (_method_not_allowed, 405, "method_not_allowed"),
    "413-declared": (_declared_too_large, 413, "payload_too_large"),
    "413-streamed": (_streamed_too_large, 413, "payload_too_large"),
    "403-forbidden": (_forbidden, 403, "forbidden"),
    "503-unavailable": (_unavailable, 503, "bundle_unavailable"),
    "500-internal": (_internal_error, 500, "internal_error"),
}


@pytest.mark.parametrize("name", SERVICE_ERRORS)
def test_the_services_own_errors_are_answered_in_both_languages(
    name: str, tmp_path: Path, shared_data: Path
) -> None:
    make, status, code = SERVICE_ERRORS[name]
    response = make(tmp_path) if make is _unavailable else make()
    assert response.status_code == status, response.text[:300]
    assert error_of(response)["code"] == code


def test_spanish_sizes_have_a_decimal_comma() -> None:
    """A body of 1,000,002 bytes decoded, just over a 1 MB limit: "1,0 MB" in Spanish, "1.0 MB" in English."""
    with make_client(max_upload_bytes=1_000_000) as client:
        error = error_of(post_image(client, "A" * 1_333_336))
    assert error["code"] == "payload_too_large"
    assert "1,0 MB" in error["message"] and "1.0 MB" in error["message_en"]


# ------------------------------------------------------------------------- by construction


def test_an_error_in_one_language_cannot_be_made() -> None:
    with pytest.raises(TypeError):
        ClientError("The image is empty.")  # type: ignore[misc]
    with pytest.raises(TypeError):
        ClientError(en="The image is empty.")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        ClientError(es=" ", en="The image is empty.")
    with pytest.raises(TypeError):
        ErrorAnswer(400, "empty", "", "The image is empty.")
    made = ClientError(es="La imagen está vacía.", en="The image is empty.", status=400, code="empty")
    assert_bilingual(made.answer.body()["error"])


def _client_error_names() -> set[str]:
    """ClientError and every subclass of it the app can raise (the app imports them all)."""
    found, todo = set(), [ClientError]
    while todo:
        kind = todo.pop()
        found.add(kind.__name__)
        todo.extend(kind.__subclasses__())
    return found


def test_every_raise_site_names_both_languages() -> None:
    """Paths no request above reaches (a DICOM palette that cannot be read...) still say both texts."""
    names = _client_error_names()
    assert {"UploadTooLarge", "UndecodableImage", "ImageTooLarge"} <= names
    sites = 0
    for path in sorted((REPO_ROOT / "function").glob("*.py")):
        for call in ast.walk(ast.parse(path.read_text())):
            if not isinstance(call, ast.Call):
                continue
            called = call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", "")
            if called in names:
                sites += 1
                keywords = {keyword.arg for keyword in call.keywords}
                where = f"{path.name}:{call.lineno}"
                assert not call.args and {"es", "en"} <= keywords, f"{where}: {called} without es= and en="
    assert sites >= 30
