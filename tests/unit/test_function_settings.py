"""Settings come from CXR_* variables; CORS exists only for the configured origins."""

from __future__ import annotations

import json

import pytest

from function.settings import DEFAULT_MAX_UPLOAD_BYTES, LAMBDA_PAYLOAD_BYTES, REPO_RELEASE_BUNDLE, Settings
from function.uploads import base64_length
from infra.locations import REPO_ROOT
from tests.api_support import make_client


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CXR_BUNDLE_LOCATION", "CXR_MAX_UPLOAD_BYTES", "CXR_ALLOWED_ORIGINS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.bundle_location == str(REPO_RELEASE_BUNDLE)
    assert settings.max_upload_bytes == DEFAULT_MAX_UPLOAD_BYTES == 4_500_000
    assert settings.allowed_origins == []


def test_the_default_limit_fits_a_lambda_payload_with_room_for_the_event() -> None:
    """The base64 of the largest accepted upload plus the HTTP API event around it stays under 6 MB."""
    event = json.loads((REPO_ROOT / "events" / "http-api-diagnose.json").read_text())
    event["body"] = json.dumps({"image": "A" * base64_length(DEFAULT_MAX_UPLOAD_BYTES)})
    event["isBase64Encoded"] = False
    assert len(json.dumps(event).encode()) < LAMBDA_PAYLOAD_BYTES - 100_000


@pytest.mark.parametrize(
    ("raw", "origins"),
    [
        ("https://a.example, https://b.example", ["https://a.example", "https://b.example"]),
        ('["https://a.example"]', ["https://a.example"]),
        ("", []),
    ],
)
def test_environment(monkeypatch: pytest.MonkeyPatch, raw: str, origins: list[str]) -> None:
    monkeypatch.setenv("CXR_BUNDLE_LOCATION", "s3://bucket/bundles/v1/")
    monkeypatch.setenv("CXR_MAX_UPLOAD_BYTES", "1000")
    monkeypatch.setenv("CXR_ALLOWED_ORIGINS", raw)
    settings = Settings()
    assert settings.bundle_location == "s3://bucket/bundles/v1/"
    assert settings.max_upload_bytes == 1000
    assert settings.allowed_origins == origins


def test_a_nonsense_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CXR_MAX_UPLOAD_BYTES", "-5")
    with pytest.raises(ValueError, match="max_upload_bytes"):
        Settings()


def test_cors_only_for_the_configured_origin() -> None:
    preflight = {"access-control-request-method": "POST", "access-control-request-headers": "content-type"}
    with make_client(allowed_origins=["http://127.0.0.1:8000"]) as client:
        allowed = client.options("/diagnose", headers={"origin": "http://127.0.0.1:8000", **preflight})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "http://127.0.0.1:8000"
        other = client.options("/diagnose", headers={"origin": "https://evil.example", **preflight})
        assert "access-control-allow-origin" not in other.headers
        simple = client.get("/health", headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in simple.headers


def test_no_cors_headers_without_configured_origins() -> None:
    with make_client(allowed_origins=[]) as client:
        response = client.get("/health", headers={"origin": "http://127.0.0.1:8000"})
        assert "access-control-allow-origin" not in response.headers


def test_docs_can_be_switched_off() -> None:
    with make_client(enable_docs=False) as client:
        assert client.get("/docs").status_code == 404
        assert client.get("/openapi.json").status_code == 404
