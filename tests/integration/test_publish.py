"""``python -m training publish`` against a real S3-compatible server (moto) on loopback, over HTTP."""

from __future__ import annotations

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


def publish(bundle: Path, server: LocalS3Server) -> str:
    command = [sys.executable, "-m", "training", "publish", "--bundle", str(bundle), "--bucket", BUCKET]
    command += ["--prefix", PREFIX, "--endpoint-url", server.endpoint_url]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=True)
    return done.stdout


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
