"""The deployable template keeps its security promises, and the linters agree.

Every bucket private, encrypted and TLS-only; the function may read the bundle's prefix and write its own
log group, nothing else; the API is throttled, has no CORS and is reached through the site's distribution
with the header the function checks; the site is served by
CloudFront through origin access control with a Content-Security-Policy without 'unsafe-inline'.

Each check is a function that lists problems, and a few tests feed it a deliberately broken copy of the
template, so a check that could never fail would show up here.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.cfn_yaml import load_template
from infra.locations import REPO_ROOT

TEMPLATE_PATH = REPO_ROOT / "template.yaml"
SAM = Path(os.environ.get("CXR_SAM", REPO_ROOT / ".venv-sam" / "bin" / "sam"))
HTTP_API_TIMEOUT_S = 30

Template = dict[str, Any]


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template(TEMPLATE_PATH)


def resources_of(template: Template, kind: str) -> dict[str, dict[str, Any]]:
    return {name: body for name, body in template["Resources"].items() if body["Type"] == kind}


def refers_to(value: Any, logical_id: str) -> bool:
    """True when ``value`` is a Ref to, or a GetAtt of, ``logical_id``."""
    return isinstance(value, dict) and (
        value.get("Ref") == logical_id or (value.get("Fn::GetAtt") or [None])[0] == logical_id
    )


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def default_of(template: Template, value: Any) -> Any:
    """A literal, or the default of the parameter it refers to."""
    if isinstance(value, dict) and "Ref" in value:
        return template["Parameters"][value["Ref"]]["Default"]
    return value


# ---------------------------------------------------------------- checks (each returns its problems)


def bucket_problems(template: Template) -> list[str]:
    problems = []
    policies = resources_of(template, "AWS::S3::BucketPolicy").values()
    for name, bucket in resources_of(template, "AWS::S3::Bucket").items():
        props = bucket.get("Properties", {})
        block = props.get("PublicAccessBlockConfiguration", {})
        for flag in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"):
            if block.get(flag) is not True:
                problems.append(f"{name}: {flag} is not true")
        rules = props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
        algorithms = {rule.get("ServerSideEncryptionByDefault", {}).get("SSEAlgorithm") for rule in rules}
        if not algorithms or not algorithms <= {"AES256", "aws:kms", "aws:kms:dsse"}:
            problems.append(f"{name}: no default encryption")
        if props.get("AccessControl") not in (None, "Private"):
            problems.append(f"{name}: canned ACL {props['AccessControl']}")
        own = [p for p in policies if refers_to(p["Properties"]["Bucket"], name)]
        if not any(_denies_plain_http(p["Properties"]["PolicyDocument"], name) for p in own):
            problems.append(f"{name}: no policy denying requests without TLS")
        if bucket.get("Condition") and any(p.get("Condition") != bucket["Condition"] for p in own):
            problems.append(f"{name}: its policy does not share its condition")
    return problems


def artifacts_lifecycle_problems(template: Template) -> list[str]:
    """The bundles' bucket expires old object versions (deleted or written-over files), never a current
    one: an expiry or a move to an archive class of a published file would leave the function nothing to
    read."""
    props = template["Resources"]["ArtifactsBucket"]["Properties"]
    rules = props.get("LifecycleConfiguration", {}).get("Rules", [])
    problems = []
    for rule in rules:
        for kind in ("ExpirationInDays", "ExpirationDate", "Transitions", "Transition"):
            if kind in rule:
                problems.append(f"rule {rule.get('Id')}: {kind} reaches published bundle files")
    expiring = [
        r.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays")
        for r in rules
        if r.get("Status") == "Enabled" and "Prefix" not in r and "Filter" not in r
    ]
    if {"Ref": "DeletedBundleRetentionDays"} not in expiring:
        problems.append("no rule expires deleted files after DeletedBundleRetentionDays")
    return problems


def _denies_plain_http(document: dict[str, Any], bucket: str) -> bool:
    for statement in as_list(document["Statement"]):
        condition = statement.get("Condition", {}).get("Bool", {})
        resources = [str(r) for r in as_list(statement.get("Resource"))]
        if (
            statement.get("Effect") == "Deny"
            and statement.get("Principal") == "*"
            and "s3:*" in as_list(statement.get("Action"))
            and str(condition.get("aws:SecureTransport")).lower() == "false"
            and any(bucket in r and "/*" not in r for r in resources)
            and any(bucket in r and "/*" in r for r in resources)
        ):
            return True
    return False


def function_permission_problems(template: Template) -> list[str]:
    """The function's role: s3:GetObject on <bucket>/<prefix>* and its own log group, nothing else."""
    problems = []
    (function_id, function), *others = resources_of(template, "AWS::Serverless::Function").items()
    if others:
        problems.append("more than one function: extend this check")
    props = function["Properties"]
    if "Policies" in props:
        problems.append(f"{function_id}: SAM Policies add permissions beyond the role")
    role_ref = props.get("Role", {}).get("Fn::GetAtt", [None])[0]
    role = template["Resources"].get(role_ref)
    if role is None or role["Type"] != "AWS::IAM::Role":
        return [*problems, f"{function_id}: its role is not a role of this template"]
    role_props = role["Properties"]
    if role_props.get("ManagedPolicyArns"):
        problems.append(f"{role_ref}: managed policies {role_props['ManagedPolicyArns']}")
    trust = as_list(role_props["AssumeRolePolicyDocument"]["Statement"])
    if [s.get("Principal") for s in trust] != [{"Service": "lambda.amazonaws.com"}]:
        problems.append(f"{role_ref}: trusted by more than Lambda")
    log_group = props.get("LoggingConfig", {}).get("LogGroup", {}).get("Ref")
    for policy in role_props.get("Policies", []):
        for statement in as_list(policy["PolicyDocument"]["Statement"]):
            actions = as_list(statement.get("Action"))
            resources = as_list(statement.get("Resource"))
            where = f"{role_ref}/{policy['PolicyName']}"
            if statement.get("Effect") != "Allow" or "NotAction" in statement or "NotResource" in statement:
                problems.append(f"{where}: only plain Allow statements are expected")
            if any("*" in action for action in actions):
                problems.append(f"{where}: wildcard action {actions}")
            s3_actions = [a for a in actions if a.startswith("s3:")]
            log_actions = [a for a in actions if a.startswith("logs:")]
            if len(s3_actions) + len(log_actions) != len(actions):
                problems.append(f"{where}: actions outside S3 reads and logging {actions}")
            if s3_actions:
                if s3_actions != ["s3:GetObject"]:
                    problems.append(f"{where}: S3 actions {s3_actions}")
                for resource in resources:
                    if not _is_bundle_prefix_arn(resource):
                        problems.append(f"{where}: S3 resource {resource} is not the bundle prefix")
            if log_actions:
                if not set(log_actions) <= {"logs:CreateLogStream", "logs:PutLogEvents"}:
                    problems.append(f"{where}: log actions {log_actions}")
                if log_group is None or not all(refers_to(r, log_group) for r in resources):
                    problems.append(f"{where}: logs beyond the function's own log group")
    return problems


