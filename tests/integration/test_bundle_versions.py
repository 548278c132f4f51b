"""``python -m infra.bundle_versions``: list the published bundles and switch a stack between them, for real
against moto's S3 and CloudFormation on loopback (the stack's parameters are template.yaml's own)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from infra.bundle_versions import main as bundle_versions
from infra.cfn_yaml import load_template
from infra.local_s3 import REGION, LocalS3Server
from infra.locations import RELEASE_BUNDLE, REPO_ROOT
from tests.aws_support import client
from training.publish import Published, publish_bundle

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


def stack_with_versions(server: LocalS3Server, name: str, tmp_path: Path, serving: str) -> str:
    """A stack whose prefix holds OLDER, NEWER and the release, serving ``serving``; returns the bucket."""
    bucket = create_stack(server, name)
    for version in [*OLDER, NEWER]:
        publish_bundle(bundle_named(tmp_path, version), bucket, PREFIX, versioned=True)
    publish_bundle(RELEASE_BUNDLE, bucket, PREFIX, versioned=True)
    assert switch(name, serving) == 0
    return bucket


def run_prune(name: str, capsys: pytest.CaptureFixture[str], *more: str) -> str:
    capsys.readouterr()
    assert bundle_versions(["prune", "--stack-name", name, "--region", REGION, *more]) == 0
    return capsys.readouterr().out


def test_prune_keeps_the_served_the_newest_and_the_rollback_versions_and_deletes_only_when_told(
    on_aws_server: LocalS3Server, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Serving OLDER[1] after a rollback, --keep 1 keeps it, the newest (NEWER) and the one before it
    (OLDER[0]); another stack's bundle under a longer prefix and a publish cut off are not versions."""
    name = "cxr-prune"
    bucket = stack_with_versions(on_aws_server, name, tmp_path, serving=OLDER[1])
    s3 = client(on_aws_server, "s3")
    publish_bundle(RELEASE_BUNDLE, bucket, f"{PREFIX}dev/")  # another stack's prefix, inside this one
    half_published = f"{PREFIX}20261001T000000Z-eeeeeeee/model.tflite"  # no manifest yet
    s3.put_object(Bucket=bucket, Key=half_published, Body=b"...")
    before = keys_under(on_aws_server, bucket, PREFIX)
    assert listed(name, capsys)["published"] == [*OLDER, RELEASE_VERSION, NEWER]

    said = run_prune(name, capsys, "--keep", "1")
    assert keys_under(on_aws_server, bucket, PREFIX) == before, "without --delete nothing goes"
    assert f"would delete {OLDER[2]} (4 files" in said and f"would delete {RELEASE_VERSION}" in said
    assert f"keep   {OLDER[1]} (served)" in said and f"keep   {OLDER[0]}\n" in said
    assert "keep   dev (not a published version" in said and "20261001T000000Z-eeeeeeee (not a" in said
    assert "keeps no object versions: a deleted file is gone for good" in said

    said = run_prune(name, capsys, "--keep", "1", "--delete")
    assert f"deleted {OLDER[2]}" in said and f"deleted {RELEASE_VERSION}" in said
    assert listed(name, capsys) == {"live": OLDER[1], "published": [OLDER[0], OLDER[1], NEWER]}
    pruned = (f"{PREFIX}{OLDER[2]}/", f"{PREFIX}{RELEASE_VERSION}/")
    gone = {key for key in before if key.startswith(pruned)}
    assert keys_under(on_aws_server, bucket, PREFIX) == before - gone
    assert {key for key in before if key.startswith(f"{PREFIX}dev/")} <= keys_under(
        on_aws_server, bucket, PREFIX
    )
    assert switch(name, OLDER[2]) == 1, "a pruned version cannot be switched to"


def point_stack_at(server: LocalS3Server, name: str, version: str) -> None:
    """The update a switch makes once its checks have passed (here: without them)."""
    parameters: list[dict[str, Any]] = [
        {"ParameterKey": key, "UsePreviousValue": True}
        for key in parameters_of(server, name)
        if key != "BundleVersion"
    ]
    parameters.append({"ParameterKey": "BundleVersion", "ParameterValue": version})
    cloudformation = client(server, "cloudformation")
    cloudformation.update_stack(StackName=name, UsePreviousTemplate=True, Parameters=parameters)
    cloudformation.get_waiter("stack_update_complete").wait(StackName=name)


