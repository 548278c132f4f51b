"""A real S3-compatible server on loopback (moto in server mode) and a bundle published to it over HTTP.

boto3 reaches it through the standard ``AWS_ENDPOINT_URL_S3``, exactly as the function does in a local
run; nothing is patched inside boto3.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.local_s3 import LocalS3Server, upload_bundle
from infra.locations import RELEASE_BUNDLE
from tests.aws_support import on_loopback_aws

FAKE_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """Start moto's S3 server on a free loopback port for the session; yield its URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@dataclass
class S3Bundle:
    """A bundle published under ``s3://bucket/prefix/`` on the loopback server."""

    client: Any
    bucket: str
    prefix: str

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def put(self, name: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + name, Body=data)

    def delete(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + name)

    def get(self, name: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self.prefix + name)["Body"].read()


@pytest.fixture
def aws_environment(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point boto3 at the loopback server with dummy credentials; no real AWS profile can leak in."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_endpoint)
    for name, value in FAKE_AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    return s3_endpoint


@pytest.fixture
def s3_bundle(aws_environment: str, shared_data: Path) -> S3Bundle:
    """The shipped bundle published to a fresh bucket (one per test, so tests cannot disturb each other)."""
    import boto3

    client = boto3.client("s3")
    bucket = f"cxr-test-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    prefix = "bundles/release/"
    upload_bundle(client, RELEASE_BUNDLE, bucket, prefix)
    return S3Bundle(client=client, bucket=bucket, prefix=prefix)


@pytest.fixture(scope="module")
def aws_server() -> Iterator[LocalS3Server]:
    """moto's whole server (S3, CloudFormation, CloudFront alike) on loopback, for one test module."""
    with LocalS3Server() as server:
        yield server


@pytest.fixture
def on_aws_server(aws_server: LocalS3Server) -> Iterator[LocalS3Server]:
    """Run in-process commands (``main(argv)``) against the loopback server."""
    with on_loopback_aws(aws_server):
        yield aws_server
