"""``python -m infra.bundle_versions``: list the published bundles and switch a stack between them, for real
against moto's S3 and CloudFormation on loopback (the stack's parameters are template.yaml's own)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.bundle_versions import main as bundle_versions
from infra.cfn_yaml import load_template
from infra.local_s3 import REGION, LocalS3Server
from infra.locations import RELEASE_BUNDLE, REPO_ROOT
from tests.aws_support import client
from training.publish import publish_bundle

PREFIX = "bundles/"
ALARM_EMAIL = "on-call@example.org"
RELEASE_VERSION = json.loads((RELEASE_BUNDLE / "manifest.json").read_text())["bundle_version"]


def create_stack(server: LocalS3Server, name: str, parameters: dict[str, Any] | None = None) -> str:
    """A stack with template.yaml's parameters (these values given), an artifacts bucket and its outputs;
    returns the bucket's name."""
    if parameters is None:
        parameters = load_template(REPO_ROOT / "template.yaml")["Parameters"]
    given = {name: str(p.get("Default", "")) for name, p in parameters.items()}
    given["ArtifactsPrefix"] = PREFIX
    if "AlarmEmail" in given:
        given["AlarmEmail"] = ALARM_EMAIL
    template = {
        "Parameters": parameters,
        "Resources": {"Artifacts": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {
            "ArtifactsBucketName": {"Value": {"Ref": "Artifacts"}},
            "ArtifactsPrefix": {"Value": {"Ref": "ArtifactsPrefix"}},
        },
    }
    cloudformation = client(server, "cloudformation")
    cloudformation.create_stack(
        StackName=name,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in given.items()],
    )
    outputs = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["Outputs"]
    return next(o["OutputValue"] for o in outputs if o["OutputKey"] == "ArtifactsBucketName")


