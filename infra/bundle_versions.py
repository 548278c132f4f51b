"""Which model bundle a deployed stack serves, and switching it: ``python -m infra.bundle_versions``.

Each bundle is published once under ``<ArtifactsPrefix><bundle_version>/`` (``python -m training publish
--versioned``) and never rewritten; the stack's ``BundleVersion`` parameter names the one the function
reads (``CXR_BUNDLE_LOCATION`` and ``CXR_BUNDLE_VERSION``). A switch is a stack update of that one
parameter on the stack's own template, every other parameter kept, so:

- it is atomic: containers started after it read the new version, warm ones keep the bundle they verified
  until Lambda replaces them, and no container ever sees a half-written bundle;
- CloudFormation rolls it back by itself if the update fails (and ``switch`` says what failed);
- undoing a bad model is one more switch, to the version listed before it.

    python -m infra.bundle_versions list   --stack-name S --region R
    python -m infra.bundle_versions switch --stack-name S --region R --version V [--verify-url API_URL]
    python -m infra.bundle_versions verify --stack-name S --region R --verify-url API_URL
    python -m infra.bundle_versions prune  --stack-name S --region R [--keep N] [--delete]

A version is switched to only when its manifest and every file it lists are in the bucket with the
checksums ``publish`` recorded (the function verifies the content itself on load). With ``--verify-url``
the switch is then checked from outside: the API's ``/health`` must report the new version (a cold start
that loaded and verified it) within ``--verify-timeout``; if it does not, the stack is switched back to the
version it served before, so a bundle the function cannot serve does not stay live.

``prune`` deletes old versions (infra/bundle_prune.py says which and in what order); a switch checks
the version again after its update and switches back if a prune withdrew it meanwhile.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from function.bundle_format import MANIFEST, BundleError, parse_manifest
from training.publish import no_stored_object, object_exists, stored_sha256

VERSION_PARAMETER = "BundleVersion"
SWITCH_CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
"""What the template needs acknowledged: a role (IAM) and the AWS::Serverless transform (auto-expand)."""


class SwitchRefused(RuntimeError):
    """A switch (or a prune) was not made, or not wholly; the text says why and what to do."""


class NotServing(RuntimeError):
    """The API did not report the expected bundle in time; the text says what it last answered."""


@dataclass(frozen=True)
class StackBundle:
    """Where a stack's bundles are and which one it serves."""

    stack_name: str
    bucket: str
    prefix: str
    live_version: str | None
    """None: the stack has no BundleVersion parameter (deployed before versioned bundles)."""
    parameters: tuple[str, ...]
    status: str = ""


def stack_bundle(cloudformation: Any, stack_name: str) -> StackBundle:
    """Read the stack's artifacts bucket and prefix (outputs) and its BundleVersion (parameter)."""
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    missing = [name for name in ("ArtifactsBucketName", "ArtifactsPrefix") if not outputs.get(name)]
    if missing:
        raise SwitchRefused(f"the stack {stack_name} has no output {', '.join(missing)}")
    return StackBundle(
        stack_name=stack_name,
        bucket=outputs["ArtifactsBucketName"],
        prefix=outputs["ArtifactsPrefix"],
        live_version=parameters.get(VERSION_PARAMETER),
        parameters=tuple(parameters),
        status=stack.get("StackStatus", ""),
    )


def version_folders(s3: Any, bucket: str, prefix: str) -> list[str]:
    """Every folder directly under the prefix, published or not, sorted."""
    folders: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
        folders += [common["Prefix"][len(prefix) : -1] for common in page.get("CommonPrefixes", [])]
    return sorted(folders)


def published_versions(s3: Any, bucket: str, prefix: str) -> list[str]:
    """Folders under the prefix whose manifest.json names them: a half-published version has none yet,
    and a bundle under a longer prefix (``<prefix>dev/``, another stack's) names its own version."""
    folders = version_folders(s3, bucket, prefix)
    return [name for name in folders if manifest_naming(s3, bucket, f"{prefix}{name}/{MANIFEST}", name)]


def manifest_naming(s3: Any, bucket: str, key: str, version: str) -> bytes | None:
    """The bytes at ``key`` if they are a bundle manifest of this version; None otherwise."""
    from botocore.exceptions import ClientError

    try:
        raw = bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as error:
        if no_stored_object(error):
            return None
        raise
    try:
        return raw if parse_manifest(raw)["bundle_version"] == version else None
    except BundleError:
        return None


