"""The function loading its bundle from a real S3 server on loopback, and what it does when S3 misbehaves.

A broken bundle (tampered, missing object, no bucket, unreachable endpoint) must give 503 with a clear
reason and never a diagnosis; when the fault is repaired the next request is served by the same app,
without a restart.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api_support import error_of, make_client, post_image, release_manifest
from tests.integration.conftest import S3Bundle
from tests.upload_samples import COVID_RADIOGRAPH


def _diagnose(client: TestClient) -> Any:
    return post_image(client, COVID_RADIOGRAPH.read_bytes())


def _assert_unavailable(client: TestClient, *reason_parts: str) -> None:
    response = _diagnose(client)
    assert response.status_code == 503, response.text
    error = error_of(response)
    assert error["code"] == "bundle_unavailable"
    assert "diagnosis" not in response.json()
    for part in reason_parts:
        assert part in error["message"], error["message"]
    health = client.get("/health")
    assert health.status_code == 503 and health.json()["loaded"] is False


def test_a_bundle_on_s3_serves_diagnoses(s3_bundle: S3Bundle) -> None:
    with make_client(s3_bundle.location) as client:
        response = _diagnose(client)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["result"] == "diagnosis"
        assert body["model_version"] == release_manifest()["bundle_version"]
        assert client.get("/health").json()["model_version"] == body["model_version"]


def test_a_prefix_without_trailing_slash_works(s3_bundle: S3Bundle) -> None:
    with make_client(s3_bundle.location.rstrip("/")) as client:
        assert _diagnose(client).status_code == 200


def test_a_tampered_model_is_refused_then_a_repaired_one_is_served(s3_bundle: S3Bundle) -> None:
    original = s3_bundle.get("model.tflite")
    s3_bundle.put("model.tflite", original[:-16] + bytes(16))
    with make_client(s3_bundle.location) as client:
        _assert_unavailable(client, "model.tflite", "sha256")
        _assert_unavailable(client, "model.tflite", "sha256")  # retried, still refused

        s3_bundle.put("model.tflite", original)
        response = _diagnose(client)
        assert response.status_code == 200
        assert response.json()["result"] == "diagnosis"


def test_a_tampered_gate_is_refused(s3_bundle: S3Bundle) -> None:
    s3_bundle.put("gate.json", b'{"method": "ssim", "threshold": -1.0}')  # would let everything through
    with make_client(s3_bundle.location) as client:
        _assert_unavailable(client, "gate.json", "sha256")


def test_a_missing_object_is_a_503_until_it_is_put_back(s3_bundle: S3Bundle) -> None:
    average = s3_bundle.get("average.png")
    s3_bundle.delete("average.png")
    with make_client(s3_bundle.location) as client:
        _assert_unavailable(client, "average.png", "NoSuchKey")

        s3_bundle.put("average.png", average)
        assert _diagnose(client).status_code == 200


def test_a_missing_manifest_or_bucket_is_a_503(s3_bundle: S3Bundle) -> None:
    with make_client(f"s3://{s3_bundle.bucket}/no/such/prefix/") as client:
        _assert_unavailable(client, "manifest.json")
    with make_client("s3://cxr-no-such-bucket-for-tests/bundle/") as client:
        _assert_unavailable(client, "NoSuchBucket")


def test_an_unreachable_s3_is_a_503_and_recovers_when_it_answers(
    s3_bundle: S3Bundle, monkeypatch: pytest.MonkeyPatch
) -> None:
    working_endpoint = s3_bundle.client.meta.endpoint_url
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{_closed_port()}")
    with make_client(s3_bundle.location) as client:
        _assert_unavailable(client, "cannot reach S3")

        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", working_endpoint)
        assert _diagnose(client).status_code == 200


def test_a_loaded_bundle_stays_in_the_container(s3_bundle: S3Bundle) -> None:
    """Read once per container: S3 is not consulted again once the bundle is verified and loaded."""
    with make_client(s3_bundle.location) as client:
        assert _diagnose(client).status_code == 200
        for name in ("manifest.json", "model.tflite", "average.png", "gate.json"):
            s3_bundle.delete(name)
        assert _diagnose(client).status_code == 200


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