def parameters_of(server: LocalS3Server, name: str) -> dict[str, str]:
    stack = client(server, "cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}


def listed(name: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    assert bundle_versions(["list", "--stack-name", name, "--region", REGION, "--json"]) == 0
    return dict(json.loads(capsys.readouterr().out))


def switch(name: str, version: str) -> int:
    return bundle_versions(["switch", "--stack-name", name, "--region", REGION, "--version", version])


def test_a_stack_switches_to_a_published_version_and_keeps_its_other_parameters(
    on_aws_server: LocalS3Server, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "cxr-switch"
    bucket = create_stack(on_aws_server, name)
    publish_bundle(RELEASE_BUNDLE, bucket, PREFIX, versioned=True)
    before = parameters_of(on_aws_server, name)
    assert listed(name, capsys) == {"live": "", "published": [RELEASE_VERSION]}

    assert switch(name, RELEASE_VERSION) == 0
    assert f"now serves bundle {RELEASE_VERSION} (was none)" in capsys.readouterr().out
    after = parameters_of(on_aws_server, name)
    assert after == {**before, "BundleVersion": RELEASE_VERSION}
    assert after["AlarmEmail"] == ALARM_EMAIL
    assert listed(name, capsys)["live"] == RELEASE_VERSION

    assert switch(name, RELEASE_VERSION) == 0
    assert "already serves" in capsys.readouterr().out


def test_a_version_not_wholly_published_is_not_switched_to(
    on_aws_server: LocalS3Server, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "cxr-switch-refused"
    bucket = create_stack(on_aws_server, name)
    s3 = client(on_aws_server, "s3")

    def refused(version: str) -> str:
        capsys.readouterr()
        assert switch(name, version) == 1
        assert parameters_of(on_aws_server, name)["BundleVersion"] == "", "the stack was not touched"
        return capsys.readouterr().err

    assert "no bundle at" in refused(RELEASE_VERSION)  # never published

    published = publish_bundle(RELEASE_BUNDLE, bucket, PREFIX, versioned=True).prefix
    s3.put_object(Bucket=bucket, Key=published + "gate.json", Body=b"written over by hand")
    assert "gate.json is not the file its manifest lists" in refused(RELEASE_VERSION)
    s3.delete_object(Bucket=bucket, Key=published + "gate.json")
    assert "lacks gate.json" in refused(RELEASE_VERSION)

    manifest = (RELEASE_BUNDLE / "manifest.json").read_bytes()
    s3.put_object(Bucket=bucket, Key=f"{PREFIX}elsewhere/manifest.json", Body=manifest)  # copied by hand
    assert f"is bundle {RELEASE_VERSION}, not elsewhere" in refused("elsewhere")


def test_a_stack_from_before_versioned_bundles_is_told_to_deploy_first(
    on_aws_server: LocalS3Server, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "cxr-switch-old-stack"
    old_parameters = {"ArtifactsPrefix": {"Type": "String"}}
    create_stack(on_aws_server, name, old_parameters)
    assert switch(name, RELEASE_VERSION) == 1
    assert "has no BundleVersion parameter" in capsys.readouterr().err


def test_the_switch_is_one_update_of_the_stacks_own_template_and_a_rollback_is_reported(
    on_aws_server: LocalS3Server,
) -> None:
    """What moto cannot show: the exact update request (the template's capabilities acknowledged, nothing
    but the parameters given, so tags and notifications stay) and CloudFormation rolling it back. The
    CloudFormation side is botocore's Stubber answering as AWS does; the bundle is on the S3 server."""
    from datetime import UTC, datetime

    import boto3
    from botocore.stub import Stubber

    from infra.bundle_versions import SwitchRefused, switch

    bucket, name = "cxr-stubbed-switch", "cxr-stubbed"
    s3 = client(on_aws_server, "s3")
    s3.create_bucket(Bucket=bucket)
    publish_bundle(RELEASE_BUNDLE, bucket, PREFIX, versioned=True)
    cloudformation = boto3.client(
        "cloudformation", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )

    def described(status: str, reason: str = "") -> dict[str, Any]:
        stack = {
            "StackName": name,
            "CreationTime": datetime(2026, 12, 7, tzinfo=UTC),
            "StackStatus": status,
            "Parameters": [
                {"ParameterKey": "BundleVersion", "ParameterValue": "20261128T050419Z-7af3b975"},
                {"ParameterKey": "AlarmEmail", "ParameterValue": ALARM_EMAIL},
            ],
            "Outputs": [
                {"OutputKey": "ArtifactsBucketName", "OutputValue": bucket},
                {"OutputKey": "ArtifactsPrefix", "OutputValue": PREFIX},
            ],
        }
        return {"Stacks": [{**stack, "StackStatusReason": reason} if reason else stack]}

    this_stack = {"StackName": name}
    stubber = Stubber(cloudformation)
    stubber.add_response("describe_stacks", described("UPDATE_COMPLETE"), this_stack)
    stubber.add_response(
        "update_stack",
        {"StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/cxr-stubbed/1"},
        {
            "StackName": name,
            "UsePreviousTemplate": True,
            "Parameters": [
                {"ParameterKey": "AlarmEmail", "UsePreviousValue": True},
                {"ParameterKey": "BundleVersion", "ParameterValue": RELEASE_VERSION},
            ],
            "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        },
    )
    rolled_back = described("UPDATE_ROLLBACK_COMPLETE")
    stubber.add_response("describe_stacks", rolled_back, this_stack)  # the waiter's first look: failed
    stubber.add_response("describe_stacks", rolled_back, this_stack)
    failure = 'Resource handler returned message: "Lambda function update failed"'

    def event(resource: str, status: str, **more: Any) -> dict[str, Any]:
        when = datetime(2026, 12, 7, tzinfo=UTC)
        return {"StackId": "s", "EventId": resource, "StackName": name, "LogicalResourceId": resource,
                "Timestamp": when, "ResourceStatus": status, **more}  # fmt: skip

    events = [  # newest first, as CloudFormation lists them
        event(name, "UPDATE_ROLLBACK_COMPLETE"),
        event("DiagnosisFunction", "UPDATE_FAILED", ResourceStatusReason=failure),
    ]
    stubber.add_response("describe_stack_events", {"StackEvents": events}, this_stack)

    with stubber, pytest.raises(SwitchRefused) as refused:
        switch(cloudformation, s3, name, RELEASE_VERSION)

    stubber.assert_no_pending_responses()
    message = str(refused.value)
    assert f"to bundle {RELEASE_VERSION} ended UPDATE_ROLLBACK_COMPLETE" in message
    assert f"first failure: DiagnosisFunction: {failure}" in message
    assert message.endswith("it serves bundle 20261128T050419Z-7af3b975")


# ---------------------------------------------------------------- prune

OLDER = ("20261101T000000Z-aaaaaaaa", "20261102T000000Z-bbbbbbbb", "20261103T000000Z-cccccccc")
NEWER = "20261231T000000Z-dddddddd"


def bundle_named(tmp_path: Path, version: str) -> Path:
    """The release's served files under another bundle_version (what another build would publish)."""
    from function.bundle_format import SERVED_FILES

    manifest = json.loads((RELEASE_BUNDLE / "manifest.json").read_text())
    manifest["bundle_version"] = version
    manifest["files"] = {name: manifest["files"][name] for name in SERVED_FILES}
    folder = tmp_path / version
    folder.mkdir()
    for name in SERVED_FILES:
        (folder / name).symlink_to(RELEASE_BUNDLE / name)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def keys_under(server: LocalS3Server, bucket: str, prefix: str) -> set[str]:
    pages = client(server, "s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def test_prune_keeps_the_served_and_the_newest_versions_and_deletes_only_when_told(
    on_aws_server: LocalS3Server, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    name = "cxr-prune"
    bucket = create_stack(on_aws_server, name)
    for version in [*OLDER, NEWER]:
        publish_bundle(bundle_named(tmp_path, version), bucket, PREFIX, versioned=True)
    publish_bundle(RELEASE_BUNDLE, bucket, PREFIX, versioned=True)
    half_published = f"{PREFIX}20261001T000000Z-eeeeeeee/model.tflite"  # a publish cut off: no manifest
    client(on_aws_server, "s3").put_object(Bucket=bucket, Key=half_published, Body=b"...")
    assert switch(name, OLDER[1]) == 0  # an older version serves (a rollback), so the newest are not it
    before = keys_under(on_aws_server, bucket, PREFIX)

    def prune(*more: str) -> str:
        capsys.readouterr()
        assert bundle_versions(["prune", "--stack-name", name, "--region", REGION, "--keep", "2", *more]) == 0
        return capsys.readouterr().out

    said = prune()
    assert keys_under(on_aws_server, bucket, PREFIX) == before, "without --delete nothing goes"
    assert f"would delete {OLDER[0]} (4 files" in said and f"would delete {OLDER[2]}" in said
    assert f"keep   {OLDER[1]} (served)" in said and "20261001T000000Z-eeeeeeee (no manifest" in said

    said = prune("--delete")
    assert f"deleted {OLDER[0]}" in said and f"deleted {OLDER[2]}" in said
    assert listed(name, capsys) == {"live": OLDER[1], "published": [OLDER[1], RELEASE_VERSION, NEWER]}
    gone = {key for key in before if key.startswith((f"{PREFIX}{OLDER[0]}/", f"{PREFIX}{OLDER[2]}/"))}
    assert len(gone) == 8 and keys_under(on_aws_server, bucket, PREFIX) == before - gone
    assert half_published in keys_under(on_aws_server, bucket, PREFIX)
    assert switch(name, OLDER[0]) == 1, "a pruned version cannot be switched to"


def test_prune_leaves_a_version_the_stack_was_switched_to_meanwhile(
    on_aws_server: LocalS3Server, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Between the plan and a deletion someone rolls back to a version the plan would delete: prune looks
    again before each version, stops, and that version's files all stay."""
    from infra.bundle_versions import SwitchRefused, prune

    name = "cxr-prune-race"
    bucket = create_stack(on_aws_server, name)
    for version in [*OLDER, NEWER]:
        publish_bundle(bundle_named(tmp_path, version), bucket, PREFIX, versioned=True)
    assert switch(name, NEWER) == 0
    before = keys_under(on_aws_server, bucket, PREFIX)
    cloudformation, described = client(on_aws_server, "cloudformation"), []

    def roll_back_on_the_second_look(**_: Any) -> None:
        described.append(1)
        if len(described) == 2:
            assert switch(name, OLDER[0]) == 0

    cloudformation.meta.events.register(
        "before-call.cloudformation.DescribeStacks", roll_back_on_the_second_look
    )
    with pytest.raises(SwitchRefused, match=f"was switched to {OLDER[0]} meanwhile"):
        prune(cloudformation, client(on_aws_server, "s3"), name, keep=1, delete=True, say=lambda _: None)
    assert keys_under(on_aws_server, bucket, PREFIX) == before
    assert parameters_of(on_aws_server, name)["BundleVersion"] == OLDER[0]


def test_prune_refuses_while_the_stack_is_updating_and_keeps_at_least_one_other() -> None:
    from infra.bundle_versions import PrunePlan, SwitchRefused, prune, prune_plan

    assert prune_plan(["a", "b", "c", "d"], live="b", keep=1) == PrunePlan(
        kept=("b", "d"), deleted=("a", "c")
    )
    assert prune_plan(["a", "b", "c", "d"], live="", keep=2).deleted == ("a", "b")
    assert prune_plan(["a", "b"], live="z", keep=5).deleted == ()
    with pytest.raises(SwitchRefused, match="at least 1"):
        prune_plan(["a", "b"], live="b", keep=0)

    import boto3
    from botocore.stub import Stubber

    cloudformation = boto3.client(
        "cloudformation", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    updating = {
        "StackName": "cxr-updating",
        "CreationTime": "2026-12-07T00:00:00Z",
        "StackStatus": "UPDATE_IN_PROGRESS",  # a switch (or a deploy) under way: any version may be next
        "Parameters": [{"ParameterKey": "BundleVersion", "ParameterValue": "a"}],
        "Outputs": [
            {"OutputKey": "ArtifactsBucketName", "OutputValue": "bucket"},
            {"OutputKey": "ArtifactsPrefix", "OutputValue": PREFIX},
        ],
    }
    with Stubber(cloudformation) as stubber, pytest.raises(SwitchRefused, match="is UPDATE_IN_PROGRESS"):
        stubber.add_response("describe_stacks", {"Stacks": [updating]}, {"StackName": "cxr-updating"})
        prune(cloudformation, None, "cxr-updating", keep=1, delete=True)