def _is_bundle_prefix_arn(resource: Any) -> bool:
    sub = resource.get("Fn::Sub") if isinstance(resource, dict) else None
    text = sub[0] if isinstance(sub, list) else sub
    return text == "arn:${AWS::Partition}:s3:::${Bucket}/${ArtifactsPrefix}*"


def api_problems(template: Template) -> list[str]:
    problems = []
    for name, api in resources_of(template, "AWS::Serverless::HttpApi").items():
        props = api["Properties"]
        route = props.get("DefaultRouteSettings", {})
        for key in ("ThrottlingBurstLimit", "ThrottlingRateLimit"):
            limit = default_of(template, route.get(key))
            if not isinstance(limit, int) or limit <= 0:
                problems.append(f"{name}: {key} missing or not positive")
        if "CorsConfiguration" in props:
            problems.append(f"{name}: CORS configured (the page calls the API on its own origin)")
    return problems


CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
API_ROUTES = {"/diagnose": "POST", "/health": "GET"}


def api_route_problems(template: Template) -> list[str]:
    """The API is reached through the site's distribution, uncached, with the header the function checks."""
    problems = []
    (function,) = resources_of(template, "AWS::Serverless::Function").values()
    secret = function["Properties"]["Environment"]["Variables"].get("CXR_ORIGIN_VERIFY")
    if not secret:
        problems.append("the function does not check where requests came from (CXR_ORIGIN_VERIFY)")
    (distribution,) = resources_of(template, "AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    api_origins = {
        origin["Id"]: origin
        for origin in config["Origins"]
        if "${DiagnosisApi}.execute-api." in str(origin.get("DomainName"))
    }
    if len(api_origins) != 1:
        return [*problems, "the distribution has no (single) origin for the API"]
    (origin_id, origin), *_ = api_origins.items()
    if origin.get("CustomOriginConfig", {}).get("OriginProtocolPolicy") != "https-only":
        problems.append("the distribution may reach the API over plain HTTP")
    headers = {h["HeaderName"].lower(): h["HeaderValue"] for h in origin.get("OriginCustomHeaders", [])}
    if headers.get("x-origin-verify") != secret:
        problems.append("the distribution does not send the function's X-Origin-Verify value")
    behaviors = {b.get("PathPattern"): b for b in config.get("CacheBehaviors", [])}
    for path, method in API_ROUTES.items():
        behavior = behaviors.get(path)
        if behavior is None or behavior.get("TargetOriginId") != origin_id:
            problems.append(f"{path} is not routed to the API")
            continue
        if behavior.get("CachePolicyId") != CACHING_DISABLED:
            problems.append(f"{path}: answers may be cached")
        if behavior.get("OriginRequestPolicyId") != ALL_VIEWER_EXCEPT_HOST_HEADER:
            problems.append(f"{path}: the viewer's Host header would reach API Gateway (or headers are lost)")
        if method not in behavior.get("AllowedMethods", []):
            problems.append(f"{path}: {method} not allowed")
    if template["Outputs"]["ApiUrl"]["Value"] != {"Fn::Sub": "https://${SiteDistribution.DomainName}"}:
        problems.append("ApiUrl is not the distribution's address (verifying there would get the 403)")
    acl = config.get("WebACLId")
    if acl != {"Fn::If": ["HasSiteWebAcl", {"Ref": "SiteWebAclArn"}, {"Ref": "AWS::NoValue"}]}:
        problems.append("the distribution does not take the SiteWebAclArn parameter's web ACL")
    return problems


