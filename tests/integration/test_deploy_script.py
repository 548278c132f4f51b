"""infra/deploy.sh after `sam deploy`, for real against an AWS-compatible server on loopback (moto).

The stack is a CloudFormation stack in that server with template.yaml's parameters, conditions and the
outputs the script reads; its API is the real function app served on loopback and configured from the
stack as Lambda would configure it (``tests.aws_support.FunctionAsConfigured``). The script publishes the
bundle under its version, switches the stack to it, waits for the API's /health to report it (or switches
back); before the bundle it syncs the page as it is and invalidates CloudFront, through the real AWS CLI
and boto3, over HTTP. Building and deploying the stack itself (`sam build`, `sam deploy`) needs Docker and
an AWS account and is not run here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from infra.cfn_yaml import load_template
from infra.local_s3 import REAL_AWS_SESSION, REGION, LocalS3Server
from infra.locations import RELEASE_BUNDLE, REPO_ROOT
from tests.api_support import release_with_manifest, served_over_http
from tests.aws_support import (
    FunctionAsConfigured,
    ThroughDistribution,
    client,
    loopback_aws,
    on_loopback_aws,
)

STACK = "cxr-deploy-test"
TEMPLATE_OUTPUTS = {
    "ApiUrl",
    "SiteUrl",
    "SiteBucketName",
    "SiteDistributionId",
    "ArtifactsBucketName",
    "ArtifactsPrefix",
}


@pytest.fixture(scope="module")
def loopback_environment(aws_server: LocalS3Server) -> Iterator[None]:
    """This process's boto3 pointed at the loopback server, for the function apps served from it."""
    with on_loopback_aws(aws_server):
        yield


@contextmanager
def function_of(server: LocalS3Server, stack_name: str) -> Iterator[str]:
    """The stack's API URL: the real function app as the stack configures it, behind the distribution
    (which adds the header the function checks), over HTTP on loopback."""
    function = FunctionAsConfigured(server, stack_name)
    with served_over_http(ThroughDistribution(function, server, stack_name)) as (host, port):
        yield f"http://{host}:{port}"


@contextmanager
def function_directly(server: LocalS3Server, stack_name: str) -> Iterator[str]:
    """The same function at its own address, as the execute-api address reaches it: no header."""
    with served_over_http(FunctionAsConfigured(server, stack_name)) as (host, port):
        yield f"http://{host}:{port}"


def create_stack(
    server: LocalS3Server, name: str, api_url: str, site_url: str, distribution_id: str
) -> dict[str, str]:
    """A stack with template.yaml's parameters, conditions and bundle outputs (moto evaluates them), the
    outputs deploy.sh reads, and real buckets; every parameter given explicitly at its default (moto, unlike
    CloudFormation, can only keep the previous value of a parameter that was given)."""
    real = load_template(REPO_ROOT / "template.yaml")
    template = {
        "Parameters": real["Parameters"],
        "Conditions": real["Conditions"],
        "Resources": {
            "SiteBucket": {"Type": "AWS::S3::Bucket"},
            "ArtifactsBucket": {"Type": "AWS::S3::Bucket", "Condition": "CreateArtifactsBucket"},
        },
        "Outputs": {
            "ApiUrl": {"Value": api_url + "/"},
            "SiteUrl": {"Value": site_url},
            "SiteBucketName": {"Value": {"Ref": "SiteBucket"}},
            "SiteDistributionId": {"Value": distribution_id},
            **{
                key: real["Outputs"][key]
                for key in ("ArtifactsBucketName", "ArtifactsPrefix", "BundleLocation")
            },
        },
    }
    parameters = [
        {"ParameterKey": key, "ParameterValue": str(p.get("Default", ""))}
        for key, p in real["Parameters"].items()
    ]
    cloudformation = client(server, "cloudformation")
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template), Parameters=parameters)
    outputs = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["Outputs"]
    return {output["OutputKey"]: output["OutputValue"] for output in outputs}


