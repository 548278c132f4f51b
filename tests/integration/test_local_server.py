"""The app behind a real HTTP server (uvicorn, as a local run serves it) on loopback.

What only a real socket shows: the ``server`` header is absent (uvicorn adds one unless told not to), and
an oversized upload gets the JSON 413 rather than a connection reset while the client is still sending.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from function.app import create_app
from function.settings import Settings
from infra.locations import RELEASE_BUNDLE
from tests.api_support import served_over_http
from tests.upload_samples import COVID_RADIOGRAPH, b64


@pytest.fixture(scope="module")
def server_address(shared_data: Path) -> Iterator[tuple[str, int]]:
    with served_over_http(create_app(Settings(bundle_location=str(RELEASE_BUNDLE)))) as address:
        yield address


def _post(address: tuple[str, int], body: bytes) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection(*address, timeout=30)
    try:
        # "Connection: close" (as urllib sends it) is the case where the server would otherwise close
        # the socket with the body unread, resetting the connection before the client reads the 413.
        headers = {"content-type": "application/json", "connection": "close"}
        connection.request("POST", "/diagnose", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def test_a_radiograph_over_http(server_address: tuple[str, int]) -> None:
    status, headers, body = _post(
        server_address, json.dumps({"image": b64(COVID_RADIOGRAPH.read_bytes())}).encode()
    )
    assert status == 200
    assert json.loads(body)["result"] == "diagnosis"
    assert "server" not in headers


def test_an_oversized_body_gets_a_clean_json_413(server_address: tuple[str, int]) -> None:
    status, headers, body = _post(server_address, b'{"image": "' + b"A" * 7_000_000 + b'"}')
    assert status == 413
    assert json.loads(body)["error"]["code"] == "payload_too_large"
    assert "server" not in headers
