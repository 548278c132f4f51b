"""``python -m training publish``: upload a bundle to S3, manifest.json last, so readers never see half.

``versioned`` (what ``infra/deploy.sh`` does) puts the bundle under ``<prefix><bundle_version>/`` and
never changes a version once its manifest is there: a live function keeps reading exactly what it was
switched to, and the switch itself is a stack update (``infra.bundle_versions``). Without it the bundle
goes straight under the prefix, written over whatever was there (for a stack whose ``BundleVersion`` is
empty); a function cold-starting during that write can find a mix and answers 503 until it is done.

Files already there with the same content (their ``sha256`` metadata, written by this command) are left
alone: ``infra/deploy.sh`` publishes on every run, code-only deploys too, and an unchanged bundle then
writes nothing (no new object versions in the versioned bucket).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from function.bundle_format import MANIFEST, BundleError, parse_manifest, sha256_hex, verify_file

CHECKSUM_METADATA = "sha256"
NO_STORED_OBJECT = ("404", "NoSuchKey", "NotFound", "403", "AccessDenied")
"""A HEAD of a missing key: 404, or 403 to a caller without s3:ListBucket (a put-only deployer)."""


class PublishedVersionDiffers(BundleError):
    """A bundle of this version is already published with other content; versions are never rewritten."""


@dataclass
class Published:
    """What one publish did, key by key, and the prefix the bundle is under."""

    prefix: str
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def publish_bundle(
    bundle: Path,
    bucket: str,
    prefix: str = "models/",
    endpoint_url: str | None = None,
    versioned: bool = False,
) -> Published:
    """Verify the bundle locally, upload every listed file that differs, then the manifest if it differs."""
    import boto3

    manifest_bytes = (bundle / MANIFEST).read_bytes()
    manifest = parse_manifest(manifest_bytes)
    for name in manifest["files"]:
        verify_file(manifest, name, (bundle / name).read_bytes())
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    if versioned:
        prefix += f"{manifest['bundle_version']}/"
    s3 = boto3.client("s3", endpoint_url=endpoint_url)
    if versioned:
        stored = _stored_checksum(s3, bucket, prefix + MANIFEST)
        if stored is not None and stored != sha256_hex(manifest_bytes):
            raise PublishedVersionDiffers(
                f"s3://{bucket}/{prefix} already holds bundle {manifest['bundle_version']} with another "
                "manifest.json; a published version is never rewritten (build a new bundle instead)"
            )
    published = Published(prefix)
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
    """The sha256 this command recorded on the object; "" for an object without that record (written some
    other way: there, and not known to match); None when there is no object."""
    from botocore.exceptions import ClientError

    try:
        metadata = s3.head_object(Bucket=bucket, Key=key).get("Metadata", {})
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in NO_STORED_OBJECT:
            return None
        raise
    return str(metadata.get(CHECKSUM_METADATA, ""))
