"""infra/waf.yaml: the per-client rate limit in front of the service (a CloudFront web ACL, in us-east-1).

It cannot be deployed here; what can be checked is checked: that it limits /diagnose per client address
and nothing else, that its refusal has the API's error shape (Spanish and English, in the page's words),
that it keeps no client addresses, and that the service template accepts the ARN it outputs (cfn-lint:
test_template.py, with the service's template).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from function.schemas import ErrorResponse
from infra.cfn_yaml import load_template
from infra.locations import REPO_ROOT
from tests.api_support import assert_bilingual

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


def _refusal(web_acl: dict[str, Any]) -> dict[str, Any]:
    (rule,) = web_acl["Rules"]
    key = rule["Action"]["Block"]["CustomResponse"]["CustomResponseBodyKey"]
    return dict(web_acl["CustomResponseBodies"][key])


def test_its_refusal_has_the_apis_error_shape_in_both_languages(web_acl: dict[str, Any]) -> None:
    body = _refusal(web_acl)
    assert body["ContentType"] == "APPLICATION_JSON"
    assert body["Content"].isascii(), "accents as JSON escapes: the same text whatever charset is assumed"
    answer = json.loads(body["Content"])
    assert_bilingual(answer["error"])
    error = ErrorResponse.model_validate(answer).error
    assert error.code == "rate_limited"
    assert "Espere unos minutos" in error.message and "Wait a few minutes" in error.message_en


def test_its_refusal_says_what_the_page_says(web_acl: dict[str, Any]) -> None:
    """The page shows its own text for rate_limited (frontend/i18n.js); a client of the API gets the same."""
    page = (REPO_ROOT / "frontend" / "i18n.js").read_text()
    spanish, english = re.findall(r'"error\.rate_limited":\s*"([^"]+)"', page)
    error = json.loads(_refusal(web_acl)["Content"])["error"]
    assert (error["message"], error["message_en"]) == (spanish, english)


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