def check_published(s3: Any, bucket: str, prefix: str, version: str) -> None:
    """Refuse unless manifest.json names this version and every file it lists is there, as published."""
    where = f"s3://{bucket}/{prefix}{version}/"
    try:
        raw = s3.get_object(Bucket=bucket, Key=f"{prefix}{version}/{MANIFEST}")["Body"].read()
    except s3.exceptions.NoSuchKey:
        message = f"no bundle at {where} (publish it first: python -m training publish --versioned)"
        raise SwitchRefused(message) from None
    try:
        manifest = parse_manifest(raw)
    except BundleError as error:
        raise SwitchRefused(f"{where}{MANIFEST} is not a bundle manifest: {error}") from None
    if manifest["bundle_version"] != version:
        raise SwitchRefused(f"{where}{MANIFEST} is bundle {manifest['bundle_version']}, not {version}")
    for name, listed in sorted(manifest["files"].items()):
        stored = stored_sha256(s3, bucket, f"{prefix}{version}/{name}")
        if stored is None:
            raise SwitchRefused(f"{where} lacks {name}, which its manifest lists")
        if stored != listed["sha256"]:
            raise SwitchRefused(f"{where}{name} is not the file its manifest lists (sha256 differs)")


def switch(cloudformation: Any, s3: Any, stack_name: str, version: str) -> StackBundle:
    """Point the stack at a published version; returns the stack as it was. No update if already there."""
    before = _versioned(stack_bundle(cloudformation, stack_name))
    if before.live_version == version:
        return before
    check_published(s3, before.bucket, before.prefix, version)
    parameters: list[dict[str, Any]] = [
        {"ParameterKey": name, "UsePreviousValue": True}
        for name in before.parameters
        if name != VERSION_PARAMETER
    ]
    parameters.append({"ParameterKey": VERSION_PARAMETER, "ParameterValue": version})
    cloudformation.update_stack(
        StackName=stack_name,
        UsePreviousTemplate=True,
        Parameters=parameters,
        Capabilities=SWITCH_CAPABILITIES,
    )
    from botocore.exceptions import WaiterError

    try:
        cloudformation.get_waiter("stack_update_complete").wait(StackName=stack_name)
    except WaiterError:
        raise SwitchRefused(_failed_update(cloudformation, stack_name, version)) from None
    _check_still_published(cloudformation, s3, before, version)
    return before


def _check_still_published(cloudformation: Any, s3: Any, before: StackBundle, version: str) -> None:
    """The version checked again after the update: a prune may have withdrawn it meanwhile (its checks
    and ours can interleave; infra/bundle_prune.py). If so, switch back and say why."""
    try:
        check_published(s3, before.bucket, before.prefix, version)
    except SwitchRefused as gone:
        previous = before.live_version
        if previous:
            switch(cloudformation, s3, before.stack_name, previous)
        served = f"switched back to bundle {previous}" if previous else "it serves no bundle"
        raise SwitchRefused(f"{gone} after the switch (pruned meanwhile?); {served}") from None


def _failed_update(cloudformation: Any, stack_name: str, version: str) -> str:
    """What a failed switch left: the stack's status and reason, the first failed resource, and the
    version it serves now (a rolled-back update serves the earlier one)."""
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    text = f"the switch of {stack_name} to bundle {version} ended {stack['StackStatus']}"
    if stack.get("StackStatusReason"):
        text += f" ({stack['StackStatusReason']})"
    events = cloudformation.describe_stack_events(StackName=stack_name).get("StackEvents", [])
    failed = [e for e in events if str(e.get("ResourceStatus", "")).endswith("_FAILED")]
    if failed:
        first = failed[-1]  # events come newest first
        text += f"; first failure: {first['LogicalResourceId']}: {first.get('ResourceStatusReason', '')}"
    return text + f"; it serves bundle {parameters.get(VERSION_PARAMETER) or 'none'}"


def wait_until_serving(api_url: str, version: str, timeout_s: float, interval_s: float = 3.0) -> None:
    """Poll ``GET <api_url>/health`` until it answers 200 with this ``model_version`` (any, if "");
    raise NotServing."""
    url = api_url.rstrip("/") + "/health"
    deadline = time.monotonic() + timeout_s
    while True:
        seen = _health(url)
        if seen == f"200 {version}" or (not version and seen.startswith("200 ")):
            return
        if time.monotonic() + interval_s > deadline:
            raise NotServing(f"{url} did not report bundle {version} within {timeout_s:g} s (last: {seen})")
        time.sleep(interval_s)