@pytest.fixture(scope="module")
def stack(aws_server: LocalS3Server, loopback_environment: None) -> Iterator[dict[str, str]]:
    """A stack with the outputs template.yaml declares, pointing at a real distribution, real buckets and
    the real function app (configured from the stack)."""
    distribution = client(aws_server, "cloudfront").create_distribution(
        DistributionConfig={
            "CallerReference": STACK,
            "Comment": "",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "site",
                        "DomainName": "site.s3.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "site",
                "ViewerProtocolPolicy": "redirect-to-https",
                "TrustedSigners": {"Enabled": False, "Quantity": 0},
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                "MinTTL": 0,
            },
        }
    )["Distribution"]
    with function_of(aws_server, STACK) as api_url:
        yield create_stack(
            aws_server, STACK, api_url, "https://" + distribution["DomainName"], distribution["Id"]
        )


def sam_stand_in(folder: Path, body: str = "exit 0") -> Path:
    """A `sam` that runs ``body`` (a shell line) for build and deploy alike: the real one needs Docker, ECR
    and an AWS account."""
    sam = folder / "sam"
    sam.write_text(f"#!/bin/sh\n{body}\n")
    sam.chmod(0o755)
    return sam


def run_deploy(server: LocalS3Server, *options: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """``infra/deploy.sh`` against the loopback server, with dummy credentials and no real AWS profile."""
    env = {**os.environ, **loopback_aws(server), **environment}
    for name in REAL_AWS_SESSION:
        env.pop(name, None)
    return subprocess.run(
        ["bash", "infra/deploy.sh", *options, "--region", REGION],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_template_declares_the_outputs_the_script_reads() -> None:
    outputs = set(load_template(REPO_ROOT / "template.yaml")["Outputs"])
    assert outputs >= TEMPLATE_OUTPUTS, TEMPLATE_OUTPUTS - outputs


def test_deploy_publishes_the_page_and_the_bundle(
    aws_server: LocalS3Server, stack: dict[str, str], tmp_path: Path
) -> None:
    if shutil.which("aws") is None:
        pytest.skip("the AWS CLI (aws) is not installed")
    s3 = client(aws_server, "s3")
    site = stack["SiteBucketName"]
    s3.put_object(Bucket=site, Key="old-page.js", Body=b"left from an earlier deploy")

    run = run_deploy(aws_server, "--skip-stack", "--stack-name", STACK)
    assert run.returncode == 0, run.stdout + run.stderr

    bundle_keys = {o["Key"] for o in s3.list_objects_v2(Bucket=stack["ArtifactsBucketName"])["Contents"]}
    manifest = json.loads((RELEASE_BUNDLE / "manifest.json").read_text())
    folder = f"{stack['ArtifactsPrefix']}{manifest['bundle_version']}/"
    assert bundle_keys == {folder + name for name in [*manifest["files"], "manifest.json"]}
    assert served_version(aws_server, STACK) == manifest["bundle_version"], "the stack switched to it"
    assert f"now serves bundle {manifest['bundle_version']} (was none)" in run.stdout
    assert f"{stack['ApiUrl'].rstrip('/')} serves bundle {manifest['bundle_version']}" in run.stdout
    health = json.loads(urllib.request.urlopen(stack["ApiUrl"] + "health", timeout=30).read())
    assert health["model_version"] == manifest["bundle_version"], "the function loaded it from its prefix"
    with function_directly(aws_server, STACK) as direct:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(direct + "/health", timeout=30)
        assert refused.value.code == 403, "around the distribution the function answers nothing"

    page_files = {path.name for path in (REPO_ROOT / "frontend").iterdir() if path.is_file()}
    site_keys = {o["Key"] for o in s3.list_objects_v2(Bucket=site)["Contents"]}
    assert site_keys == page_files, "the site bucket holds exactly the page (stale files deleted)"
    config = s3.get_object(Bucket=site, Key="config.js")
    assert config["CacheControl"] == "no-cache"
    assert config["Body"].read() == (REPO_ROOT / "frontend" / "config.js").read_bytes(), "one origin"
    index = s3.get_object(Bucket=site, Key="index.html")
    assert index["ContentType"].startswith("text/html") and index["CacheControl"] == "no-cache"
    assert index["Body"].read() == (REPO_ROOT / "frontend" / "index.html").read_bytes()
    # Under X-Content-Type-Options: nosniff a script served with another type does not run; and the
    # scripts call each other, so none may be cached beside a newer one.
    for script in sorted(name for name in page_files if name.endswith(".js")):
        head = s3.head_object(Bucket=site, Key=script)
        assert head["ContentType"] in ("text/javascript", "application/javascript"), script
        assert head["CacheControl"] == "no-cache", script

    invalidations = client(aws_server, "cloudfront").list_invalidations(
        DistributionId=stack["SiteDistributionId"]
    )
    assert invalidations["InvalidationList"]["Quantity"] >= 1
    assert f"Page: {stack['SiteUrl']}" in run.stdout

    again = run_deploy(aws_server, "--skip-stack", "--skip-page", "--stack-name", STACK)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "0 uploaded" in again.stdout
    assert f"already serves bundle {manifest['bundle_version']}" in again.stdout

    sam = sam_stand_in(tmp_path)  # a code-only deploy: SAM updates the function (here: nothing), no bundle
    code_only = run_deploy(aws_server, "--skip-bundle", "--skip-page", "--stack-name", STACK, SAM=str(sam))
    assert code_only.returncode == 0, code_only.stdout + code_only.stderr
    assert f"{stack['ApiUrl'].rstrip('/')} serves bundle {manifest['bundle_version']}" in code_only.stdout


def test_a_bundle_the_function_cannot_serve_is_switched_back(
    aws_server: LocalS3Server, loopback_environment: None, tmp_path: Path
) -> None:
    """A bundle made for newer code (a preprocessing version this function does not implement) publishes
    and switches fine, but the function answers 503: the script switches back and stops."""
    if shutil.which("aws") is None:
        pytest.skip("the AWS CLI (aws) is not installed")
    from infra.bundle_versions import switch
    from training.publish import publish_bundle

    name = "cxr-rollback"
    with function_of(aws_server, name) as api_url:
        outputs = create_stack(aws_server, name, api_url, "https://unused.example", "")
        cloudformation, s3 = client(aws_server, "cloudformation"), client(aws_server, "s3")
        live = json.loads((RELEASE_BUNDLE / "manifest.json").read_text())["bundle_version"]
        publish_bundle(
            RELEASE_BUNDLE, outputs["ArtifactsBucketName"], outputs["ArtifactsPrefix"], versioned=True
        )
        switch(cloudformation, s3, name, live)
        newer = release_with_manifest(
            tmp_path / "newer", bundle_version="20261208T000000Z-7af3b975", preprocessing_version="99"
        )
        manifest = json.loads((newer / "manifest.json").read_text())
        manifest["training"]["preprocessing"] = "99"
        (newer / "manifest.json").write_text(json.dumps(manifest))

        run = run_deploy(
            aws_server,
            *("--skip-stack", "--stack-name", name),
            *("--bundle", str(newer), "--verify-timeout", "4"),
        )

        assert run.returncode != 0, run.stdout + run.stderr
        assert (
            "did not report bundle 20261208T000000Z-7af3b975 within 4 s (last: 503 unavailable)" in run.stderr
        )
        assert f"switched back to bundle {live}" in run.stderr
        assert served_version(aws_server, name) == live
        site = client(aws_server, "s3").list_objects_v2(Bucket=outputs["SiteBucketName"])
        assert "index.html" in {o["Key"] for o in site.get("Contents", [])}, "the page went up before"
        health = json.loads(urllib.request.urlopen(api_url + "/health", timeout=30).read())
        assert health["model_version"] == live, "the function serves the earlier bundle again"


def test_a_stack_deploy_without_a_bundle_on_a_new_stack_has_nothing_to_verify(
    aws_server: LocalS3Server, tmp_path: Path
) -> None:
    """A first deploy with --skip-bundle: the stack serves no bundle yet, which is said, not waited on."""
    if shutil.which("aws") is None:
        pytest.skip("the AWS CLI (aws) is not installed")
    name = "cxr-no-bundle-yet"
    create_stack(aws_server, name, "http://127.0.0.1:9", "https://unused.example", "")  # never asked
    sam = sam_stand_in(tmp_path)
    run = run_deploy(aws_server, "--skip-bundle", "--skip-page", "--stack-name", name, SAM=str(sam))
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{name} serves no bundle yet: nothing to verify" in run.stdout


def test_a_guided_sam_deploy_of_a_live_stack_is_refused_before_anything_is_built(
    aws_server: LocalS3Server, stack: dict[str, str], tmp_path: Path
) -> None:
    """--guided would offer BundleVersion's empty default and the live function would lose its bundle."""
    if shutil.which("aws") is None:
        pytest.skip("the AWS CLI (aws) is not installed")
    calls = tmp_path / "sam-calls"
    sam = sam_stand_in(tmp_path, f'echo "$@" >> {calls}')
    run = run_deploy(aws_server, "--skip-page", "--stack-name", STACK, "--", "--guided", SAM=str(sam))
    assert run.returncode != 0
    assert "--guided would set BundleVersion back to its empty default" in run.stderr
    assert not calls.exists(), "neither sam build nor sam deploy ran"


def served_version(server: LocalS3Server, stack_name: str) -> str | None:
    """The stack's BundleVersion parameter: the bundle its function reads."""
    from infra.bundle_versions import stack_bundle

    return stack_bundle(client(server, "cloudformation"), stack_name).live_version


def test_deploy_refuses_a_stack_without_the_outputs(aws_server: LocalS3Server) -> None:
    if shutil.which("aws") is None:
        pytest.skip("the AWS CLI (aws) is not installed")
    cloudformation = client(aws_server, "cloudformation")
    template = {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}}, "Outputs": {"Other": {"Value": "x"}}}
    cloudformation.create_stack(StackName="cxr-no-outputs", TemplateBody=json.dumps(template))
    run = run_deploy(aws_server, "--skip-stack", "--stack-name", "cxr-no-outputs")
    assert run.returncode != 0
    assert "the stack has no output ApiUrl" in run.stderr


