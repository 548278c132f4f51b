"""``python -m training publish``: upload a bundle to S3, manifest.json last, so readers never see half.

``versioned`` (what ``infra/deploy.sh`` does) puts the bundle under ``<prefix><bundle_version>/`` and
never changes a version once its manifest is there: a live function keeps reading exactly what it was
switched to, and the switch itself is a stack update (``infra.bundle_versions``). Without it the bundle
goes straight under the prefix, written over whatever was there (for a stack whose ``BundleVersion`` is
empty); a function cold-starting during that write can find a mix and answers 503 until it is done.

A version a prune is deleting (its ``.pruning`` marker, ``infra.bundle_prune``) is not published into: the
publish stops before writing, or, when the prune started during the publish, after its last write (taking
back the manifest it wrote: the prune had withdrawn it so that no switch could pass). A prune that
finished while the publish wrote took files the publish had found there: they are put back, once; files
gone again after that fail the publish, which takes back a manifest it wrote. So a publish that succeeds
leaves the whole version there, and one that fails leaves no manifest of its own naming missing files.
A publisher that may not list the bucket (a HEAD of a missing key answers 403, as for a key it may not
read) cannot tell a file gone from one it may not see, so it checks nothing after writing; the switch's own
check of every file stands.

Files already there with the same content (their ``sha256`` metadata, written by this command, or their
bytes when that is missing) are left alone: ``infra/deploy.sh`` publishes on every run, code-only deploys
too, and an unchanged bundle then writes nothing (no new object versions in the versioned bucket).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from function.bundle_format import MANIFEST, BundleError, parse_manifest, sha256_hex, verify_file

CHECKSUM_METADATA = "sha256"
NO_STORED_OBJECT = ("404", "NoSuchKey", "NotFound", "403", "AccessDenied")
"""A HEAD of a missing key: 404, or 403 to a caller without s3:ListBucket (a put-only deployer)."""


def no_stored_object(error: Exception) -> bool:
    """Whether a botocore ClientError means "no object at that key" (``NO_STORED_OBJECT``)."""
    response = getattr(error, "response", {}) or {}
    return response.get("Error", {}).get("Code") in NO_STORED_OBJECT


PRUNING = ".pruning"
"""Marker of a version being deleted (``infra.bundle_prune`` writes it); holds the version's manifest."""

KEY_TAKEN = ("PreconditionFailed", "ConditionalRequestConflict")
"""S3's answers to a write with ``If-None-Match: *`` when the key holds an object (or is being written)."""


class PublishedVersionDiffers(BundleError):
    """A bundle of this version is already published with other content; versions are never rewritten."""


class VersionBeingPruned(BundleError):
    """A prune is deleting this version (or took files of it while this publish ran)."""


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
    """Verify the bundle locally, upload every listed file that differs, then the manifest if it differs.

    ``versioned``: nothing already there is ever replaced. Each object is written only if absent (S3's
    conditional ``If-None-Match: *``), so two publishers racing, or one without read access, cannot
    rewrite a published file; one already there with other content stops the publish.
    """
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
    if versioned:  # the usual conflicts refused before any write
        _refuse_if_pruning(s3, bucket, prefix, manifest)
        _refuse_if_other(s3, bucket, prefix + MANIFEST, sha256_hex(manifest_bytes), manifest)
    published = Published(prefix)
    names = [*sorted(manifest["files"]), MANIFEST]
    can_check = versioned and _tells_missing_from_forbidden(s3, bucket, prefix)
    for _ in range(2):
        _write(s3, bucket, bundle, names, manifest, versioned, published)
        if not can_check:
            return published  # it cannot tell a file gone from one it may not see: the switch checks
        names = _gone_meanwhile(s3, bucket, bundle, manifest, published)
        if not names:
            return published
        # a prune finished while this one wrote (its marker is gone, and so are the files it took): put
        # them back once; the manifest this publish saw or wrote names them
    if prefix + MANIFEST in published.written:  # no manifest of this publish naming files not there
        s3.delete_object(Bucket=bucket, Key=prefix + MANIFEST)
    raise VersionBeingPruned(
        f"{', '.join(names)} of bundle {manifest['bundle_version']} gone from s3://{bucket}/{prefix} after "
        "it was written twice (the manifest this publish wrote is taken back): publish again once nothing "
        "else deletes there"
    )


