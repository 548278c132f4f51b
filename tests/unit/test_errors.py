"""Each error of the contract: status, code and the ``{"error": {"code", "message"}}`` shape, never a 5xx."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from function.app import create_app
from function.bundle import FolderSource, LoadedBundle, load_bundle
from function.gate import Gate
from function.service import BundleHolder
from function.settings import DEFAULT_MAX_UPLOAD_BYTES, Settings
from tests.api_support import error_of, make_client, post_image
from tests.conftest import RELEASE_BUNDLE
from tests.upload_samples import COVID_RADIOGRAPH, b64, data_url, gray_of, png_claiming

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.fixture(scope="module")
def client(shared_data: Path) -> Iterator[TestClient]:
    with make_client() as client:
        yield client


@pytest.fixture(scope="module")
def radiograph(shared_data: Path) -> bytes:
    return COVID_RADIOGRAPH.read_bytes()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"", 400, "empty_body"),
        (b"   \n", 400, "empty_body"),
        (b"not json", 400, "invalid_json"),
        (b'{"image": "abc"', 400, "invalid_json"),
        (b"\xff\xfe\x00garbage", 400, "invalid_json"),
        (b"[" * 100_000, 400, "invalid_json"),  # nesting deep enough to exhaust the parser's recursion
        (b"null", 422, "invalid_request"),
        (b"[]", 422, "invalid_request"),
        (b'"just a string"', 422, "invalid_request"),
        (b"{}", 422, "invalid_request"),
        (b'{"picture": "iVBORw0KGgo="}', 422, "invalid_request"),
        (b'{"image": 12345}', 422, "invalid_request"),
        (b'{"image": null}', 422, "invalid_request"),
        (b'{"image": ["a", "b"]}', 422, "invalid_request"),
        (b'{"image": {"data": "x"}}', 422, "invalid_request"),
    ],
    ids=lambda value: value[:24].decode("latin-1") if isinstance(value, bytes) else str(value),
)
def test_request_body_errors(client: TestClient, body: bytes, status: int, code: str) -> None:
    response = client.post("/diagnose", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status, response.text
    assert error_of(response)["code"] == code


def test_missing_field_message_names_the_field(client: TestClient) -> None:
    assert "'image'" in error_of(client.post("/diagnose", json={}))["message"]
    assert "string" in error_of(client.post("/diagnose", json={"image": 1}))["message"]


def test_a_body_is_parsed_whatever_its_content_type(client: TestClient, radiograph: bytes) -> None:
    """`curl -d` sends form-urlencoded; the body is still our JSON and must be read as such."""
    body = json.dumps({"image": b64(radiograph)})
    for content_type in ("application/x-www-form-urlencoded", "text/plain", None):
        headers = {"content-type": content_type} if content_type else {}
        assert client.post("/diagnose", content=body, headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("image", "status", "code"),
    [
        ("", 400, "undecodable_image"),
        ("!!!!", 400, "invalid_base64"),
        ("abcde", 400, "invalid_base64"),  # a length no base64 can have
        ("aGVsbG8@d29ybGQ=", 400, "invalid_base64"),
        ("ñandú", 400, "invalid_base64"),
        ("data:image/png;base64", 400, "invalid_data_url"),  # no comma
        ("data:image/png,iVBORw0KGgo=", 400, "invalid_data_url"),  # not base64
        ("data:image/png;base64,!!!!", 400, "invalid_base64"),
        (data_url(b"<html><script>alert(1)</script></html>", "text/html"), 415, "unsupported_media_type"),
        (data_url(PDF, "application/pdf"), 415, "unsupported_media_type"),
        (b64(os.urandom(2048)), 415, "unsupported_media_type"),  # random bytes: no known magic
        (b64(b"hello world, this is text and not an image\n" * 20), 415, "unsupported_media_type"),
        (b64(PDF), 415, "unsupported_media_type"),
        (b64(SVG), 415, "unsupported_media_type"),
        (data_url(SVG, "image/svg+xml"), 415, "unsupported_media_type"),  # image/* MIME, content decides
        (b64(b"PK\x03\x04" + bytes(200)), 415, "unsupported_media_type"),
        (b64(b"GIF89a" + bytes(200)), 415, "unsupported_media_type"),
    ],
    ids=lambda value: value[:24] if isinstance(value, str) else str(value),
)
def test_image_field_errors(client: TestClient, image: str, status: int, code: str) -> None:
    response = post_image(client, image)
    assert response.status_code == status, response.text
    assert error_of(response)["code"] == code


def test_a_truncated_png_is_undecodable(client: TestClient, radiograph: bytes) -> None:
    response = post_image(client, radiograph[: len(radiograph) // 2])
    assert response.status_code == 400
    assert error_of(response)["code"] == "undecodable_image"


def test_a_truncated_jpeg_is_undecodable(client: TestClient, radiograph: bytes) -> None:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(radiograph)).save(buffer, format="JPEG", quality=90)
    response = post_image(client, buffer.getvalue()[:300])
    assert response.status_code == 400
    assert error_of(response)["code"] == "undecodable_image"


def test_a_tiny_image_is_refused(client: TestClient) -> None:
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, format="PNG")
    response = post_image(client, buffer.getvalue())
    assert response.status_code == 400
    assert error_of(response)["code"] == "image_too_small"


@pytest.mark.parametrize("side", [30_000, 9_000])
def test_a_png_claiming_a_huge_size_is_refused_from_its_header(client: TestClient, side: int) -> None:
    forged = png_claiming(side, side)
    assert len(forged) < 200  # a few bytes on the wire; decoding it would need side*side bytes
    response = post_image(client, forged)
    assert response.status_code == 413, response.text
    assert error_of(response)["code"] == "image_too_large"


def test_an_upload_over_the_default_limit_is_refused(client: TestClient) -> None:
    response = post_image(client, b"\x89PNG\r\n\x1a\n" + os.urandom(DEFAULT_MAX_UPLOAD_BYTES))
    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"


def test_an_upload_at_the_limit_is_read() -> None:
    """The limit is on decoded bytes: exactly the limit passes the size checks (and is then decoded)."""
    with make_client(max_upload_bytes=len(COVID_RADIOGRAPH.read_bytes())) as small:
        assert post_image(small, COVID_RADIOGRAPH.read_bytes()).status_code == 200
        response = post_image(small, COVID_RADIOGRAPH.read_bytes() + b"\x00")
        assert response.status_code == 413
        assert error_of(response)["code"] == "payload_too_large"


def test_the_decoded_length_is_checked_too() -> None:
    """15 base64 characters fit a 12-byte limit by length, then decode to 11 bytes: over a 10-byte limit."""
    with make_client(max_upload_bytes=10) as small:
        for image in ("A" * 16, "A" * 15, "data:image/png;base64," + "A" * 15):
            response = post_image(small, image)
            assert response.status_code == 413, image
            assert error_of(response)["code"] == "payload_too_large"


def test_an_oversized_body_is_refused_before_it_is_read() -> None:
    with make_client(max_upload_bytes=1_000) as small:
        declared = small.post(
            "/diagnose", content=b"x" * 200_000, headers={"content-type": "application/json"}
        )
        assert declared.status_code == 413
        assert error_of(declared)["code"] == "payload_too_large"

        def chunks() -> Iterator[bytes]:  # no Content-Length: streamed, counted as it arrives
            for _ in range(50):
                yield b"x" * 10_000

        streamed = small.post("/diagnose", content=chunks(), headers={"content-type": "application/json"})
        assert streamed.status_code == 413
        assert error_of(streamed)["code"] == "payload_too_large"


def test_unknown_routes_and_methods_use_the_error_shape(client: TestClient) -> None:
    assert error_of(client.get("/nowhere"))["code"] == "not_found"
    response = client.get("/diagnose")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert "server" not in response.headers


def test_a_missing_bundle_is_a_503_not_a_diagnosis(tmp_path: Path, radiograph: bytes) -> None:
    with make_client(tmp_path / "no-bundle-here") as broken:
        response = post_image(broken, radiograph)
        assert response.status_code == 503
        error = error_of(response)
        assert error["code"] == "bundle_unavailable"
        assert "manifest.json" in error["message"]


def test_client_errors_are_reported_even_without_a_bundle(tmp_path: Path) -> None:
    with make_client(tmp_path / "no-bundle-here") as broken:
        assert post_image(broken, "!!!!").status_code == 400
        assert broken.post("/diagnose", json={}).status_code == 422


def test_a_server_bug_is_a_generic_500_that_echoes_nothing(
    radiograph: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    """An internal failure (here: an average image of the wrong size) is a 500 with our shape and no input."""
    good = load_bundle(FolderSource(RELEASE_BUNDLE))
    broken = LoadedBundle(
        manifest=good.manifest,
        classifier=good.classifier,
        gate=Gate(average=np.zeros((3, 3), np.float32), threshold=0.5),
        gate_config=good.gate_config,
    )
    app = create_app(Settings(bundle_location="unused"), BundleHolder("unused", loader=lambda _: broken))
    image = b64(radiograph)
    with caplog.at_level("INFO"), TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/diagnose", json={"image": image})
    assert response.status_code == 500
    assert error_of(response) == {"code": "internal_error", "message": "Something went wrong on our side."}
    assert image[:40] not in response.text
    assert image[:40] not in caplog.text
    assert "status=500" in caplog.text and "internal_error" in caplog.text


def test_no_upload_reaches_the_logs(
    client: TestClient, caplog: pytest.LogCaptureFixture, shared_data: Path
) -> None:
    gray = gray_of(COVID_RADIOGRAPH)
    uploads = [COVID_RADIOGRAPH.read_bytes(), b"%PDF-1.4 secret", bytes(gray[:40].tobytes())]
    with caplog.at_level("DEBUG"):
        for data in uploads:
            post_image(client, data)
        client.post("/diagnose", content=b'{"image": "bm90IGEgcGljdHVyZQ==", "x": "SECRET-FIELD"}')
    assert caplog.records, "the access log should have a line per request"
    lines = [record for record in caplog.records if record.name == "cxr.access"]
    assert len(lines) == 4
    for data in uploads:
        assert b64(data)[:24] not in caplog.text
    assert "SECRET-FIELD" not in caplog.text and "bm90IGEgcGljdHVyZQ" not in caplog.text