SAM_THAT_WAS_DECLINED = """#!{python}
# Stands in for `sam` (the real one needs Docker, ECR and an AWS account): `build` does nothing; `deploy`
# creates its change set on the stack and exits 0 without running it, as SAM does when its
# "Deploy this changeset?" prompt is answered "no".
import json, sys, time
import boto3
if sys.argv[1] == "deploy":
    stack = sys.argv[sys.argv.index("--stack-name") + 1]
    boto3.client("cloudformation", region_name="{region}").create_change_set(
        StackName=stack,
        ChangeSetName=f"samcli-deploy{{int(time.time())}}",
        TemplateBody=json.dumps({{"Resources": {{"Extra": {{"Type": "AWS::S3::Bucket"}}}}}}),
    )
"""


def test_a_declined_change_set_stops_the_script_before_anything_is_published(
    aws_server: LocalS3Server, tmp_path: Path
) -> None:
    if shutil.which("aws") is None:
        pytest.skip("the AWS CLI (aws) is not installed")
    name = "cxr-declined"
    outputs = {key: {"Value": "https://unused.example"} for key in ("ApiUrl", "SiteUrl", "SiteBucketName")}
    template = {
        "Resources": {"Artifacts": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {
            **outputs,
            "ArtifactsBucketName": {"Value": {"Ref": "Artifacts"}},
            "ArtifactsPrefix": {"Value": "models/release/"},
        },
    }
    cloudformation = client(aws_server, "cloudformation")
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))
    described = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["Outputs"]
    artifacts = next(o["OutputValue"] for o in described if o["OutputKey"] == "ArtifactsBucketName")
    sam = tmp_path / "sam"
    sam.write_text(SAM_THAT_WAS_DECLINED.format(python=sys.executable, region=REGION))
    sam.chmod(0o755)

    run = run_deploy(aws_server, "--skip-page", "--stack-name", name, SAM=str(sam))

    assert run.returncode != 0, run.stdout + run.stderr
    assert "was not applied" in run.stderr and "samcli-deploy" in run.stderr
    assert "reading the stack's outputs" not in run.stdout
    assert client(aws_server, "s3").list_objects_v2(Bucket=artifacts).get("KeyCount", 0) == 0