def _write(
    s3: Any,
    bucket: str,
    bundle: Path,
    names: list[str],
    manifest: dict[str, Any],
    versioned: bool,
    published: Published,
) -> None:
    """Upload each named file that is not stored with its content yet (in order: the manifest last)."""
    for name in names:
        content = (bundle / name).read_bytes()
        checksum = sha256_hex(content)
        key = published.prefix + name
        if stored_sha256(s3, bucket, key) == checksum:
            published.unchanged.append(key)
            continue
        if versioned and not _put_if_absent(s3, bucket, key, content, checksum):
            _refuse_if_other(s3, bucket, key, checksum, manifest)
            published.unchanged.append(key)  # written meanwhile by another publisher, the same bytes
            continue
        if not versioned:
            s3.put_object(Bucket=bucket, Key=key, Body=content, **_object_fields(name, checksum))
        published.written.append(key)
        if key in published.unchanged:  # there at first, then taken by a prune and put back
            published.unchanged.remove(key)


def _gone_meanwhile(
    s3: Any, bucket: str, bundle: Path, manifest: dict[str, Any], published: Published
) -> list[str]:
    """After a versioned publish: the names not stored as published (the manifest last), or raise if a
    prune is deleting the version (and take back the manifest this publish wrote, so no switch to the
    version can pass its checks before the prune's deletion: the prune had deleted it for that)."""
    prefix = published.prefix
    if object_exists(s3, bucket, prefix + PRUNING):
        if prefix + MANIFEST in published.written:
            s3.delete_object(Bucket=bucket, Key=prefix + MANIFEST)
        raise _being_pruned(bucket, prefix, manifest)
    names = [*sorted(manifest["files"]), MANIFEST]
    return [
        name
        for name in names
        if stored_sha256(s3, bucket, prefix + name) != sha256_hex((bundle / name).read_bytes())
    ]


def stored_sha256(s3: Any, bucket: str, key: str) -> str | None:
    """The sha256 of the stored object: the one this command recorded in its metadata, else worked out
    from its bytes (an object copied some other way); None when there is no object (or it may not be
    read: a 403 to a caller without s3:ListBucket)."""
    from botocore.exceptions import ClientError

    try:
        metadata = s3.head_object(Bucket=bucket, Key=key).get("Metadata", {})
        if CHECKSUM_METADATA in metadata:
            return str(metadata[CHECKSUM_METADATA])
        return sha256_hex(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as error:
        if no_stored_object(error):
            return None
        raise


def object_exists(s3: Any, bucket: str, key: str) -> bool:
    """Whether an object is stored at ``key`` (a HEAD; ``no_stored_object`` answers mean no)."""
    from botocore.exceptions import ClientError

    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if no_stored_object(error):
            return False
        raise
    return True


def _object_fields(name: str, checksum: str) -> dict[str, Any]:
    content_type = "application/json" if name.endswith(".json") else "application/octet-stream"
    return {"ContentType": content_type, "Metadata": {CHECKSUM_METADATA: checksum}}


def _put_if_absent(s3: Any, bucket: str, key: str, content: bytes, checksum: str) -> bool:
    """Write the object only if the key is free; False if something is there already."""
    from botocore.exceptions import ClientError

    try:
        s3.put_object(Bucket=bucket, Key=key, Body=content, IfNoneMatch="*", **_object_fields(key, checksum))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in KEY_TAKEN:
            return False
        raise
    return True


def _refuse_if_pruning(s3: Any, bucket: str, prefix: str, manifest: dict[str, Any]) -> None:
    """Raise VersionBeingPruned if the version's pruning marker is there."""
    if object_exists(s3, bucket, prefix + PRUNING):
        raise _being_pruned(bucket, prefix, manifest)


def _being_pruned(bucket: str, prefix: str, manifest: dict[str, Any]) -> VersionBeingPruned:
    return VersionBeingPruned(
        f"s3://{bucket}/{prefix}{PRUNING}: a prune is deleting bundle {manifest['bundle_version']} "
        "(or one was cut off); let it finish (python -m infra.bundle_versions prune --delete "
        "finishes a cut-off one), then publish again"
    )


def _tells_missing_from_forbidden(s3: Any, bucket: str, prefix: str) -> bool:
    """Whether this caller's HEAD of a missing key answers 404: without s3:ListBucket it answers 403, as it
    does for a key it may not read, so "gone" and "forbidden" look alike and nothing can be checked."""
    from botocore.exceptions import ClientError

    try:
        s3.head_object(Bucket=bucket, Key=prefix + ".no-such-object")
    except ClientError as error:
        return error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")
    return True


def _refuse_if_other(s3: Any, bucket: str, key: str, checksum: str, manifest: dict[str, Any]) -> None:
    """Raise PublishedVersionDiffers unless the object at ``key`` is absent or holds these bytes."""
    stored = stored_sha256(s3, bucket, key)
    if stored is None or stored == checksum:
        return
    raise PublishedVersionDiffers(
        f"s3://{bucket}/{key} already holds other content for bundle {manifest['bundle_version']}; a "
        "published version is never rewritten (build a new bundle instead)"
    )
