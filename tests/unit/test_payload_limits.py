"""Every request body the service accepts fits the Lambda event it arrives in; larger ones get its own 413.

Deployed, the HTTP API takes bodies up to 10 MB but Lambda refuses an event over 6 MB before the function
runs, and the client then gets API Gateway's ``{"message": ...}``, outside the error contract. Each way of
sending the largest upload below is posted to the real app: it must either be refused with the service's
413, or fit the HTTP API event (payload 2.0, the SAM CLI's own, with headers at the HTTP API's 10,240-byte
cap) it would be delivered in. The site's CloudFront Function (template.yaml) must refuse, by
Content-Length, exactly the bodies the app refuses, with the same answer: it is run here in Node.js.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from function.payload_limits import (
    LAMBDA_PAYLOAD_BYTES,
    is_text_content_type,
    max_binary_request_body,
    max_request_body,
    too_large_for_its_type,
)
from function.settings import DEFAULT_MAX_UPLOAD_BYTES
from function.uploads import too_large
from infra.cfn_yaml import load_template
from infra.locations import REPO_ROOT
from tests.api_support import error_of, make_client

HTTP_API_HEADER_BYTES = 10_240
"""HTTP API quota: total combined size of request line and header values (cannot be increased)."""
PAGE = "application/json"
CURL_DATA = "application/x-www-form-urlencoded"  # what `curl -d @body.json` sends


def _largest_upload_base64() -> str:
    """The base64 of an upload exactly at the default limit (its content does not matter here)."""
    return base64.b64encode(os.urandom(DEFAULT_MAX_UPLOAD_BYTES)).decode()


def _wrapped(text: str, width: int, newline: str) -> str:
    return newline.join(text[i : i + width] for i in range(0, len(text), width))


def http_api_event(body: bytes, content_type: str | None) -> dict[str, Any]:
    """The event an HTTP API gives Lambda for this body: text for a text Content-Type, else base64."""
    event = copy.deepcopy(json.loads((REPO_ROOT / "events" / "http-api-diagnose.json").read_text()))
    user_agent = "Mozilla/5.0 " + "x" * 300
    headers = {"content-length": str(len(body)), "user-agent": user_agent, "x-origin-verify": "0" * 36}
    if content_type is not None:
        headers["content-type"] = content_type
    used = len("POST /diagnose HTTP/1.1") + sum(len(k) + len(v) for k, v in headers.items())
    headers["x-filler"] = "y" * (HTTP_API_HEADER_BYTES - used - len("x-filler"))
    event["headers"] = headers
    event["requestContext"]["http"]["userAgent"] = user_agent
    text = is_text_content_type(content_type)
    event["body"] = body.decode() if text else base64.b64encode(body).decode()
    event["isBase64Encoded"] = not text
    return event


def event_bytes(event: dict[str, Any]) -> int:
    return len(json.dumps(event).encode())


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with make_client() as client:
        yield client


WAYS = {
    "the page's (one line, JSON)": (None, "", PAGE),
    "wrapped at 76 with LF, as `base64` prints it": (76, "\n", PAGE),
    "wrapped at 76 with CRLF, as MIME writes it": (76, "\r\n", PAGE),
    "wrapped at 64 with LF, as PEM writes it": (64, "\n", PAGE),
    "one line, sent by `curl -d` (form-urlencoded)": (None, "", CURL_DATA),
    "one line, no Content-Type": (None, "", None),
}


@pytest.mark.parametrize("way", list(WAYS))
def test_the_largest_upload_is_refused_by_the_service_or_fits_a_lambda_event(
    client: TestClient, way: str
) -> None:
    width, newline, content_type = WAYS[way]
    image = _largest_upload_base64()
    if width:
        image = _wrapped(image, width, newline)
    body = json.dumps({"image": image}).encode()
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/diagnose", content=body, headers=headers)
    if response.status_code == 413:
        assert error_of(response)["code"] == "payload_too_large"
        return
    size = event_bytes(http_api_event(body, content_type))
    assert size <= LAMBDA_PAYLOAD_BYTES, (
        f"{way}: the app reads this {len(body):,}-byte body (answer {response.status_code}), but its HTTP "
        f"API event is {size:,} bytes: Lambda refuses it and the client gets API Gateway's own error"
    )


def test_the_pages_largest_request_is_not_refused_for_its_size(client: TestClient) -> None:
    """The cap must not cost the page anything: 4.5 MB in one line of base64 is still read."""
    body = json.dumps({"image": _largest_upload_base64(), "explain": True}).encode()
    assert len(body) <= max_request_body(DEFAULT_MAX_UPLOAD_BYTES)
    response = client.post("/diagnose", content=body, headers={"content-type": PAGE})
    assert response.status_code != 413


def test_an_upload_under_the_limit_refused_for_its_content_type_is_told_how_to_send_it(
    client: TestClient,
) -> None:
    """A 4.0 MB upload sent by `curl -d` (form-urlencoded, so the HTTP API would base64-encode it past what
    a Lambda event carries) is refused, but it is not "larger than the 4.5 MB limit": the answer says to
    send it as application/json, with or without a Content-Length."""
    body = json.dumps({"image": base64.b64encode(os.urandom(4_000_000)).decode()}).encode()
    limits = (max_binary_request_body(DEFAULT_MAX_UPLOAD_BYTES), max_request_body(DEFAULT_MAX_UPLOAD_BYTES))
    assert limits[0] < len(body) <= limits[1]
    chunks = [body[i : i + 65_536] for i in range(0, len(body), 65_536)]
    for sent in (body, iter(chunks)):
        response = client.post("/diagnose", content=sent, headers={"content-type": CURL_DATA})
        assert response.status_code == 413, response.text
        error = error_of(response)
        assert error["code"] == "payload_too_large"
        assert "application/json" in error["message"] and "application/json" in error["message_en"]
        assert error != too_large(DEFAULT_MAX_UPLOAD_BYTES).answer.detail().model_dump()
    assert client.post("/diagnose", content=body, headers={"content-type": PAGE}).status_code != 413


@pytest.mark.parametrize(
    "content_type", [PAGE, "application/json; charset=utf-8", "text/plain", CURL_DATA, None]
)
def test_the_largest_body_the_app_admits_fits_a_lambda_event(content_type: str | None) -> None:
    """The worst body under the cap: every whitespace character the upload check admits is a JSON escape,
    one more byte each in the event."""
    text = is_text_content_type(content_type)
    limit = (max_request_body if text else max_binary_request_body)(DEFAULT_MAX_UPLOAD_BYTES)
    escapes = 6_000_000 // 32 + 8
    body = (b'{"image": "' + b"\\n" * escapes).ljust(limit - 2, b"A") + b'"}'
    assert len(body) == limit
    assert event_bytes(http_api_event(body, content_type)) <= LAMBDA_PAYLOAD_BYTES


# ------------------------------------------------------------------ the same limit at the edge

TEMPLATE = load_template(REPO_ROOT / "template.yaml")
EDGE_FUNCTION: dict[str, Any] = TEMPLATE["Resources"].get("DiagnoseBodyLimit", {}).get("Properties", {})
NODE = shutil.which("node")


def run_edge_function(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """template.yaml's CloudFront Function code, run by Node.js on CloudFront Functions' event shape."""
    script = EDGE_FUNCTION.get("FunctionCode", "function handler(event) { return event.request; }") + (
        "\nvar events = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "\nprocess.stdout.write(JSON.stringify(events.map(function (e) { return handler(e); })));"
    )
    events = [{"version": "1.0", "context": {"eventType": "viewer-request"}, "request": r} for r in requests]
    assert NODE is not None
    done = subprocess.run(
        [NODE, "-e", script], input=json.dumps(events), capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(done.stdout)


def _request(length: int | None, content_type: str | None) -> dict[str, Any]:
    headers = {}
    if length is not None:
        headers["content-length"] = {"value": str(length)}
    if content_type is not None:
        headers["content-type"] = {"value": content_type}
    return {"method": "POST", "uri": "/diagnose", "querystring": {}, "headers": headers, "cookies": {}}


def test_the_diagnose_route_runs_the_body_limit_at_the_edge() -> None:
    behaviors = TEMPLATE["Resources"]["SiteDistribution"]["Properties"]["DistributionConfig"][
        "CacheBehaviors"
    ]
    (diagnose,) = [b for b in behaviors if b["PathPattern"] == "/diagnose"]
    assert diagnose.get("FunctionAssociations") == [
        {"EventType": "viewer-request", "FunctionARN": {"Fn::GetAtt": ["DiagnoseBodyLimit", "FunctionARN"]}}
    ]
    assert EDGE_FUNCTION.get("FunctionConfig", {}).get("Runtime") == "cloudfront-js-2.0"
    assert EDGE_FUNCTION.get("AutoPublish") is True
    assert len(EDGE_FUNCTION["FunctionCode"].encode()) < 10_240  # CloudFront Functions' code size quota


@pytest.mark.skipif(NODE is None, reason="Node.js runs the CloudFront Function's code")
def test_the_edge_refuses_exactly_what_the_app_refuses_with_its_answer() -> None:
    text_limit = max_request_body(DEFAULT_MAX_UPLOAD_BYTES)
    binary_limit = max_binary_request_body(DEFAULT_MAX_UPLOAD_BYTES)
    cases = [
        (None, PAGE, False),
        (text_limit, PAGE, False),
        (text_limit + 1, PAGE, True),
        (text_limit + 1, "Application/JSON; charset=UTF-8", True),
        (text_limit, "text/plain", False),
        (binary_limit, CURL_DATA, False),
        (binary_limit + 1, CURL_DATA, True),
        (binary_limit + 1, None, True),
        (binary_limit + 1, "application/problem+json", True),
        (text_limit + 1, CURL_DATA, True),
        (9_000_000, PAGE, True),
        (9_000_000, None, True),
    ]
    answers = run_edge_function([_request(length, content_type) for length, content_type, _ in cases])
    for (length, content_type, refused), answer in zip(cases, answers, strict=True):
        where = f"Content-Length {length}, Content-Type {content_type}"
        if not refused:
            assert "statusCode" not in answer and answer["uri"] == "/diagnose", where
            continue
        assert length is not None
        for_its_type = not is_text_content_type(content_type) and length <= text_limit
        expected = (
            too_large_for_its_type(DEFAULT_MAX_UPLOAD_BYTES)
            if for_its_type
            else too_large(DEFAULT_MAX_UPLOAD_BYTES).answer
        )
        assert answer["statusCode"] == expected.status == 413, where
        assert answer["headers"]["content-type"]["value"] == "application/json"
        assert answer["body"]["encoding"] == "text"
        assert json.loads(answer["body"]["data"]) == expected.body(), where
        assert answer["body"]["data"].isascii()
        with make_client() as app:  # the app refuses the same body by the same Content-Length
            headers = {"content-length": str(length)} | (
                {"content-type": content_type} if content_type else {}
            )
            refusal = app.post("/diagnose", content=b"x" * 16, headers=headers)
            assert refusal.status_code == 413 and refusal.json() == expected.body(), where
