"""The Lambda entry point (``function.app.handler``, Mangum) called with API Gateway events from SAM.

The events in ``events/`` are the SAM CLI's own output (see events/README.md); each test takes one,
puts a real request in its body, plain or base64-encoded as API Gateway may deliver it, and checks the
answer API Gateway would return.
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest

from function.app import handler
from infra.locations import REPO_ROOT
from tests.api_support import release_manifest
from tests.upload_samples import COVID_RADIOGRAPH, PHOTO, b64, data_url

EVENTS = REPO_ROOT / "events"
DIAGNOSE_EVENTS = ["http-api-diagnose.json", "rest-api-diagnose.json"]
HEALTH_EVENTS = ["http-api-health.json", "rest-api-health.json"]


class LambdaContext:
    """The attributes of the runtime's context object that an ASGI adapter may read."""

    function_name = "cxr-diagnose"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:cxr-diagnose"
    memory_limit_in_mb = 1024
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    log_group_name = "/aws/lambda/cxr-diagnose"
    log_stream_name = "2026/11/27/[$LATEST]abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def _event(name: str, body: str | None = None, base64_body: bool = True) -> dict[str, Any]:
    event = copy.deepcopy(json.loads((EVENTS / name).read_text()))
    if body is not None:
        event["body"] = base64.b64encode(body.encode()).decode() if base64_body else body
        event["isBase64Encoded"] = base64_body
    return event


def _invoke(event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    response = handler(event, LambdaContext())
    assert response.get("isBase64Encoded") is False  # JSON comes back as text
    headers = {key.lower(): value for key, value in response["headers"].items()}
    return response["statusCode"], headers, json.loads(response["body"])


def test_the_events_are_the_sam_cli_output_for_our_routes() -> None:
    http = json.loads((EVENTS / "http-api-diagnose.json").read_text())
    assert http["version"] == "2.0" and http["rawPath"] == "/diagnose"
    assert http["requestContext"]["http"]["method"] == "POST"
    rest = json.loads((EVENTS / "rest-api-diagnose.json").read_text())
    assert "version" not in rest and rest["path"] == "/diagnose" and rest["httpMethod"] == "POST"


@pytest.mark.parametrize("base64_body", [True, False], ids=["base64-body", "plain-body"])
@pytest.mark.parametrize("event_name", DIAGNOSE_EVENTS)
def test_a_radiograph_through_api_gateway(event_name: str, base64_body: bool, shared_data: Path) -> None:
    body = json.dumps({"image": b64(COVID_RADIOGRAPH.read_bytes())})
    status, headers, answer = _invoke(_event(event_name, body, base64_body))

    assert status == 200, answer
    assert headers["content-type"] == "application/json"
    assert "server" not in headers
    assert answer["result"] == "diagnosis"
    assert answer["model_version"] == release_manifest()["bundle_version"]
    assert sum(answer["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize("event_name", DIAGNOSE_EVENTS)
def test_the_same_reading_as_a_data_url_and_for_a_photo(event_name: str, shared_data: Path) -> None:
    data = COVID_RADIOGRAPH.read_bytes()
    _, _, plain = _invoke(_event(event_name, json.dumps({"image": b64(data)})))
    _, _, as_url = _invoke(_event(event_name, json.dumps({"image": data_url(data)}), base64_body=False))
    assert as_url == plain

    status, _, photo = _invoke(_event(event_name, json.dumps({"image": b64(PHOTO.read_bytes())})))
    assert status == 200 and photo["result"] == "not_chest_xray"


@pytest.mark.parametrize("event_name", DIAGNOSE_EVENTS)
def test_errors_through_api_gateway(event_name: str) -> None:
    as_generated = _invoke(_event(event_name))  # the placeholder body, base64 as SAM wrote it
    assert as_generated[0] == 415 and as_generated[2]["error"]["code"] == "unsupported_media_type"

    cases = [
        ("not json", 400, "invalid_json"),
        ('{"image": "!!!"}', 400, "invalid_base64"),
        ("{}", 422, "invalid_request"),
        (json.dumps({"image": data_url(b"<script>", "text/html")}), 415, "unsupported_media_type"),
    ]
    for body, status, code in cases:
        for base64_body in (True, False):
            answer = _invoke(_event(event_name, body, base64_body))
            assert (answer[0], answer[2]["error"]["code"]) == (status, code), body


@pytest.mark.parametrize("event_name", HEALTH_EVENTS)
def test_health_through_api_gateway(event_name: str) -> None:
    status, _, answer = _invoke(_event(event_name))
    assert status == 200
    assert answer["loaded"] is True
    assert answer["model_version"] == release_manifest()["bundle_version"]


def _in_stage(event: dict[str, Any], stage: str, path: str) -> dict[str, Any]:
    """An HTTP API event as a named stage delivers it: the stage in front of rawPath and http.path."""
    event["requestContext"]["stage"] = stage
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    return event


def test_an_http_api_in_a_named_stage_reaches_the_routes(shared_data: Path) -> None:
    body = json.dumps({"image": b64(COVID_RADIOGRAPH.read_bytes())})
    status, _, answer = _invoke(_in_stage(_event("http-api-diagnose.json", body), "prod", "/prod/diagnose"))
    assert status == 200 and answer["result"] == "diagnosis", answer
    health = _event("http-api-health.json")
    assert _invoke(_in_stage(health, "prod", "/prod/health"))[0] == 200


def test_only_the_stage_itself_is_taken_off_the_path() -> None:
    """A path that merely starts with the stage's letters keeps them, and routes nowhere."""
    status, _, answer = _invoke(_in_stage(_event("http-api-health.json"), "prod", "/production/health"))
    assert status == 404 and answer["error"]["code"] == "not_found", answer


@pytest.mark.parametrize("name", HEALTH_EVENTS)
def test_deployed_only_events_carrying_the_distributions_header_are_served(name: str) -> None:
    """As the stack deploys it (CXR_ORIGIN_VERIFY set, the distribution adding X-Origin-Verify): the event
    API Gateway builds from a request around the distribution has no such header and gets the 403."""
    from mangum import Mangum

    from function.app import create_app
    from function.lambda_events import without_stage_prefix
    from function.settings import Settings

    secret = "0f1e2d3c-4b5a-6978-8a9b-acbdcedf0011"
    deployed = Mangum(create_app(Settings(origin_verify=secret)), lifespan="off")
    direct = _event(name)
    through_cloudfront = _event(name)
    through_cloudfront["headers"] = {**through_cloudfront.get("headers", {}), "x-origin-verify": secret}
    if "multiValueHeaders" in through_cloudfront:  # REST API events carry both forms
        through_cloudfront["multiValueHeaders"] = {
            **through_cloudfront["multiValueHeaders"],
            "x-origin-verify": [secret],
        }

    refused = deployed(without_stage_prefix(direct), LambdaContext())
    assert refused["statusCode"] == 403 and json.loads(refused["body"])["error"]["code"] == "forbidden"
    served = deployed(without_stage_prefix(through_cloudfront), LambdaContext())
    assert served["statusCode"] == 200, served["body"]
    assert json.loads(served["body"])["model_version"] == release_manifest()["bundle_version"]
