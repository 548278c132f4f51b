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
    assert f"already holds bundle {version} with another manifest.json" in refused
    assert client.head_object(Bucket=BUCKET, Key=versioned + "manifest.json")["ETag"] == before
    assert "0 uploaded" in publish(RELEASE_BUNDLE, server, "--versioned")  # the same bundle again: nothing
