"""Property-based fuzzing of the real app: any body, any mutated image file, any Lambda event body.

A small sample for ``make test`` (``EXAMPLES`` per property); bench/fuzz_api.py runs the same strategies
for 10,000+ cases. The property: every answer is a reading (200) or a 4xx with the error shape, never a
5xx (the app turns any unhandled exception into a 500, so this also means "no unhandled exception").
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from function.app import handler
from tests.api_support import make_client
from tests.fuzz_strategies import (
    LambdaContext,
    lambda_event,
    lambda_problem,
    mutated_file,
    problem_with,
    request_body,
    response_problem,
)
from tests.upload_samples import b64

EXAMPLES = 200
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # no timing: some seeds decode in 50 ms on a busy machine
    database=None,  # nothing written to .hypothesis/
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def client(shared_data: Path) -> Iterator[TestClient]:
    with make_client() as client:
        yield client


@FUZZ
@given(body=request_body())
def test_any_request_body_gets_a_reading_or_a_4xx(client: TestClient, body: bytes) -> None:
    response = client.post("/diagnose", content=body, headers={"content-type": "application/json"})
    assert response_problem(response) is None


@FUZZ
@given(data=mutated_file())
def test_any_mutated_image_file_gets_a_reading_or_a_4xx(client: TestClient, data: bytes) -> None:
    response = client.post("/diagnose", json={"image": b64(data)})
    assert response_problem(response) is None


@FUZZ
@given(
    body=request_body(),
    encoded=st.booleans(),
    content_type=st.sampled_from([None, "application/json", "text/plain", "multipart/form-data"]),
)
def test_the_lambda_handler_answers_any_body(
    shared_data: Path, body: bytes, encoded: bool, content_type: str | None
) -> None:
    response = handler(lambda_event(body, encoded, content_type), LambdaContext())
    assert lambda_problem(response) is None


def test_the_property_can_fail() -> None:
    internal = b'{"error": {"code": "internal_error", "message": "x", "message_en": "y"}}'
    assert problem_with(500, internal) is not None
    one_language = b'{"error": {"code": "unsupported_media_type", "message": "No."}}'
    assert problem_with(415, one_language) is not None
    assert problem_with(422, b'{"detail": [{"loc": ["body"]}]}') is not None  # FastAPI's default shape
    assert problem_with(200, json.dumps({"result": "maybe"}).encode()) is not None
    assert problem_with(400, b"<html>Bad Request</html>") is not None
    both = b'{"error": {"code": "unsupported_media_type", "message": "No.", "message_en": "Not read."}}'
    assert problem_with(415, both) is None