def _health(url: str) -> str:
    """'<status> <model_version or status word>' of one /health request, or what went wrong."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        return f"no answer ({getattr(error, 'reason', error)})"
    try:
        body = json.loads(raw)
    except ValueError:
        return f"{status} (not JSON)"
    return f"{status} {body.get('model_version') or body.get('status')}"


def switch_and_verify(
    cloudformation: Any, s3: Any, stack_name: str, version: str, api_url: str, timeout_s: float
) -> StackBundle:
    """``switch``, then ``wait_until_serving``; on NotServing switch back (if there was a version before)
    and raise NotServing saying so."""
    before = switch(cloudformation, s3, stack_name, version)
    try:
        wait_until_serving(api_url, version, timeout_s)
    except NotServing as error:
        previous = before.live_version
        if not previous or previous == version:
            raise
        switch(cloudformation, s3, stack_name, previous)
        raise NotServing(f"{error}; switched back to bundle {previous}") from None
    return before


def stable_stack(cloudformation: Any, stack_name: str) -> StackBundle:
    """The stack's bundle, refused while an update is under way (it may be a switch to any version) or if
    its template predates versioned bundles."""
    stack = _versioned(stack_bundle(cloudformation, stack_name))
    if stack.status.endswith("_IN_PROGRESS"):
        raise SwitchRefused(f"{stack_name} is {stack.status}: try again when the stack is not being updated")
    return stack


def _versioned(stack: StackBundle) -> StackBundle:
    """The stack, refused if its template predates versioned bundles (no BundleVersion parameter)."""
    if stack.live_version is None:
        raise SwitchRefused(
            f"the stack {stack.stack_name} has no {VERSION_PARAMETER} parameter (deployed from an older "
            "template.yaml): deploy the stack with infra/deploy.sh first"
        )
    return stack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.bundle_versions", description=__doc__.splitlines()[0]
    )
    parser.add_argument("command", choices=["list", "switch", "verify", "prune"])
    parser.add_argument("--stack-name", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--version", help="switch: the bundle_version to serve")
    parser.add_argument(
        "--verify-url",
        help="switch, verify: the API's URL; its /health must report the version (switch: else switch back)",
    )
    parser.add_argument("--verify-timeout", type=float, default=120.0, help="seconds (default 120)")
    parser.add_argument("--json", action="store_true", help="list: one JSON object instead of lines")
    parser.add_argument(
        "--keep",
        type=int,
        default=2,
        help="prune: keep the served version, this many newest others and this many older (default 2)",
    )
    parser.add_argument(
        "--delete", action="store_true", help="prune: delete (without it, only say what would go)"
    )
    args = parser.parse_args(argv)
    if args.command == "switch" and not args.version:
        parser.error("switch needs --version")
    if args.command == "verify" and not args.verify_url:
        parser.error("verify needs --verify-url")
    if args.command == "prune" and args.keep < 1:
        parser.error("--keep must be at least 1: the version to roll back to stays")

    import boto3
    from botocore.exceptions import ClientError

    cloudformation = boto3.client("cloudformation", region_name=args.region)
    s3 = boto3.client("s3", region_name=args.region)
    try:
        if args.command == "list":
            stack = stack_bundle(cloudformation, args.stack_name)
            versions = published_versions(s3, stack.bucket, stack.prefix)
            if args.json:
                print(json.dumps({"live": stack.live_version, "published": versions}))
            for version in [] if args.json else versions:
                print(("* " if version == stack.live_version else "  ") + version)
            return 0
        if args.command == "prune":
            from infra.bundle_prune import prune

            prune(cloudformation, s3, args.stack_name, args.keep, args.delete)
            return 0
        if args.command == "verify":
            stack = stack_bundle(cloudformation, args.stack_name)
            live = stack.live_version or ""
            if not live and not object_exists(s3, stack.bucket, stack.prefix + MANIFEST):
                print(f"{args.stack_name} serves no bundle yet: nothing to verify (switch to one first)")
                return 0
            wait_until_serving(args.verify_url, live, args.verify_timeout)
            print(f"{args.verify_url} serves bundle {live}")
            return 0
        if args.verify_url:
            before = switch_and_verify(
                cloudformation, s3, args.stack_name, args.version, args.verify_url, args.verify_timeout
            )
        else:
            before = switch(cloudformation, s3, args.stack_name, args.version)
    except (SwitchRefused, NotServing, ClientError) as error:
        print(f"bundle_versions: {error}", file=sys.stderr)
        return 1
    if before.live_version == args.version:
        print(f"{args.stack_name} already serves bundle {args.version}")
    else:
        print(f"{args.stack_name} now serves bundle {args.version} (was {before.live_version or 'none'})")
    if args.verify_url:
        print(f"{args.verify_url} serves bundle {args.version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
