"""``python -m training publish``: upload a bundle to S3, manifest.json last, so readers never see half."""

from __future__ import annotations

from pathlib import Path

from function.bundle_format import MANIFEST, parse_manifest, verify_file


def publish_bundle(
    bundle: Path, bucket: str, prefix: str = "models/", endpoint_url: str | None = None
) -> list[str]:
    """Verify the bundle locally, upload every listed file, then the manifest. Returns the keys written."""
    import boto3

    manifest = parse_manifest((bundle / MANIFEST).read_bytes())
    for name in manifest["files"]:
        verify_file(manifest, name, (bundle / name).read_bytes())
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    s3 = boto3.client("s3", endpoint_url=endpoint_url)
    keys = []
    for name in [*sorted(manifest["files"]), MANIFEST]:
        content_type = "application/json" if name.endswith(".json") else "application/octet-stream"
        s3.put_object(
            Bucket=bucket, Key=prefix + name, Body=(bundle / name).read_bytes(), ContentType=content_type
        )
        keys.append(prefix + name)
    return keys