@pytest.mark.parametrize(
    ("look", "expected"), [(2, "it is not deleted"), (3, "its manifest is put back and nothing is deleted")]
)
def test_prune_stops_if_the_stack_is_switched_to_the_version_before_or_while_it_is_withdrawn(
    on_aws_server: LocalS3Server, tmp_path: Path, look: int, expected: str
) -> None:
    """Someone rolls back to a version the plan deletes. Before its manifest goes (prune's second look at
    the stack): it is not touched. Between the manifest's deletion and the third look (a switch whose
    checks passed just before): the manifest is put back. Either way every file stays and it can be served."""
    from infra.bundle_prune import prune
    from infra.bundle_versions import SwitchRefused, check_published

    name = f"cxr-prune-race-{look}"
    bucket = stack_with_versions(on_aws_server, name, tmp_path, serving=NEWER)
    before = keys_under(on_aws_server, bucket, PREFIX)
    cloudformation, looks = client(on_aws_server, "cloudformation"), []

    def roll_back(**_: Any) -> None:
        looks.append(1)
        if len(looks) == look:
            point_stack_at(on_aws_server, name, OLDER[0])

    cloudformation.meta.events.register("before-call.cloudformation.DescribeStacks", roll_back)
    with pytest.raises(SwitchRefused, match=f"switched to {OLDER[0]} meanwhile; {expected}"):
        prune(cloudformation, client(on_aws_server, "s3"), name, keep=1, delete=True, say=lambda _: None)
    assert keys_under(on_aws_server, bucket, PREFIX) == before
    check_published(client(on_aws_server, "s3"), bucket, PREFIX, OLDER[0])


def test_a_switch_whose_version_is_withdrawn_during_its_update_switches_back(
    on_aws_server: LocalS3Server, tmp_path: Path
) -> None:
    """The other order of the same race: the switch's checks pass, a prune withdraws the version, then
    the update lands. The switch checks again after the update and goes back to what was served."""
    name = "cxr-switch-withdrawn"
    bucket = stack_with_versions(on_aws_server, name, tmp_path, serving=NEWER)
    s3 = client(on_aws_server, "s3")

    def withdraw(**_: Any) -> None:
        s3.delete_object(Bucket=bucket, Key=f"{PREFIX}{OLDER[0]}/manifest.json")

    from infra.bundle_versions import SwitchRefused
    from infra.bundle_versions import switch as switch_stack

    cloudformation = client(on_aws_server, "cloudformation")
    cloudformation.meta.events.register("before-call.cloudformation.UpdateStack", withdraw, unique_id="w")
    with pytest.raises(SwitchRefused, match=f"after the switch .*; switched back to bundle {NEWER}"):
        switch_stack(cloudformation, s3, name, OLDER[0])
    assert parameters_of(on_aws_server, name)["BundleVersion"] == NEWER


def test_a_prune_cut_off_is_finished_by_the_next_one(
    on_aws_server: LocalS3Server, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from infra.bundle_prune import prune

    name = "cxr-prune-cut-off"
    bucket = stack_with_versions(on_aws_server, name, tmp_path, serving=NEWER)
    s3 = client(on_aws_server, "s3")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})

    def cut_off(**_: Any) -> None:
        raise ConnectionError("the network went away")

    s3.meta.events.register("before-call.s3.DeleteObjects", cut_off, unique_id="cut")
    with pytest.raises(ConnectionError):
        prune(client(on_aws_server, "cloudformation"), s3, name, keep=1, delete=True, say=lambda _: None)
    s3.meta.events.unregister("before-call.s3.DeleteObjects", unique_id="cut")
    withdrawn = f"{PREFIX}{OLDER[0]}/"
    assert f"{withdrawn}.pruning" in keys_under(on_aws_server, bucket, withdrawn)
    assert OLDER[0] not in listed(name, capsys)["published"]

    said = run_prune(name, capsys, "--keep", "1", "--delete")
    assert "keeps object versions: a deleted file stays recoverable" in said
    assert f"deleted {OLDER[0]}" in said
    assert keys_under(on_aws_server, bucket, withdrawn) == set()
    assert listed(name, capsys)["published"] == [RELEASE_VERSION, NEWER]