def test_only_a_change_set_left_waiting_by_this_deploy_stops_it(on_aws_server: LocalS3Server) -> None:
    """SAM leaves declined change sets behind: one from an earlier run must not stop a later deploy."""
    from infra.change_sets import main as change_sets
    from infra.change_sets import waiting_change_sets

    cloudformation = client(on_aws_server, "cloudformation")
    name = "cxr-change-sets"
    assert waiting_change_sets(cloudformation, name) == set()  # no stack yet (a first deploy)
    cloudformation.create_stack(
        StackName=name, TemplateBody=json.dumps({"Resources": {"A": {"Type": "AWS::S3::Bucket"}}})
    )

    def change_set(change_set_name: str) -> str:
        body = {"Resources": {"A": {"Type": "AWS::S3::Bucket"}, change_set_name: {"Type": "AWS::S3::Bucket"}}}
        return cloudformation.create_change_set(
            StackName=name, ChangeSetName=change_set_name, TemplateBody=json.dumps(body)
        )["Id"]

    change_set("samcli-deploy1")  # declined in an earlier run, still there
    change_set("someoneelses")
    known = waiting_change_sets(cloudformation, name)
    assert known == {"samcli-deploy1"}
    cloudformation.execute_change_set(ChangeSetName=change_set("samcli-deploy2"))  # this run: applied
    arguments = ["check", "--stack-name", name, "--region", REGION, "--known", " ".join(known)]
    assert change_sets(arguments) == 0
    change_set("samcli-deploy3")  # this run: declined
    assert change_sets(arguments) == 1