def cloudfront_problems(template: Template) -> list[str]:
    problems = []
    if resources_of(template, "AWS::CloudFront::CloudFrontOriginAccessIdentity"):
        problems.append("legacy origin access identity present")
    access_controls = resources_of(template, "AWS::CloudFront::OriginAccessControl")
    for name, oac in access_controls.items():
        config = oac["Properties"]["OriginAccessControlConfig"]
        if (config["OriginAccessControlOriginType"], config["SigningBehavior"]) != ("s3", "always"):
            problems.append(f"{name}: does not always sign S3 requests")
    for name, distribution in resources_of(template, "AWS::CloudFront::Distribution").items():
        config = distribution["Properties"]["DistributionConfig"]
        for origin in config["Origins"]:
            if "S3OriginConfig" in origin:
                if not any(refers_to(origin.get("OriginAccessControlId"), oac) for oac in access_controls):
                    problems.append(f"{name}/{origin['Id']}: S3 origin without origin access control")
                if origin["S3OriginConfig"].get("OriginAccessIdentity") not in ("", None):
                    problems.append(f"{name}/{origin['Id']}: uses an origin access identity")
        behaviors = [config["DefaultCacheBehavior"], *config.get("CacheBehaviors", [])]
        for behavior in behaviors:
            if behavior.get("ViewerProtocolPolicy") not in ("redirect-to-https", "https-only"):
                problems.append(f"{name}: a cache behavior serves plain HTTP")
            policy = template["Resources"].get(behavior.get("ResponseHeadersPolicyId", {}).get("Ref"))
            if policy is None:
                problems.append(f"{name}: a cache behavior has no response headers policy of this template")
            else:
                problems += header_problems(policy)
        site_policies = [
            p
            for p in resources_of(template, "AWS::S3::BucketPolicy").values()
            if any(
                statement.get("Principal") == {"Service": "cloudfront.amazonaws.com"}
                and f"distribution/${{{name}}}"
                in str(statement.get("Condition", {}).get("StringEquals", {}).get("AWS:SourceArn"))
                for statement in as_list(p["Properties"]["PolicyDocument"]["Statement"])
            )
        ]
        if not site_policies:
            problems.append(f"{name}: no bucket policy limits CloudFront's reads to this distribution")
    return problems


def csp_of(policy: dict[str, Any]) -> str:
    csp = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"][
        "ContentSecurityPolicy"
    ]
    text = csp["ContentSecurityPolicy"]
    return text.get("Fn::Sub") if isinstance(text, dict) else text


