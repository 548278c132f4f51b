"""Deleting old model bundle versions from a stack's artifacts bucket: ``python -m infra.bundle_versions
prune``.

A folder under the prefix is a version only if its manifest names that folder (what ``publish
--versioned`` writes and what ``switch`` accepts); anything else there (another stack's bundle under a
longer prefix, a hand-made copy, a publish under way) is listed and never touched. Kept: the served
version, the ``keep`` newest others and the ``keep`` newest older than the served one (after a rollback
those are what the next rollback goes to). Without ``delete`` nothing is deleted.

A version is deleted in an order that leaves no stack serving a half-deleted bundle:

1. the stack is looked at (not updating, not serving it);
2. ``<version>/.pruning`` (``training.publish.PRUNING``; a publish of the version refuses while it is
   there) is written holding the manifest (a prune cut off after this is finished by the
   next one, which would otherwise take the folder for a publish under way), then the manifest deleted,
   so from here a ``switch`` to the version is refused;
3. the stack is looked at again: if a switch to the version slipped in (its checks passed before step
   2), the manifest is put back and the prune stops with nothing deleted;
4. the files the manifest lists, then the marker, are deleted.

A switch whose update lands after step 3 finds the manifest gone when it checks the version again after
the update, and switches back (``infra.bundle_versions.switch``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from function.bundle_format import MANIFEST, parse_manifest
from infra.bundle_versions import SwitchRefused, manifest_naming, stable_stack, version_folders
from training.publish import PRUNING, stored_sha256


@dataclass(frozen=True)
class PrunePlan:
    """Which versions a prune keeps and which it deletes."""

    kept: tuple[str, ...]
    deleted: tuple[str, ...]


def prune_plan(published: list[str], live: str, keep: int) -> PrunePlan:
    """Keep the served version, the ``keep`` newest others, and the ``keep`` newest older than the served
    one; delete the rest. Newest by name: a bundle_version starts with its UTC build time."""
    if keep < 1:
        raise SwitchRefused("--keep must be at least 1: the version to roll back to stays")
    others = sorted(version for version in published if version != live)
    older = [version for version in others if version < live]
    kept = set(others[-keep:]) | set(older[-keep:]) | ({live} & set(published))
    return PrunePlan(
        kept=tuple(v for v in sorted(published) if v in kept),
        deleted=tuple(v for v in sorted(published) if v not in kept),
    )


@dataclass(frozen=True)
class _Folder:
    """A folder under the prefix and what its manifest (or pruning marker) says."""

    name: str
    manifest: bytes | None
    files: tuple[str, ...]
    pruning: bool
    """Withdrawn: no manifest, only the marker holding it."""
    marked: bool
    """The marker is there (with or without the manifest: a prune cut off while putting it back)."""


def prune(
    cloudformation: Any,
    s3: Any,
    stack_name: str,
    keep: int,
    delete: bool,
    say: Callable[[str], None] = print,
) -> PrunePlan:
    """Plan (and with ``delete``, carry out) the deletion of old versions; ``say`` gets one line each."""
    stack = stable_stack(cloudformation, stack_name)
    live = stack.live_version or ""
    folders = [
        _read_folder(s3, stack.bucket, stack.prefix, name)
        for name in version_folders(s3, stack.bucket, stack.prefix)
    ]
    versions = {f.name: f for f in folders if f.manifest is not None and not f.pruning}
    plan = prune_plan(sorted(versions), live, keep)
    say(_recoverability(s3, stack.bucket))
    for version in plan.kept:
        say(f"keep   {version}" + (" (served)" if version == live else ""))
    for folder in folders:
        if folder.name not in versions and not folder.pruning:
            say(f"keep   {folder.name} (not a published version of this prefix; not touched)")
    unfinished = [folder for folder in folders if folder.pruning and folder.name != live]
    for folder in folders:  # a marker left on a version that stays would stop every publish of it
        if folder.marked and (folder.name in plan.kept or folder.name == live):
            where = f"{stack.prefix}{folder.name}/"
            gone = _not_stored(s3, stack.bucket, where, folder.manifest)
            if delete and gone:  # no manifest without its files: the marker goes, a publish restores it
                s3.delete_object(Bucket=stack.bucket, Key=where + MANIFEST)
                s3.delete_object(Bucket=stack.bucket, Key=where + PRUNING)
            elif delete:
                _put_back(s3, stack.bucket, where, folder.manifest)
            served = ", served" if folder.name == live else ""
            if gone:
                done = "its marker removed" if delete else "--delete removes its marker"
                say(f"keep   {folder.name} (half deleted by a prune cut off{served}: {', '.join(gone)} "
                    f"gone; {done}, then publish it again)")  # fmt: skip
            else:
                done = "put back" if delete else "--delete puts it back"
                say(f"keep   {folder.name} (a prune cut off left it half withdrawn{served}: {done})")
    for folder in [*unfinished, *(versions[v] for v in plan.deleted)]:
        where = f"{stack.prefix}{folder.name}/"
        files, size = _folder_size(s3, stack.bucket, where)
        label = f"{folder.name} ({files} files, {size / 1e6:.1f} MB)"
        if not delete:
            say(f"would delete {label}" + (" (a prune cut off before)" if folder.pruning else ""))
            continue
        if folder.pruning:
            _refuse_if_serving(cloudformation, stack_name, folder.name, restored=False)
        else:
            _withdraw(cloudformation, s3, stack_name, stack.bucket, where, folder)
        left = _delete_files(s3, stack.bucket, where, folder.files)
        say(f"deleted {label}" + (f"; {left} other files left under {where}" if left else ""))
    if (plan.deleted or unfinished) and not delete:
        say("nothing deleted: add --delete to delete the versions marked 'would delete'")
    return plan


def _read_folder(s3: Any, bucket: str, prefix: str, name: str) -> _Folder:
    """The folder's manifest if it names this folder, else the one its pruning marker holds."""
    manifest = manifest_naming(s3, bucket, f"{prefix}{name}/{MANIFEST}", name)
    marker = manifest_naming(s3, bucket, f"{prefix}{name}/{PRUNING}", name)
    raw = manifest if manifest is not None else marker
    files = tuple(sorted(parse_manifest(raw)["files"])) if raw is not None else ()
    return _Folder(
        name, raw, files, pruning=manifest is None and marker is not None, marked=marker is not None
    )


