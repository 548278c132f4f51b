"""infra/waf.yaml: the per-client rate limit in front of the service (a CloudFront web ACL, in us-east-1).

It cannot be deployed here; what can be checked is checked: that it limits /diagnose per client address
and nothing else, that its refusal has the API's error shape, that it keeps no client addresses, and that
the service template accepts the ARN it outputs (cfn-lint: test_template.py, with the service's template).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from function.schemas import ErrorResponse
from infra.cfn_yaml import load_template
from infra.locations import REPO_ROOT

WAF_TEMPLATE = REPO_ROOT / "infra" / "waf.yaml"


@pytest.fixture(scope="module")
def web_acl() -> dict[str, Any]:
    (acl,) = [
        r for r in load_template(WAF_TEMPLATE)["Resources"].values() if r["Type"] == "AWS::WAFv2::WebACL"
    ]
    return dict(acl["Properties"])


def test_it_limits_diagnosis_posts_per_client_address_and_lets_the_rest_pass(
    web_acl: dict[str, Any],
) -> None:
    assert web_acl["Scope"] == "CLOUDFRONT" and web_acl["DefaultAction"] == {"Allow": {}}
    (rule,) = web_acl["Rules"]
    rate = rule["Statement"]["RateBasedStatement"]
    assert rate["AggregateKeyType"] == "IP"
    match = rate["ScopeDownStatement"]["ByteMatchStatement"]
    assert (match["FieldToMatch"], match["SearchString"]) == ({"Method": {}}, "POST")
    assert match["PositionalConstraint"] == "EXACTLY"
    response = rule["Action"]["Block"]["CustomResponse"]
    assert response["ResponseCode"] == 429
    retry_after = {"Name": "retry-after", "Value": {"Ref": "EvaluationWindowSeconds"}}
    assert response["ResponseHeaders"] == [retry_after]
    service = load_template(REPO_ROOT / "template.yaml")["Resources"]["SiteDistribution"]["Properties"]
    behaviors = service["DistributionConfig"]["CacheBehaviors"]
    takes_post = [b["PathPattern"] for b in behaviors if "POST" in b["AllowedMethods"]]
    assert takes_post == ["/diagnose"], "every POST that reaches an origin must be a diagnosis"
    assert "POST" not in service["DistributionConfig"]["DefaultCacheBehavior"]["AllowedMethods"]
    template = load_template(WAF_TEMPLATE)
    assertion = template["Rules"]["CloudFrontWebAclsLiveInUsEast1"]["Assertions"][0]["Assert"]
    assert assertion == {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}


def test_its_refusal_has_the_apis_error_shape(web_acl: dict[str, Any]) -> None:
    (rule,) = web_acl["Rules"]
    key = rule["Action"]["Block"]["CustomResponse"]["CustomResponseBodyKey"]
    body = web_acl["CustomResponseBodies"][key]
    assert body["ContentType"] == "APPLICATION_JSON"
    error = ErrorResponse.model_validate(json.loads(body["Content"])).error
    assert error.code == "rate_limited" and "wait" in error.message


def test_no_request_samples_keep_client_addresses(web_acl: dict[str, Any]) -> None:
    configs = [web_acl["VisibilityConfig"], *(rule["VisibilityConfig"] for rule in web_acl["Rules"])]
    assert all(config["SampledRequestsEnabled"] is False for config in configs)


def test_the_service_template_takes_the_arn_it_outputs() -> None:
    pattern = load_template(REPO_ROOT / "template.yaml")["Parameters"]["SiteWebAclArn"]["AllowedPattern"]
    arn = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/cxr-screening-waf-site/a1b2c3d4-5678-90ab-cdef"
    assert re.fullmatch(pattern, arn) and re.fullmatch(pattern, "")
    assert not re.fullmatch(pattern, arn.replace("us-east-1", "eu-west-1"))
    assert not re.fullmatch(pattern, arn.replace("global", "regional"))
    output = load_template(WAF_TEMPLATE)["Outputs"]["WebAclArn"]["Value"]
    assert output == {"Fn::GetAtt": ["SiteWebAcl", "Arn"]}
