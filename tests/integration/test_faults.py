"""Faults of the bundle's S3, against the loopback S3 server (infra/local_s3.py) over real sockets.

S3 down at cold start (server stopped, then started again on the same port with the same objects), S3
slow (a TCP proxy on loopback holding back each answer), S3 that stops answering (the proxy holds
answers past the function's read timeout), and a corrupt model that a re-signed manifest vouches for.
Each fault must give a 503 with the generic message (the reason only in the log), never a diagnosis and
never a hang, and the same app must serve again by itself once the fault is gone: no restart.

Missing and tampered objects are in test_s3_loading.py.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from infra.local_s3 import LocalS3Server, upload_bundle
from infra.locations import RELEASE_BUNDLE
from tests.api_support import assert_model_unavailable, make_client, post_image, unavailable_reasons
from tests.upload_samples import COVID_RADIOGRAPH

HANG_LIMIT_S = 120
"""Far beyond the S3 client's bounds (connect 3 s, read 5 s, 2 attempts): longer means it hangs."""


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch, shared_data: Path) -> Iterator[LocalS3Server]:
    """A loopback S3 server of this test's own, and boto3 in this process pointed at it."""
    server = LocalS3Server().start()
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def location(s3: LocalS3Server) -> str:
    """The shipped bundle published to a fresh bucket of ``s3``."""
    return upload_bundle(s3.client(), RELEASE_BUNDLE, bucket=f"cxr-faults-{uuid.uuid4().hex[:12]}")


class SlowProxy:
    """A TCP proxy on loopback that holds back each answer of the server behind it for ``delay`` seconds.

    Requests go through at once; the first bytes of each answer wait, so the client sees a server that
    accepts connections and requests but is slow (or, with a long delay, silent) to reply.
    """

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.delay = 0.0
        self.connections = 0
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._start(self._accept)

    def _start(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _accept(self) -> None:
        self._listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            upstream = socket.create_connection(self.target)
            waiting = threading.Event()  # set while a request has been sent and its answer not yet
            self._start(self._pump, client, upstream, waiting, False)
            self._start(self._pump, upstream, client, waiting, True)

    def _pump(
        self, source: socket.socket, sink: socket.socket, waiting: threading.Event, answers: bool
    ) -> None:
        source.settimeout(0.2)
        try:
            while not self._stop.is_set():
                try:
                    chunk = source.recv(65536)
                except TimeoutError:
                    continue
                if not chunk:
                    break
                if not answers:
                    waiting.set()
                elif waiting.is_set():
                    waiting.clear()
                    if self._stop.wait(self.delay):  # hold the answer back; give up if stopping
                        break
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)


@pytest.fixture
def slow_proxy(s3: LocalS3Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[SlowProxy]:
    """boto3 reaches the S3 server through the proxy (same objects, slower answers when told so)."""
    proxy = SlowProxy(s3.port)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{proxy.port}")
    try:
        yield proxy
    finally:
        proxy.close()


def _diagnose(client: TestClient) -> httpx2.Response:
    """POST a radiograph, failing (not hanging) if no answer comes within HANG_LIMIT_S."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(post_image, client, COVID_RADIOGRAPH.read_bytes())
        return future.result(timeout=HANG_LIMIT_S)


def _assert_unavailable(client: TestClient, caplog: pytest.LogCaptureFixture, reason: str) -> None:
    caplog.clear()
    response = _diagnose(client)
    assert_model_unavailable(response)
    assert "diagnosis" not in response.json() and "s3://" not in response.text
    assert reason in unavailable_reasons(caplog), unavailable_reasons(caplog)


def _assert_served(client: TestClient) -> None:
    response = _diagnose(client)
    assert response.status_code == 200, response.text
    assert response.json()["result"] == "diagnosis"
    assert client.get("/health").json()["loaded"] is True


def test_s3_down_at_cold_start_then_back(
    s3: LocalS3Server, location: str, caplog: pytest.LogCaptureFixture
) -> None:
    port = s3.port
    s3.stop()
    with make_client(location) as client:
        _assert_unavailable(client, caplog, "cannot reach S3")
        health = client.get("/health")
        assert_model_unavailable(health)
        assert "s3://" not in health.text and "127.0.0.1" not in health.text

        s3.start()  # the same port, the same objects: S3 is back
        assert s3.port == port
        _assert_served(client)


def test_s3_slow_but_within_the_timeouts_is_served(
    slow_proxy: SlowProxy, location: str, caplog: pytest.LogCaptureFixture
) -> None:
    slow_proxy.delay = 1.0  # each of the bundle's reads answers a second late (the read timeout is 5 s)
    with make_client(location) as client:
        _assert_served(client)
    assert not unavailable_reasons(caplog)


def test_s3_that_stops_answering_is_a_503_then_recovers(
    slow_proxy: SlowProxy, location: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Answers held past the read timeout (5 s): a 503 after 2 attempts, not a request that never ends.

    The attempts are counted (connections through the proxy), not timed: a client that retried more, or
    waited on one connection forever, would fail here or hit HANG_LIMIT_S.
    """
    slow_proxy.delay = 60.0
    with make_client(location) as client:
        started = time.monotonic()
        _assert_unavailable(client, caplog, "Read timeout")
        print(f"503 after {time.monotonic() - started:.1f} s of a silent S3")  # for docs/reliability.md
        assert slow_proxy.connections == 2  # the manifest's read, tried twice, and nothing after it

        slow_proxy.delay = 0.0
        _assert_served(client)


def test_a_corrupt_model_with_a_re_signed_manifest_is_a_503_until_repaired(
    s3: LocalS3Server, location: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The hashes match (the manifest was re-signed), but the model itself cannot be loaded."""
    client_s3 = s3.client()
    bucket, prefix = location.removeprefix("s3://").split("/", 1)
    original_model = (RELEASE_BUNDLE / "model.tflite").read_bytes()
    original_manifest = (RELEASE_BUNDLE / "manifest.json").read_bytes()
    corrupt = original_model[: len(original_model) // 2]
    manifest = json.loads(original_manifest)
    manifest["files"]["model.tflite"] = {"sha256": hashlib.sha256(corrupt).hexdigest(), "bytes": len(corrupt)}
    client_s3.put_object(Bucket=bucket, Key=prefix + "model.tflite", Body=corrupt)
    client_s3.put_object(Bucket=bucket, Key=prefix + "manifest.json", Body=json.dumps(manifest).encode())

    with make_client(location) as client:
        _assert_unavailable(client, caplog, "model.tflite cannot be loaded")
        _assert_unavailable(client, caplog, "model.tflite cannot be loaded")  # retried, still refused

        client_s3.put_object(Bucket=bucket, Key=prefix + "model.tflite", Body=original_model)
        client_s3.put_object(Bucket=bucket, Key=prefix + "manifest.json", Body=original_manifest)
        _assert_served(client)


def test_a_loaded_bundle_survives_s3_going_away(s3: LocalS3Server, location: str) -> None:
    """Loaded once per container: an S3 outage after the cold start does not touch warm requests."""
    with make_client(location) as client:
        _assert_served(client)
        s3.stop()
        _assert_served(client)
