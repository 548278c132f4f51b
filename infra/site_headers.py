"""The page's response headers, read from the template's CloudFront policy (``SiteSecurityHeaders``).

One source for both places the page is served: CloudFront sends the policy in AWS, and ``make run``'s local
site (and so every browser test) sends the same headers, so a page change that the deployed
Content-Security-Policy would block fails the browser tests first. The page and the API share one origin
in both (CloudFront routes /diagnose and /health to the API), so the policy is sent unchanged; only HSTS
is left out locally (browsers ignore it over plain HTTP).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from infra.cfn_yaml import load_template
from infra.locations import REPO_ROOT

TEMPLATE = REPO_ROOT / "template.yaml"
POLICY_RESOURCE = "SiteSecurityHeaders"


@cache
def _policy() -> dict[str, Any]:
    resource = load_template(TEMPLATE)["Resources"][POLICY_RESOURCE]
    return resource["Properties"]["ResponseHeadersPolicyConfig"]


def deployed_csp() -> str:
    """The Content-Security-Policy as the template writes it, on one line."""
    policy = _policy()["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    return " ".join(policy.split())


def page_headers() -> list[tuple[bytes, bytes]]:
    """Every header the CloudFront policy adds, as the local site sends them (lower-case names)."""
    security = _policy()["SecurityHeadersConfig"]
    headers = [
        ("content-security-policy", deployed_csp()),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", security["FrameOptions"]["FrameOption"]),
        ("referrer-policy", security["ReferrerPolicy"]["ReferrerPolicy"]),
    ]
    for custom in _policy().get("CustomHeadersConfig", {}).get("Items", []):
        headers.append((custom["Header"].lower(), custom["Value"]))
    return [(name.encode(), value.encode()) for name, value in headers]
