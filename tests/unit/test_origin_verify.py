"""Deployed, the API answers only requests that came through the site's CloudFront distribution.

The distribution adds ``X-Origin-Verify`` (template.yaml); a request sent to the execute-api address
directly, around the distribution and its WAF, gets a JSON 403 and reaches no route.
"""

from __future__ import annotations

import pytest

from tests.api_support import error_of, make_client, post_image
from tests.upload_samples import COVID_RADIOGRAPH, b64

SECRET = "0f1e2d3c-4b5a-6978-8a9b-acbdcedf0011"


@pytest.mark.parametrize(
    "headers",
    [{}, {"x-origin-verify": "wrong"}, {"x-origin-verify": SECRET[:-1]}, {"x-origin-verify": ""}],
    ids=["none", "wrong", "one-short", "empty"],
)
def test_a_request_without_the_distributions_header_is_refused(headers: dict[str, str]) -> None:
    with make_client(origin_verify=SECRET) as client:
        for response in (
            client.get("/health", headers=headers),
            client.post("/diagnose", json={"image": b64(COVID_RADIOGRAPH.read_bytes())}, headers=headers),
            client.get("/no-such-route", headers=headers),
        ):
            assert response.status_code == 403
            assert error_of(response)["code"] == "forbidden"
            assert "page's address" in error_of(response)["message_en"]
            assert "dirección de su página" in error_of(response)["message"]


def test_a_request_through_the_distribution_is_served() -> None:
    with make_client(origin_verify=SECRET) as client:
        assert client.get("/health", headers={"X-Origin-Verify": SECRET}).status_code == 200
        response = client.post(
            "/diagnose",
            json={"image": b64(COVID_RADIOGRAPH.read_bytes())},
            headers={"x-origin-verify": SECRET},
        )
        assert response.status_code == 200 and response.json()["result"] == "diagnosis"


def test_the_header_sent_twice_is_refused_even_if_one_is_right() -> None:
    with make_client(origin_verify=SECRET) as client:
        response = client.get("/health", headers=[("x-origin-verify", SECRET), ("x-origin-verify", "x")])
        assert response.status_code == 403


def test_without_the_setting_local_runs_need_no_header() -> None:
    with make_client() as client:
        assert client.get("/health").status_code == 200
        assert post_image(client, COVID_RADIOGRAPH.read_bytes()).status_code == 200


def test_requests_around_the_site_are_counted_from_the_functions_own_access_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """They cannot be kept from API Gateway's throttling, so template.yaml counts them (a metric filter on
    the function's log) and alarms: its pattern must match the line the function writes for a refused
    request, and no line it writes for a served one."""
    from infra.cfn_yaml import load_template
    from infra.locations import REPO_ROOT

    resources = load_template(REPO_ROOT / "template.yaml")["Resources"]
    metric_filter = resources["RequestsAroundTheSiteMetric"]["Properties"]
    assert metric_filter["LogGroupName"] == {"Ref": "FunctionLogGroup"}
    term = metric_filter["FilterPattern"]
    assert term.startswith('"') and term.endswith('"'), "one quoted term: matched anywhere in the line"
    (counted,) = metric_filter["MetricTransformations"]
    alarm = resources["RequestsAroundTheSiteAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == (counted["MetricNamespace"], counted["MetricName"])
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]

    with caplog.at_level("INFO", logger="cxr.access"), make_client(origin_verify=SECRET) as client:
        client.post("/diagnose", json={"image": b64(COVID_RADIOGRAPH.read_bytes())})
        client.get("/health")
        refused = [record.getMessage() for record in caplog.records if record.name == "cxr.access"]
        caplog.clear()
        client.post(
            "/diagnose",
            json={"image": b64(COVID_RADIOGRAPH.read_bytes())},
            headers={"x-origin-verify": SECRET},
        )
        client.get("/health", headers={"x-origin-verify": SECRET})
        client.post("/diagnose", json={"image": "not base64"}, headers={"x-origin-verify": SECRET})
        served = [record.getMessage() for record in caplog.records if record.name == "cxr.access"]
    assert len(refused) == 2 and all(term.strip('"') in line for line in refused)
    assert len(served) == 3 and not any(term.strip('"') in line for line in served)
