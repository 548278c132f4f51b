"""``python -m infra.bundle_versions``: list the published bundles and switch a stack between them, for real
against moto's S3 and CloudFormation on loopback (the stack's parameters are template.yaml's own)."""

from __future__ import annotations

import json
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
