"""Helpers for driving the function's FastAPI app in tests: a client on a given bundle, posting uploads."""

from __future__ import annotations

import json
import re
import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn
from fastapi.testclient import TestClient

from function.app import create_app
from function.schemas import MODEL_UNAVAILABLE_MESSAGE, MODEL_UNAVAILABLE_MESSAGE_EN, HealthResponse
from function.settings import Settings
from infra.locations import RELEASE_BUNDLE
from tests.upload_samples import b64


@contextmanager
def served_over_http(app: Any) -> Iterator[tuple[str, int]]:
    """An ASGI app behind uvicorn (as a local run serves it) on a free loopback port; stopped on exit."""
    config = uvicorn.Config(app, log_level="warning", server_header=False, lifespan="off")
    server = uvicorn.Server(config)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        for _ in range(6000):  # a generous minute: a busy CI machine starts it slowly, not never
            if server.started:
                break
            threading.Event().wait(0.01)
        assert server.started, "uvicorn did not start within a minute"
        yield listener.getsockname()[:2]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()


def release_manifest() -> dict[str, Any]:
    """The shipped bundle's manifest; a missing bundle fails the test (it is part of the repo)."""
    manifest = RELEASE_BUNDLE / "manifest.json"
    assert manifest.is_file(), f"no bundle at {RELEASE_BUNDLE}: run `python -m training publish` first"
    return json.loads(manifest.read_text())


def release_with_manifest(folder: Path, **fields: Any) -> Path:
    """A copy of the shipped bundle in ``folder`` with some manifest fields replaced. The manifest is the
    bundle's root of trust, not a hashed file, so the copy still loads: a way to serve the release's model
    under another calibration or preprocessing version and check what the service does with it."""
    shutil.copytree(RELEASE_BUNDLE, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, **fields}))
    return folder


def release_gate_threshold() -> float:
    return float(json.loads((RELEASE_BUNDLE / "gate.json").read_text())["threshold"])


def make_client(location: str | Path = RELEASE_BUNDLE, **settings: Any) -> TestClient:
    """A TestClient on a fresh app (fresh BundleHolder) reading the bundle at ``location``."""
    app = create_app(Settings(bundle_location=str(location), **settings))
    return TestClient(app, raise_server_exceptions=False)


def post_image(client: TestClient, data: bytes | str) -> httpx2.Response:
    """POST /diagnose with ``data`` (file bytes, base64'd here; or an already-built ``image`` string)."""
    image = data if isinstance(data, str) else b64(data)
    return client.post("/diagnose", json={"image": image})


HEALTH_FIELDS = frozenset(HealthResponse.model_fields)
"""What /health's 503 holds: its health fields and, among them, the contract's ``error`` object."""


def error_of(response: httpx2.Response) -> dict[str, str]:
    """The ``error`` object of a non-2xx answer, checking the contract's shape on the way: the object alone,
    or beside the health fields for /health's 503."""
    body = response.json()
    health_503 = response.status_code == 503 and response.request.url.path.endswith("/health")
    assert set(body) == (HEALTH_FIELDS if health_503 else {"error"}), body
    assert_bilingual(body["error"])
    return body["error"]


def assert_bilingual(error: object) -> None:
    """An error object as every answer has it: a code, and one sentence in Spanish (``message``) and in
    English (``message_en``), two different texts with the same numbers, each written as its language
    writes numbers (``function.errors.number``)."""
    assert isinstance(error, dict) and set(error) == {"code", "message", "message_en"}, error
    assert all(isinstance(value, str) and value.strip() for value in error.values()), error
    assert error["message"] != error["message_en"], f"the same text in both languages: {error}"
    assert numbers_in(error["message"], "es") == numbers_in(error["message_en"], "en"), error


_NUMBER_PATTERNS = {
    "es": re.compile(r"\d{1,3}(?:\u00a0\d{3})+(?:,\d+)?|\d+(?:,\d+)?"),
    "en": re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"),
}
"""A number as each language writes it: Spanish groups with a no-break space and has a decimal comma,
English groups with commas and has a decimal point."""


def numbers_in(text: str, language: str) -> list[str]:
    """The numbers of a sentence, sorted, as plain digits with a decimal point: "17 000" and "17,000" both
    give 17000, "4,5 MB" and "4.5 MB" both 4.5. Fails on a number the language's rule does not write so:
    five digits or more ungrouped ("17000"), or in Spanish four grouped ("4 500")."""
    group, point = ("\u00a0", ",") if language == "es" else (",", ".")
    numbers = []
    for written in _NUMBER_PATTERNS[language].findall(text):
        whole, _, fraction = written.partition(point)
        digits = whole.replace(group, "")
        grouped = group in whole
        # English groups four digits too ("4,500") but names keep theirs ("JPEG 2000"): either is fine
        as_the_rule = grouped if len(digits) >= 5 else not grouped or language == "en"
        assert as_the_rule, f"{written!r} is not how {language} writes it, in {text!r}"
        numbers.append(digits + ("." + fraction if fraction else ""))
    return sorted(numbers)


def assert_model_unavailable(response: httpx2.Response) -> None:
    """A 503 that says only the generic sentence: the reason (S3 keys, hashes) must stay in the log.
    For /diagnose and /health alike (``error_of`` checks each one's shape)."""
    assert response.status_code == 503, response.text
    assert error_of(response) == {
        "code": "bundle_unavailable",
        "message": MODEL_UNAVAILABLE_MESSAGE,
        "message_en": MODEL_UNAVAILABLE_MESSAGE_EN,
    }


def unavailable_reasons(caplog: pytest.LogCaptureFixture) -> str:
    """The detailed reasons the bundle holder logged for operators (what the public no longer sees)."""
    return "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.name == "cxr.service" and record.levelno >= 40
    )