def _not_stored(s3: Any, bucket: str, where: str, manifest: bytes | None) -> list[str]:
    """The files the manifest lists that are not stored under ``where`` as it describes them."""
    files = parse_manifest(manifest)["files"] if manifest is not None else {}
    return [
        name
        for name, entry in sorted(files.items())
        if stored_sha256(s3, bucket, where + name) != entry["sha256"]
    ]


def _withdraw(
    cloudformation: Any, s3: Any, stack_name: str, bucket: str, where: str, folder: _Folder
) -> None:
    """Steps 1 to 3 of the module's order: after this, no switch to the version can succeed."""
    _refuse_if_serving(cloudformation, stack_name, folder.name, restored=False)
    s3.put_object(Bucket=bucket, Key=where + PRUNING, Body=folder.manifest)
    s3.delete_object(Bucket=bucket, Key=where + MANIFEST)
    try:
        _refuse_if_serving(cloudformation, stack_name, folder.name, restored=True)
    except SwitchRefused:
        _put_back(s3, bucket, where, folder.manifest)
        raise


def _put_back(s3: Any, bucket: str, where: str, manifest: bytes | None) -> None:
    """The manifest again (unless a publish already put it back), then no marker."""
    from botocore.exceptions import ClientError

    try:
        s3.put_object(Bucket=bucket, Key=where + MANIFEST, Body=manifest, IfNoneMatch="*")
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "PreconditionFailed":
            raise
    s3.delete_object(Bucket=bucket, Key=where + PRUNING)


def _refuse_if_serving(cloudformation: Any, stack_name: str, version: str, restored: bool) -> None:
    stack = stable_stack(cloudformation, stack_name)  # refuses while the stack is updating
    if stack.live_version == version:
        done = "its manifest is put back and nothing is deleted" if restored else "it is not deleted"
        raise SwitchRefused(f"{stack_name} was switched to {version} meanwhile; {done}")


def _delete_files(s3: Any, bucket: str, where: str, files: tuple[str, ...]) -> int:
    """The listed files, the manifest if still there, then the marker; returns how many other objects
    (not the bundle's) are left in the folder."""
    names = [*files, MANIFEST]
    for start in range(0, len(names), 1000):
        keys = [{"Key": where + name} for name in names[start : start + 1000]]
        answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        if answer.get("Errors"):
            first = answer["Errors"][0]
            raise SwitchRefused(f"could not delete s3://{bucket}/{first['Key']}: {first.get('Message')}")
    s3.delete_object(Bucket=bucket, Key=where + PRUNING)
    return _folder_size(s3, bucket, where)[0]


def _recoverability(s3: Any, bucket: str) -> str:
    """Whether a deleted file can be got back: only from a versioned bucket, as an old object version."""
    from botocore.exceptions import ClientError

    try:
        status = s3.get_bucket_versioning(Bucket=bucket).get("Status", "")
    except ClientError:
        status = "unknown"
    if status == "Enabled":
        return (
            f"s3://{bucket} keeps object versions: a deleted file stays recoverable as an old version until "
            "the bucket's lifecycle expires it (the stack's own bucket: DeletedBundleRetentionDays)"
        )
    if status == "unknown":
        return f"s3://{bucket}: its versioning could not be read; a deleted file may be gone for good"
    return f"s3://{bucket} keeps no object versions: a deleted file is gone for good"


def _folder_size(s3: Any, bucket: str, folder: str) -> tuple[int, int]:
    """(objects, bytes) under the folder."""
    files = size = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=folder):
        for item in page.get("Contents", []):
            files, size = files + 1, size + int(item["Size"])
    return files, size