def test_prune_refuses_while_the_stack_is_updating_and_keeps_at_least_one_other() -> None:
    import boto3
    from botocore.stub import Stubber

    from infra.bundle_prune import PrunePlan, prune, prune_plan
    from infra.bundle_versions import SwitchRefused

    assert prune_plan(["a", "b", "c", "d"], live="b", keep=1) == PrunePlan(
        kept=("a", "b", "d"), deleted=("c",)
    )
    assert prune_plan(["a", "b", "c", "d"], live="d", keep=1) == PrunePlan(
        kept=("c", "d"), deleted=("a", "b")
    )
    assert prune_plan(["a", "b", "c", "d"], live="", keep=2).deleted == ("a", "b")
    assert prune_plan(["a", "b"], live="z", keep=5).deleted == ()
    with pytest.raises(SwitchRefused, match="at least 1"):
        prune_plan(["a", "b"], live="b", keep=0)

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


def publish_with_hook(bundle: Path, bucket: str, event: str, hook: Callable[..., None]) -> Published:
    """``publish_bundle --versioned`` with ``hook`` on one of its client's events (its client comes from
    boto3's default session)."""
    import boto3

    session = boto3.Session()
    session.events.register(event, hook)
    original = boto3.DEFAULT_SESSION
    boto3.DEFAULT_SESSION = session
    try:
        return publish_bundle(bundle, bucket, PREFIX, versioned=True)
    finally:
        boto3.DEFAULT_SESSION = original


def cut_off_prune(cloudformation: Any, s3: Any, name: str) -> None:
    """A prune that withdraws OLDER[0] (marker written, manifest deleted) and is cut off before it
    deletes any file."""
    from infra.bundle_prune import prune

    s3.meta.events.register("before-call.s3.DeleteObjects", lambda **_: 1 / 0, unique_id="cut")
    with pytest.raises(ZeroDivisionError):
        prune(cloudformation, s3, name, keep=1, delete=True, say=lambda _: None)
    s3.meta.events.unregister("before-call.s3.DeleteObjects", unique_id="cut")