def test_the_site_bucket_is_emptied_of_every_version_so_the_stack_can_be_deleted(
    on_aws_server: LocalS3Server,
) -> None:
    """After deploys the page bucket holds old versions and delete markers, and a bucket that holds anything
    cannot be deleted with its stack; emptied, it can (moto deletes the stack as CloudFormation would)."""
    from infra.empty_site_bucket import main as empty_site_bucket

    name = "cxr-teardown"
    versioned = {"VersioningConfiguration": {"Status": "Enabled"}}
    template = {
        "Resources": {"Site": {"Type": "AWS::S3::Bucket", "Properties": versioned}},
        "Outputs": {"SiteBucketName": {"Value": {"Ref": "Site"}}},
    }
    cloudformation = client(on_aws_server, "cloudformation")
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))
    site = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["Outputs"][0]["OutputValue"]
    s3 = client(on_aws_server, "s3")
    for deploy in range(3):
        s3.put_object(Bucket=site, Key="index.html", Body=f"page {deploy}".encode())
    s3.put_object(Bucket=site, Key="old.js", Body=b"x")
    s3.delete_object(Bucket=site, Key="old.js")  # a delete marker, as aws s3 sync --delete leaves
    with pytest.raises(Exception, match="BucketNotEmpty"):
        s3.delete_bucket(Bucket=site)

    assert empty_site_bucket(["--stack-name", name, "--region", REGION]) == 0

    versions = s3.list_object_versions(Bucket=site)
    assert not versions.get("Versions") and not versions.get("DeleteMarkers")
    s3.delete_bucket(Bucket=site)  # what CloudFormation does when the stack is deleted: now it can
