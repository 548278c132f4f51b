"""``python -m training publish``: upload a bundle to S3, manifest.json last, so readers never see half.

Files already there with the same content (their ``sha256`` metadata, written by this command) are left
alone: ``infra/deploy.sh`` publishes on every run, code-only deploys too, and an unchanged bundle then
writes nothing (no new object versions in the versioned bucket, nothing for a reader to race).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from function.bundle_format import MANIFEST, parse_manifest, sha256_hex, verify_file

CHECKSUM_METADATA = "sha256"
NO_STORED_OBJECT = ("404", "NoSuchKey", "NotFound", "403", "AccessDenied")
"""A HEAD of a missing key: 404, or 403 to a caller without s3:ListBucket (a put-only deployer)."""


@dataclass
class Published:
    """What one publish did, key by key."""

    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def publish_bundle(
    bundle: Path, bucket: str, prefix: str = "models/", endpoint_url: str | None = None
) -> Published:
    """Verify the bundle locally, upload every listed file that differs, then the manifest if it differs."""
    import boto3

    manifest = parse_manifest((bundle / MANIFEST).read_bytes())
    for name in manifest["files"]:
        verify_file(manifest, name, (bundle / name).read_bytes())
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    s3 = boto3.client("s3", endpoint_url=endpoint_url)
    published = Published()
    for name in [*sorted(manifest["files"]), MANIFEST]:
        content = (bundle / name).read_bytes()
        checksum = sha256_hex(content)
        key = prefix + name
        if _stored_checksum(s3, bucket, key) == checksum:
            published.unchanged.append(key)
            continue
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=content,
            ContentType="application/json" if name.endswith(".json") else "application/octet-stream",
            Metadata={CHECKSUM_METADATA: checksum},
        )
        published.written.append(key)
    return published


def _stored_checksum(s3: Any, bucket: str, key: str) -> str | None:
    """The sha256 this command recorded on the object, or None if there is no object (or no record)."""
    from botocore.exceptions import ClientError

    try:
        return s3.head_object(Bucket=bucket, Key=key).get("Metadata", {}).get(CHECKSUM_METADATA)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in NO_STORED_OBJECT:
            return None
        raise
