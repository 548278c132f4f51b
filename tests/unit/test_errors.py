"""The error contract beyond single bad uploads: limits, routes, 503, 500 and what reaches the logs.

Each hostile or malformed upload (bad JSON, bad base64, non-images, damaged, huge or tiny images...) is a
row of the table in tests/hostile_inputs.py, posted by tests/unit/test_hostile_inputs.py.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from function.app import create_app
from function.bundle import FolderSource, load_bundle
from function.gate import Gate
from function.service import BundleHolder
from function.settings import Settings
from infra.locations import RELEASE_BUNDLE
from tests.api_support import assert_model_unavailable, error_of, make_client, post_image, unavailable_reasons
from tests.upload_samples import COVID_RADIOGRAPH, b64, gray_of


@pytest.fixture(scope="module")
def client(shared_data: Path) -> Iterator[TestClient]:
    with make_client() as client:
        yield client


@pytest.fixture(scope="module")
def radiograph(shared_data: Path) -> bytes:
    return COVID_RADIOGRAPH.read_bytes()


def test_a_body_is_parsed_whatever_its_content_type(client: TestClient, radiograph: bytes) -> None:
    """`curl -d` sends form-urlencoded; the body is still our JSON and must be read as such."""
    body = json.dumps({"image": b64(radiograph)})
    for content_type in ("application/x-www-form-urlencoded", "text/plain", None):
        headers = {"content-type": content_type} if content_type else {}
        assert client.post("/diagnose", content=body, headers=headers).status_code == 200


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


def test_a_missing_bundle_is_a_503_not_a_diagnosis(
    tmp_path: Path, radiograph: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    with make_client(tmp_path / "no-bundle-here") as broken:
        response = post_image(broken, radiograph)
    assert_model_unavailable(response)
    assert "manifest.json" not in response.text and str(tmp_path) not in response.text
    assert "manifest.json" in unavailable_reasons(caplog)  # the operator still learns why


def test_client_errors_are_reported_even_without_a_bundle(tmp_path: Path) -> None:
    with make_client(tmp_path / "no-bundle-here") as broken:
        assert post_image(broken, "!!!!").status_code == 400
        assert broken.post("/diagnose", json={}).status_code == 422


def test_a_server_bug_is_a_generic_500_that_echoes_nothing(
    radiograph: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    """An internal failure (here: an average image of the wrong size) is a 500 with our shape and no input."""
    good = load_bundle(FolderSource(RELEASE_BUNDLE))
    broken = dataclasses.replace(good, gate=Gate(average=np.zeros((3, 3), np.float32), threshold=0.5))
    app = create_app(Settings(bundle_location="unused"), BundleHolder("unused", loader=lambda _: broken))
    image = b64(radiograph)
    with caplog.at_level("INFO"), TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/diagnose", json={"image": image})
    assert response.status_code == 500
    assert error_of(response) == {
        "code": "internal_error",
        "message": "Se produjo un error interno en el servicio.",
        "message_en": "Something went wrong on our side.",
    }
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


def test_the_openapi_page_lists_every_error_the_routes_give(client: TestClient) -> None:
    """An API client generated from /openapi.json knows every status it may meet, each with its shape."""
    schema = client.get("/openapi.json").json()
    diagnose = schema["paths"]["/diagnose"]["post"]["responses"]
    assert {"400", "403", "404", "405", "413", "415", "422", "429", "500", "503"} <= set(diagnose)
    assert diagnose["405"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorResponse"
    }
    health = schema["paths"]["/health"]["get"]["responses"]
    assert health["503"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/HealthResponse"
    }
    assert "403" in health
    health_error = schema["components"]["schemas"]["HealthResponse"]["properties"]["error"]
    assert {"$ref": "#/components/schemas/ErrorDetail"} in health_error["anyOf"], health_error
