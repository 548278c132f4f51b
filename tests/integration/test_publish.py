"""``python -m training publish`` against a real S3-compatible server (moto) on loopback, over HTTP."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.local_s3 import DUMMY_CREDENTIALS, REGION, LocalS3Server
from infra.locations import RELEASE_BUNDLE, REPO_ROOT

BUCKET = "cxr-publish-test"
PREFIX = "models/release/"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalS3Server]:
    for name, value in {**DUMMY_CREDENTIALS, "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    with LocalS3Server() as running:
        running.client().create_bucket(Bucket=BUCKET)
        yield running


def publish(bundle: Path, server: LocalS3Server, *options: str, check: bool = True) -> str:
    command = [sys.executable, "-m", "training", "publish", "--bundle", str(bundle), "--bucket", BUCKET]
    command += ["--prefix", PREFIX, "--endpoint-url", server.endpoint_url, *options]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=check)
    return done.stdout + done.stderr


def test_an_unchanged_bundle_is_not_written_again_and_a_changed_file_is(
    server: LocalS3Server, tmp_path: Path
) -> None:
    first = publish(RELEASE_BUNDLE, server)
    files = len([path for path in RELEASE_BUNDLE.iterdir() if path.is_file()])
    assert f"{files} uploaded, 0 already there unchanged" in first
    uploaded = first.splitlines()
    assert uploaded[files - 1] == f"uploaded s3://{BUCKET}/{PREFIX}manifest.json", "the manifest goes last"
    assert f"0 uploaded, {files} already there unchanged" in publish(RELEASE_BUNDLE, server)

    client = server.client()
    client.put_object(Bucket=BUCKET, Key=PREFIX + "gate.json", Body=b"overwritten by hand")  # no checksum
    copy = tmp_path / "bundle"
    shutil.copytree(RELEASE_BUNDLE, copy)
    again = publish(copy, server)
    assert again.splitlines()[0] == f"uploaded s3://{BUCKET}/{PREFIX}gate.json"
    assert f"1 uploaded, {files - 1} already there unchanged" in again
    stored = client.get_object(Bucket=BUCKET, Key=PREFIX + "gate.json")["Body"].read()
    assert stored == (RELEASE_BUNDLE / "gate.json").read_bytes()


def test_a_versioned_bundle_goes_under_its_version_and_that_version_is_never_rewritten(
    server: LocalS3Server, tmp_path: Path
) -> None:
    version = json.loads((RELEASE_BUNDLE / "manifest.json").read_text())["bundle_version"]
    versioned = f"{PREFIX}{version}/"
    client = server.client()

    def keys() -> set[str]:
        return {o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}

    before_keys = keys()
    first = publish(RELEASE_BUNDLE, server, "--versioned")
    assert f"uploaded s3://{BUCKET}/{versioned}manifest.json" in first
    assert first.splitlines()[-1] == f"bundle at s3://{BUCKET}/{versioned}"
    assert {key for key in keys() - before_keys if not key.startswith(versioned)} == set()

    copy = tmp_path / "bundle"
    shutil.copytree(RELEASE_BUNDLE, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["created"] = "2026-12-07T13:00:00Z"  # the same version with other content
    (copy / "manifest.json").write_text(json.dumps(manifest))
    before = client.head_object(Bucket=BUCKET, Key=versioned + "manifest.json")["ETag"]
    refused = publish(copy, server, "--versioned", check=False)
    assert f"{versioned}manifest.json already holds other content for bundle {version}" in refused
    assert client.head_object(Bucket=BUCKET, Key=versioned + "manifest.json")["ETag"] == before
    assert "0 uploaded" in publish(RELEASE_BUNDLE, server, "--versioned")  # the same bundle again: nothing


def test_a_file_written_by_someone_else_between_the_check_and_the_write_is_not_replaced(
    server: LocalS3Server,
) -> None:
    """Two publishers racing: another writes average.png of this version just before this one's write
    (after its check). S3's If-None-Match keeps the other's object; this publish stops, manifest unwritten."""
    import boto3

    from training.publish import PublishedVersionDiffers, publish_bundle

    version = json.loads((RELEASE_BUNDLE / "manifest.json").read_text())["bundle_version"]
    prefix = "raced/"
    key = f"{prefix}{version}/average.png"
    other = server.client()

    def write_first(params: dict[str, object], **_: object) -> None:
        if params.get("Key") == key and not other.list_objects_v2(Bucket=BUCKET, Prefix=key).get("KeyCount"):
            other.put_object(Bucket=BUCKET, Key=key, Body=b"the other publisher's average.png")

    session = boto3.Session()
    session.events.register("before-parameter-build.s3.PutObject", write_first)
    original = boto3.DEFAULT_SESSION
    boto3.DEFAULT_SESSION = session  # publish_bundle's boto3.client() comes from it
    try:
        with pytest.raises(PublishedVersionDiffers, match=r"average\.png already holds other content"):
            publish_bundle(RELEASE_BUNDLE, BUCKET, prefix, server.endpoint_url, versioned=True)
    finally:
        boto3.DEFAULT_SESSION = original
    assert other.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"the other publisher's average.png"
    assert not other.list_objects_v2(Bucket=BUCKET, Prefix=f"{prefix}{version}/manifest.json").get("KeyCount")


def test_a_bundle_copied_without_checksums_counts_as_published_when_its_bytes_match(
    server: LocalS3Server,
) -> None:
    """A version copied by other means (no sha256 metadata) is compared by its bytes, not refused."""
    from infra.local_s3 import upload_bundle

    version = json.loads((RELEASE_BUNDLE / "manifest.json").read_text())["bundle_version"]
    upload_bundle(server.client(), RELEASE_BUNDLE, bucket=BUCKET, prefix=f"copied/{version}/")
    done = subprocess.run(
        [sys.executable, "-m", "training", "publish", "--bundle", str(RELEASE_BUNDLE), "--bucket", BUCKET,
         "--prefix", "copied/", "--endpoint-url", server.endpoint_url, "--versioned"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "0 uploaded" in done.stdout


def test_a_publisher_that_may_write_but_not_read_publishes_a_version(
    server: LocalS3Server, tmp_path: Path
) -> None:
    """A put-only deployer (every HEAD and GET answered 403) cannot check what it wrote; its publish still
    goes through (S3's If-None-Match keeps it from rewriting anything), and the switch checks the files."""
    import boto3
    from botocore.awsrequest import AWSResponse

    from training.publish import publish_bundle

    def forbidden(**_: object) -> tuple[AWSResponse, dict[str, object]]:
        error = {"Code": "403", "Message": "Forbidden"}
        return AWSResponse("", 403, {}, None), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 403}}

    session = boto3.Session()
    for operation in ("HeadObject", "GetObject"):
        session.events.register(f"before-call.s3.{operation}", forbidden)
    original, boto3.DEFAULT_SESSION = boto3.DEFAULT_SESSION, session
    try:
        published = publish_bundle(RELEASE_BUNDLE, BUCKET, "put-only/", server.endpoint_url, versioned=True)
    finally:
        boto3.DEFAULT_SESSION = original
    manifest = json.loads((RELEASE_BUNDLE / "manifest.json").read_text())
    assert published.written[-1] == f"put-only/{manifest['bundle_version']}/manifest.json"
    stored = server.client().list_objects_v2(Bucket=BUCKET, Prefix="put-only/")["KeyCount"]
    assert stored == len(manifest["files"]) + 1