def header_problems(policy: dict[str, Any]) -> list[str]:
    problems = []
    security = policy["Properties"]["ResponseHeadersPolicyConfig"].get("SecurityHeadersConfig", {})
    csp = csp_of(policy) if "ContentSecurityPolicy" in security else ""
    directives = {part.split()[0]: part.split()[1:] for part in (p.strip() for p in csp.split(";")) if part}
    if "unsafe-inline" in csp or "unsafe-eval" in csp:
        problems.append("CSP allows inline or eval'd code")
    if directives.get("default-src") != ["'none'"]:
        problems.append("CSP default-src is not 'none'")
    if directives.get("script-src") != ["'self'"]:
        problems.append("CSP scripts may come from elsewhere than the site")
    if directives.get("frame-ancestors") != ["'none'"]:
        problems.append("CSP allows framing")
    if directives.get("connect-src") != ["'self'"]:
        problems.append("CSP connect-src is not the site's own origin alone")
    if not security.get("StrictTransportSecurity", {}).get("AccessControlMaxAgeSec", 0) >= 31_536_000:
        problems.append("HSTS missing or shorter than a year")
    if "ContentTypeOptions" not in security:
        problems.append("no X-Content-Type-Options: nosniff")
    if security.get("FrameOptions", {}).get("FrameOption") != "DENY":
        problems.append("X-Frame-Options is not DENY")
    return problems


# ---------------------------------------------------------------- the template as it is


def test_every_bucket_is_private_encrypted_and_tls_only(template: Template) -> None:
    assert len(resources_of(template, "AWS::S3::Bucket")) == 2
    assert bucket_problems(template) == []