def test_a_publish_of_a_version_a_prune_is_withdrawing_fails_and_leaves_no_manifest_a_switch_could_take(
    on_aws_server: LocalS3Server, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """What infra/deploy.sh does on every run (publish the release again) while a prune deletes that
    version. Its marker there before: the publish stops before writing. The prune starting while the
    publish runs (after it found the files there, before its manifest): the publish takes back the
    manifest it wrote, so no switch finds one before the prune's deletion, and fails. After the prune,
    publishing again restores the version."""
    from infra.bundle_versions import check_published
    from training.publish import VersionBeingPruned

    name = "cxr-publish-while-withdrawn"
    (tmp_path / "built").mkdir()
    bucket = stack_with_versions(on_aws_server, name, tmp_path / "built", serving=NEWER)
    s3, cloudformation = client(on_aws_server, "s3"), client(on_aws_server, "cloudformation")
    folder = f"{PREFIX}{OLDER[0]}/"
    cut_off_prune(cloudformation, s3, name)
    again = bundle_named(tmp_path, OLDER[0])
    before = keys_under(on_aws_server, bucket, folder)
    with pytest.raises(VersionBeingPruned, match=rf"{OLDER[0]}/\.pruning: a prune is deleting bundle"):
        publish_bundle(again, bucket, PREFIX, versioned=True)
    assert keys_under(on_aws_server, bucket, folder) == before, "nothing written"

    run_prune(name, capsys, "--keep", "1", "--delete")  # finishes the cut-off one, deletes OLDER[1], [2]
    publish_bundle(again, bucket, PREFIX, versioned=True)
    looks: list[int] = []

    def prune_meanwhile(params: dict[str, Any], **_: Any) -> None:
        if params.get("Key") == folder + "manifest.json":
            looks.append(1)
            if len(looks) == 2:  # after the publish found every file there, before it looks at the manifest
                cut_off_prune(cloudformation, s3, name)

    with pytest.raises(VersionBeingPruned, match="a prune is deleting bundle"):
        publish_with_hook(again, bucket, "before-parameter-build.s3.HeadObject", prune_meanwhile)
    assert folder + "manifest.json" not in keys_under(on_aws_server, bucket, folder)
    assert switch(name, OLDER[0]) == 1, "no manifest, no switch"
    run_prune(name, capsys, "--keep", "1", "--delete")
    publish_bundle(again, bucket, PREFIX, versioned=True)
    check_published(s3, bucket, PREFIX, OLDER[0])


@dataclass
class PruneDuringPublish:
    """A stack serving NEWER whose prune (keep 1, delete) runs whole at the publish's ``at_look``-th HEAD
    of OLDER[0]'s manifest."""

    server: LocalS3Server
    name: str
    bucket: str
    at_look: int
    looks: list[int] = field(default_factory=list)

    @property
    def folder(self) -> str:
        return f"{PREFIX}{OLDER[0]}/"

    def publish(self, bundle: Path) -> Published:
        from infra.bundle_prune import prune

        s3, cloudformation = client(self.server, "s3"), client(self.server, "cloudformation")

        def prune_meanwhile(params: dict[str, Any], **_: Any) -> None:
            if params.get("Key") == self.folder + "manifest.json":
                self.looks.append(1)
                if len(self.looks) == self.at_look:
                    prune(cloudformation, s3, self.name, keep=1, delete=True, say=lambda _: None)

        return publish_with_hook(bundle, self.bucket, "before-parameter-build.s3.HeadObject", prune_meanwhile)


def prune_during_publish(
    server: LocalS3Server, tmp_path: Path, name: str, at_look: int
) -> PruneDuringPublish:
    (tmp_path / "built").mkdir()
    bucket = stack_with_versions(server, name, tmp_path / "built", serving=NEWER)
    return PruneDuringPublish(server, name, bucket, at_look)


def test_a_publish_during_which_a_prune_deleted_its_version_puts_the_files_back(
    on_aws_server: LocalS3Server, tmp_path: Path
) -> None:
    """A prune that ran whole while the publish wrote (after it found the files there, before its
    manifest): the files it took are put back, and the publish ends with the whole version there."""
    from infra.bundle_versions import check_published

    race = prune_during_publish(on_aws_server, tmp_path, "cxr-publish-while-pruned", at_look=2)
    published = race.publish(bundle_named(tmp_path, OLDER[0]))
    assert race.looks and not keys_under(on_aws_server, race.bucket, f"{PREFIX}{OLDER[1]}/"), "the prune ran"
    assert sorted(key.removeprefix(race.folder) for key in published.written) == [
        "average.png", "gate.json", "manifest.json", "model.tflite"
    ]  # fmt: skip
    assert published.unchanged == []
    check_published(client(on_aws_server, "s3"), race.bucket, PREFIX, OLDER[0])


def test_a_publish_that_finds_files_gone_after_its_second_write_fails_and_takes_back_its_manifest(
    on_aws_server: LocalS3Server, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A prune runs whole while the publish checks what it wrote, after it found the files there, before
    the manifest (its third look at it): the publish puts the manifest back, then finds the files gone. It
    fails, and takes back the manifest it wrote (else ``list`` shows a version whose files are not there,
    and every switch to it fails its check); publishing again restores the version."""
    from infra.bundle_versions import check_published
    from training.publish import VersionBeingPruned

    race = prune_during_publish(on_aws_server, tmp_path, "cxr-publish-pruned-twice", at_look=3)
    again = bundle_named(tmp_path, OLDER[0])
    with pytest.raises(VersionBeingPruned, match=r"gone from .* after it was written twice"):
        race.publish(again)
    assert len(race.looks) > 3, "the prune ran"
    assert race.folder + "manifest.json" not in keys_under(on_aws_server, race.bucket, race.folder)
    assert OLDER[0] not in listed(race.name, capsys)["published"]
    publish_bundle(again, race.bucket, PREFIX, versioned=True)
    check_published(client(on_aws_server, "s3"), race.bucket, PREFIX, OLDER[0])


def test_a_prune_cut_off_while_putting_a_version_back_leaves_no_marker_that_stops_its_publish(
    on_aws_server: LocalS3Server, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A rollback to OLDER[0] slips in while a prune withdraws it; the prune puts its manifest back and is
    cut off before removing its marker. Publishing OLDER[0] (a redeploy) is refused while the marker is
    there; the next prune keeps the version and removes the marker, and the publish goes through."""
    from infra.bundle_prune import prune
    from training.publish import VersionBeingPruned

    name = "cxr-prune-put-back-cut"
    (tmp_path / "built").mkdir()
    bucket = stack_with_versions(on_aws_server, name, tmp_path / "built", serving=NEWER)
    s3, cloudformation, looks = client(on_aws_server, "s3"), client(on_aws_server, "cloudformation"), []

    def roll_back(**_: Any) -> None:
        looks.append(1)
        if len(looks) == 3:  # prune's look after withdrawing OLDER[0]
            point_stack_at(on_aws_server, name, OLDER[0])

    def cut_off(params: dict[str, Any], **_: Any) -> None:
        if str(params.get("Key", "")).endswith("/.pruning"):
            raise ConnectionError("the network went away")

    cloudformation.meta.events.register("before-call.cloudformation.DescribeStacks", roll_back)
    s3.meta.events.register("before-parameter-build.s3.DeleteObject", cut_off, unique_id="cut")
    with pytest.raises(ConnectionError):
        prune(cloudformation, s3, name, keep=1, delete=True, say=lambda _: None)
    s3.meta.events.unregister("before-parameter-build.s3.DeleteObject", unique_id="cut")
    again = bundle_named(tmp_path, OLDER[0])
    with pytest.raises(VersionBeingPruned, match="a prune is deleting bundle"):
        publish_bundle(again, bucket, PREFIX, versioned=True)

    said = run_prune(name, capsys, "--keep", "1")
    assert (
        f"keep   {OLDER[0]} (a prune cut off left it half withdrawn, served: --delete puts it back)" in said
    )
    said = run_prune(name, capsys, "--keep", "1", "--delete")
    assert f"keep   {OLDER[0]} (a prune cut off left it half withdrawn, served: put back)" in said
    assert f"{PREFIX}{OLDER[0]}/.pruning" not in keys_under(on_aws_server, bucket, PREFIX)
    assert publish_bundle(again, bucket, PREFIX, versioned=True).written == []


def test_a_served_version_a_prune_cut_off_half_deleted_is_not_put_back_without_its_files(
    on_aws_server: LocalS3Server, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A prune deletes OLDER[0]'s files and is cut off before its marker; the stack then serves OLDER[0]
    (a switch whose switch-back never ran). The next prune does not put back a manifest without its files:
    it removes the marker and says to publish again, which restores the version."""
    from infra.bundle_prune import prune
    from infra.bundle_versions import check_published

    name = "cxr-prune-half-deleted-served"
    (tmp_path / "built").mkdir()
    bucket = stack_with_versions(on_aws_server, name, tmp_path / "built", serving=NEWER)
    s3, cloudformation = client(on_aws_server, "s3"), client(on_aws_server, "cloudformation")

    def cut_off(params: dict[str, Any], **_: Any) -> None:
        if str(params.get("Key", "")).endswith("/.pruning"):
            raise ConnectionError("the network went away")

    s3.meta.events.register("before-parameter-build.s3.DeleteObject", cut_off, unique_id="cut")
    with pytest.raises(ConnectionError):
        prune(cloudformation, s3, name, keep=1, delete=True, say=lambda _: None)
    s3.meta.events.unregister("before-parameter-build.s3.DeleteObject", unique_id="cut")
    point_stack_at(on_aws_server, name, OLDER[0])

    said = run_prune(name, capsys, "--keep", "1", "--delete")
    assert "average.png, gate.json, model.tflite gone; its marker removed, then publish it again" in said
    assert keys_under(on_aws_server, bucket, f"{PREFIX}{OLDER[0]}/") == set()
    publish_bundle(bundle_named(tmp_path, OLDER[0]), bucket, PREFIX, versioned=True)
    check_published(s3, bucket, PREFIX, OLDER[0])
