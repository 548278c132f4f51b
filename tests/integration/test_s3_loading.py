"""The function loading its bundle from a real S3 server on loopback, and what it does when S3 misbehaves.

A broken bundle (tampered, missing object, no bucket) must give 503 and never a diagnosis: a generic
message for the public, the reason in the log; when the fault is repaired the next request is served by
the same app, without a restart. S3 down, slow or serving a corrupt model: tests/integration/test_faults.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api_support import (
    assert_model_unavailable,
    make_client,
    post_image,
    release_manifest,
    unavailable_reasons,
)
from tests.integration.conftest import S3Bundle
from tests.upload_samples import COVID_RADIOGRAPH


def _diagnose(client: TestClient) -> Any:
    return post_image(client, COVID_RADIOGRAPH.read_bytes())


def _assert_unavailable(client: TestClient, caplog: pytest.LogCaptureFixture, *reason_parts: str) -> None:
    """A generic 503 for the public; the reason (each of ``reason_parts``) in the log for operators."""
    caplog.clear()
    response = _diagnose(client)
    assert_model_unavailable(response)
    health = client.get("/health")
    assert_model_unavailable(health)
    assert health.json()["loaded"] is False
    reasons = unavailable_reasons(caplog)
    for part in reason_parts:
        assert part in reasons, reasons
        assert part not in response.text and part not in health.text


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


def test_a_tampered_model_is_refused_then_a_repaired_one_is_served(
    s3_bundle: S3Bundle, caplog: pytest.LogCaptureFixture
) -> None:
    original = s3_bundle.get("model.tflite")
    s3_bundle.put("model.tflite", original[:-16] + bytes(16))
    with make_client(s3_bundle.location) as client:
        _assert_unavailable(client, caplog, "model.tflite", "sha256")
        _assert_unavailable(client, caplog, "model.tflite", "sha256")  # retried, still refused

        s3_bundle.put("model.tflite", original)
        response = _diagnose(client)
        assert response.status_code == 200
        assert response.json()["result"] == "diagnosis"


def test_a_tampered_gate_is_refused(s3_bundle: S3Bundle, caplog: pytest.LogCaptureFixture) -> None:
    s3_bundle.put("gate.json", b'{"method": "ssim", "threshold": -1.0}')  # would let everything through
    with make_client(s3_bundle.location) as client:
        _assert_unavailable(client, caplog, "gate.json", "sha256")


def test_a_missing_object_is_a_503_until_it_is_put_back(
    s3_bundle: S3Bundle, caplog: pytest.LogCaptureFixture
) -> None:
    average = s3_bundle.get("average.png")
    s3_bundle.delete("average.png")
    with make_client(s3_bundle.location) as client:
        _assert_unavailable(client, caplog, "average.png", "NoSuchKey")

        s3_bundle.put("average.png", average)
        assert _diagnose(client).status_code == 200


def test_a_missing_manifest_or_bucket_is_a_503(s3_bundle: S3Bundle, caplog: pytest.LogCaptureFixture) -> None:
    with make_client(f"s3://{s3_bundle.bucket}/no/such/prefix/") as client:
        _assert_unavailable(client, caplog, "manifest.json")
    with make_client("s3://cxr-no-such-bucket-for-tests/bundle/") as client:
        _assert_unavailable(client, caplog, "NoSuchBucket")


def test_a_loaded_bundle_stays_in_the_container(s3_bundle: S3Bundle) -> None:
    """Read once per container: S3 is not consulted again once the bundle is verified and loaded."""
    with make_client(s3_bundle.location) as client:
        assert _diagnose(client).status_code == 200
        for name in ("manifest.json", "model.tflite", "average.png", "gate.json"):
            s3_bundle.delete(name)
        assert _diagnose(client).status_code == 200


def test_a_missing_key_read_without_list_permission_says_it_may_be_missing() -> None:
    """In AWS the function's role has s3:GetObject alone, and S3 then answers a missing key 403
    AccessDenied, not 404 NoSuchKey (moto here does not apply IAM, so the answer is S3's, stubbed as AWS
    sends it): the log must not send an operator after IAM for a bundle that was never published."""
    import boto3
    from botocore.stub import Stubber

    from function.bundle import S3Source
    from function.bundle_format import BundleError

    s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(s3) as stubber:
        stubber.add_client_error(
            "get_object",
            service_error_code="AccessDenied",
            service_message="Access Denied",
            http_status_code=403,
        )
        with pytest.raises(BundleError) as refused:
            S3Source("s3://cxr-bundles/models/20261207T173848Z-7af3b975/", client=s3).read("manifest.json")
    reason = str(refused.value)
    assert "AccessDenied" in reason
    assert "missing" in reason and "s3:ListBucket" in reason