def test_the_bundles_bucket_expires_old_object_versions_only(template: Template) -> None:
    assert artifacts_lifecycle_problems(template) == []
    assert template["Resources"]["ArtifactsBucket"]["Properties"]["VersioningConfiguration"] == {
        "Status": "Enabled"
    }, "without versions a deleted bundle could not be recovered"
    broken = copy.deepcopy(template)
    (rule,) = broken["Resources"]["ArtifactsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    rule["ExpirationInDays"] = 365
    rule["NoncurrentVersionExpiration"]["NoncurrentDays"] = 1
    assert len(artifacts_lifecycle_problems(broken)) == 2


def test_function_can_only_read_the_bundle_prefix_and_write_its_logs(template: Template) -> None:
    assert function_permission_problems(template) == []


def test_api_is_throttled_and_has_no_cors(template: Template) -> None:
    assert api_problems(template) == []


def alarm_problems(template: Template) -> list[str]:
    """A crash or timeout of the function and a 5xx of the API each raise an alarm that tells someone."""
    topics = set(resources_of(template, "AWS::SNS::Topic"))
    watched = set()
    for alarm in resources_of(template, "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        if not any(refers_to(action, topic) for action in props.get("AlarmActions", []) for topic in topics):
            continue
        dimensions = {d["Name"]: d["Value"] for d in props.get("Dimensions", [])}
        function = refers_to(dimensions.get("FunctionName"), "DiagnosisFunction")
        if props["Namespace"] == "AWS/Lambda" and function:
            watched.add(("function", props["MetricName"]))
        if props["Namespace"] == "AWS/ApiGateway" and refers_to(dimensions.get("ApiId"), "DiagnosisApi"):
            watched.add(("api", props["MetricName"]))
    missing = {("function", "Errors"), ("api", "5xx")} - watched
    return [f"no alarm with an action on {where} {metric}" for where, metric in sorted(missing)]


def test_failures_raise_alarms_to_a_topic(template: Template) -> None:
    assert alarm_problems(template) == []
    assert "AlarmTopicArn" in template["Outputs"]
    broken = copy.deepcopy(template)
    for alarm in resources_of(broken, "AWS::CloudWatch::Alarm").values():
        alarm["Properties"]["AlarmActions"] = []
    assert len(alarm_problems(broken)) == 2


def test_the_access_log_names_no_one(template: Template) -> None:
    """A health screening service with no login: its access log keeps no address, agent or body."""
    (api,) = resources_of(template, "AWS::Serverless::HttpApi").values()
    log_format = api["Properties"]["AccessLogSettings"]["Format"]
    fields = json.loads(log_format)
    assert {"requestId", "status", "latencyMs"} <= set(fields)
    for personal in ("sourceIp", "userAgent", "identity.", "requestBody", "caller", "user"):
        assert personal not in log_format, personal


ACCESS_LOG_VARIABLES = frozenset(
    {"requestId", "requestTime", "httpMethod", "path", "status", "responseLatency", "integrationErrorMessage"}
)
"""What the API's access log may keep: nothing an answer's content decides, beyond its status."""


def test_the_access_log_does_not_tell_the_reading(template: Template) -> None:
    """The function logs a reading's result, never its class ("a reading is health data"). An answer's
    length tells the class: ``.venv/bin/python -m bench.answer_length`` (the first 25 films of each class
    folder of covid19-radiography-128, the released bundle, 2026-12-08 01:34 UTC) answered the 24 read
    Normal in 1143 to 1154 bytes, the 24 read COVID-19 in 1149 to 1605 and the 25 read Viral Pneumonia in
    1171 to 1181 (the class's name and messages differ in length), so ``$context.responseLength`` would
    put readings in the API's log."""
    (api,) = resources_of(template, "AWS::Serverless::HttpApi").values()
    log_format = api["Properties"]["AccessLogSettings"]["Format"]
    variables = set(re.findall(r"\$context\.([A-Za-z.]+)", log_format))
    assert variables, log_format
    assert variables <= ACCESS_LOG_VARIABLES, sorted(variables - ACCESS_LOG_VARIABLES)


def test_site_goes_through_cloudfront_with_oac_and_security_headers(template: Template) -> None:
    assert cloudfront_problems(template) == []


def account_wide_name_problems(template: Template) -> list[str]:
    """CloudFront names one namespace per account: a name made of the stack name alone collides when the
    same stack is deployed in a second region. A name must carry the stack's id (unique everywhere)."""
    problems = []
    for kind, config_key in (
        ("AWS::CloudFront::OriginAccessControl", "OriginAccessControlConfig"),
        ("AWS::CloudFront::ResponseHeadersPolicy", "ResponseHeadersPolicyConfig"),
        ("AWS::CloudFront::CachePolicy", "CachePolicyConfig"),
        ("AWS::CloudFront::OriginRequestPolicy", "OriginRequestPolicyConfig"),
    ):
        for name, resource in resources_of(template, kind).items():
            if "AWS::StackId" not in json.dumps(resource["Properties"][config_key].get("Name")):
                problems.append(f"{name}: its account-wide name does not carry the stack's id")
    return problems


def test_cloudfront_names_differ_between_stacks_of_one_name_in_two_regions(template: Template) -> None:
    assert resources_of(template, "AWS::CloudFront::OriginAccessControl")
    assert account_wide_name_problems(template) == []
    broken = copy.deepcopy(template)
    (oac,) = resources_of(broken, "AWS::CloudFront::OriginAccessControl").values()
    oac["Properties"]["OriginAccessControlConfig"]["Name"] = {"Fn::Sub": "${AWS::StackName}-site"}
    assert len(account_wide_name_problems(broken)) == 1


def test_function_is_the_container_image_with_the_bundle_location(template: Template) -> None:
    (function,) = resources_of(template, "AWS::Serverless::Function").values()
    props, metadata = function["Properties"], function["Metadata"]
    assert props["PackageType"] == "Image"
    assert (REPO_ROOT / metadata["DockerContext"] / metadata["Dockerfile"]).is_file()
    variables = props["Environment"]["Variables"]
    location, names = variables["CXR_BUNDLE_LOCATION"]["Fn::Sub"]
    assert location == "s3://${Bucket}/${ArtifactsPrefix}${VersionFolder}"
    assert names["VersionFolder"] == {"Fn::If": ["HasBundleVersion", {"Fn::Sub": "${BundleVersion}/"}, ""]}
    assert variables["CXR_BUNDLE_VERSION"] == {"Ref": "BundleVersion"}  # the function checks the manifest's
    assert template["Outputs"]["BundleLocation"]["Value"] == variables["CXR_BUNDLE_LOCATION"]
    assert default_of(template, props["Timeout"]) < HTTP_API_TIMEOUT_S
    events = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in props["Events"].values()}
    assert events == {("ANY", "/diagnose"), ("ANY", "/health")}, "a wrong method must reach the app's 405"


def test_outputs_name_what_deploy_and_ops_need(template: Template) -> None:
    assert {
        "ApiUrl",
        "SiteUrl",
        "SiteBucketName",
        "SiteDistributionId",
        "ArtifactsBucketName",
        "ArtifactsPrefix",
        "BundleLocation",
        "FunctionName",
    } <= set(template["Outputs"])


def test_dockerfile_builds_on_the_lambda_base_image_without_tensorflow() -> None:
    dockerfile = (REPO_ROOT / "function" / "Dockerfile").read_text()
    assert re.search(r"^ARG BASE_IMAGE=public\.ecr\.aws/lambda/python:3\.13$", dockerfile, re.M)
    assert 'CMD ["function.app.handler"]' in dockerfile
    lines = (REPO_ROOT / "function" / "requirements.txt").read_text().lower().splitlines()
    names = {re.split(r"[\s<>=~!\[;]", line.split("#")[0].strip())[0] for line in lines} - {""}
    assert "ai-edge-litert" in names
    assert not {name for name in names if name.startswith(("tensorflow", "keras", "tf-"))}
    standin = (REPO_ROOT / "infra" / "local_base_image.sh").read_text()
    assert "PY_VERSION=3.13" in standin, "the local stand-in must provide the same Python as the Dockerfile"


# ---------------------------------------------------------------- the checks can fail


def test_checks_catch_a_public_unencrypted_bucket(template: Template) -> None:
    broken = copy.deepcopy(template)
    site = broken["Resources"]["SiteBucket"]["Properties"]
    site["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] = False
    del site["BucketEncryption"]
    broken["Resources"]["ArtifactsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"] = []
    problems = bucket_problems(broken)
    assert "SiteBucket: RestrictPublicBuckets is not true" in problems
    assert "SiteBucket: no default encryption" in problems
    assert "ArtifactsBucket: no policy denying requests without TLS" in problems


def test_checks_catch_broader_function_permissions(template: Template) -> None:
    broken = copy.deepcopy(template)
    statement = broken["Resources"]["DiagnosisFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"
    ][0]
    statement["Action"] = ["s3:GetObject", "s3:ListBucket"]
    statement["Resource"] = "*"
    problems = function_permission_problems(broken)
    assert any("S3 actions" in p for p in problems)
    assert any("is not the bundle prefix" in p for p in problems)


def test_checks_catch_cors_missing_throttling_and_unsafe_csp(template: Template) -> None:
    broken = copy.deepcopy(template)
    api = broken["Resources"]["DiagnosisApi"]["Properties"]
    api["CorsConfiguration"] = {"AllowOrigins": ["*"]}
    del api["DefaultRouteSettings"]["ThrottlingRateLimit"]
    headers = broken["Resources"]["SiteSecurityHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]
    csp = headers["SecurityHeadersConfig"]["ContentSecurityPolicy"]
    csp["ContentSecurityPolicy"] = {"Fn::Sub": "default-src 'self' 'unsafe-inline'; connect-src *"}
    assert len(api_problems(broken)) == 2
    assert "CSP allows inline or eval'd code" in cloudfront_problems(broken)
    assert "CSP connect-src is not the site's own origin alone" in cloudfront_problems(broken)


def test_the_api_is_reached_through_the_distribution_with_the_functions_header(template: Template) -> None:
    assert api_route_problems(template) == []
    broken = copy.deepcopy(template)
    config = broken["Resources"]["SiteDistribution"]["Properties"]["DistributionConfig"]
    (api_origin,) = [o for o in config["Origins"] if o["Id"] == "api"]
    api_origin["OriginCustomHeaders"][0]["HeaderValue"] = "a constant anyone could read here"
    diagnose = next(b for b in config["CacheBehaviors"] if b["PathPattern"] == "/diagnose")
    diagnose["CachePolicyId"] = "658327ea-f89d-4fab-a63d-7e88639e58f6"
    diagnose["AllowedMethods"] = ["GET", "HEAD"]
    del config["WebACLId"]
    broken["Outputs"]["ApiUrl"]["Value"] = {"Fn::Sub": "https://${DiagnosisApi}.execute-api.${AWS::Region}"}
    assert len(api_route_problems(broken)) == 5


# ---------------------------------------------------------------- linters


def test_sam_validate_lint_is_clean() -> None:
    if not SAM.exists():
        pytest.skip(f"SAM CLI not installed at {SAM} (.ci/run installs it into .venv-sam)")
    result = subprocess.run(
        [str(SAM), "validate", "--lint", "--template-file", str(TEMPLATE_PATH)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO_ROOT,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", [TEMPLATE_PATH, REPO_ROOT / "infra" / "waf.yaml"], ids=lambda p: p.name)
def test_cfn_lint_with_serverless_rules_is_clean(path: Path) -> None:
    """Both templates: the service's, and the web ACL's (infra/waf.yaml, its own stack in us-east-1)."""
    if importlib.util.find_spec("cfn_lint_serverless") is None:
        pytest.skip("cfn-lint-serverless is not installed (pip install cfn-lint-serverless)")
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "cfn-lint"),
            "--append-rules",
            "cfn_lint_serverless.rules",
            "--",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
