"""The page's response headers, read from the template's CloudFront policy (``SiteSecurityHeaders``).

One source for both places the page is served: CloudFront sends the policy in AWS, and ``make run``'s local
site (and so every browser test) sends the same headers, so a page change that the deployed
Content-Security-Policy would block fails the browser tests first. Local differences, by necessity: the
API's origin replaces the region's ``execute-api`` hosts in ``connect-src`` (the local page calls its own
origin or a loopback API), and HSTS is left out (browsers ignore it over plain HTTP).
"""

from __future__ import annotations

from collections.abc import Iterable
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
    """The Content-Security-Policy as the template writes it (``${AWS::Region}`` and all)."""
    value = _policy()["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    text = value["Fn::Sub"] if isinstance(value, dict) else value
    return " ".join(text.split())


def local_csp(api_origins: Iterable[str] = ()) -> str:
    """The deployed policy, with the API's origins in ``connect-src`` instead of the region's hosts."""
    directives = []
    for directive in deployed_csp().split(";"):
        name, *sources = directive.split()
        if name == "connect-src":
            sources = [source for source in sources if "${" not in source] + list(api_origins)
        directives.append(" ".join([name, *sources]))
    return "; ".join(directives)


def page_headers(api_origins: Iterable[str] = ()) -> list[tuple[bytes, bytes]]:
    """Every header the CloudFront policy adds, as the local site sends them (lower-case names)."""
    security = _policy()["SecurityHeadersConfig"]
    headers = [
        ("content-security-policy", local_csp(api_origins)),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", security["FrameOptions"]["FrameOption"]),
        ("referrer-policy", security["ReferrerPolicy"]["ReferrerPolicy"]),
    ]
    for custom in _policy().get("CustomHeadersConfig", {}).get("Items", []):
        headers.append((custom["Header"].lower(), custom["Value"]))
    return [(name.encode(), value.encode()) for name, value in headers]
