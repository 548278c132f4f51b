"""GET /health and the bundle's life in a container: loaded once, retried after a failure, repaired live."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from function.app import create_app
from function.bundle import LoadedBundle, load_bundle, source_for
from function.schemas import MODEL_UNAVAILABLE_MESSAGE, MODEL_UNAVAILABLE_MESSAGE_EN
from function.service import BundleHolder
from function.settings import Settings
from infra.locations import RELEASE_BUNDLE
from tests.api_support import (
    assert_model_unavailable,
    make_client,
    post_image,
    release_manifest,
    unavailable_reasons,
)
from tests.upload_samples import COVID_RADIOGRAPH


@pytest.fixture
def bundle_copy(tmp_path: Path) -> Path:
    """A private copy of the shipped bundle that a test may break and repair."""
    copy = tmp_path / "bundle"
    shutil.copytree(RELEASE_BUNDLE, copy)
    return copy


def test_health_reports_the_loaded_version() -> None:
    with make_client() as client:
        response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "loaded": True,
        "model_version": release_manifest()["bundle_version"],
        "error": None,
    }


def test_health_is_503_with_the_standard_error_when_the_bundle_is_missing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The health fields the deploy's check reads, and the error object every other answer has, in both
    languages: a client reads /health's failure as it reads /diagnose's."""
    with make_client(tmp_path / "missing") as client:
        response = client.get("/health")
    assert_model_unavailable(response)  # through error_of: code, Spanish and English, nothing else
    assert response.json() == {
        "status": "unavailable",
        "loaded": False,
        "model_version": None,
        "error": {
            "code": "bundle_unavailable",
            "message": MODEL_UNAVAILABLE_MESSAGE,
            "message_en": MODEL_UNAVAILABLE_MESSAGE_EN,
        },
    }
    assert "manifest.json" in unavailable_reasons(caplog)  # the details are in the log only


def test_a_tampered_model_is_never_served_and_a_repair_is_picked_up(
    bundle_copy: Path, shared_data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    model = bundle_copy / "model.tflite"
    original = model.read_bytes()
    model.write_bytes(original[:-1] + bytes([original[-1] ^ 0xFF]))  # one flipped byte

    with make_client(bundle_copy) as client:
        for attempt in range(2):  # a failure is not cached as success, nor does it stop retries
            response = post_image(client, COVID_RADIOGRAPH.read_bytes())
            assert_model_unavailable(response)
            health = client.get("/health")
            assert_model_unavailable(health)
            assert "sha256" not in health.text
            logged = unavailable_reasons(caplog).splitlines()
            assert len(logged) == 2 * (attempt + 1)  # each attempt (diagnose, health) logs its reason
            assert all("model.tflite" in line and "sha256" in line for line in logged)

        model.write_bytes(original)
        response = post_image(client, COVID_RADIOGRAPH.read_bytes())
        assert response.status_code == 200
        assert response.json()["result"] == "diagnosis"
        assert client.get("/health").json()["loaded"] is True


def test_a_missing_artifact_is_a_503(bundle_copy: Path, caplog: pytest.LogCaptureFixture) -> None:
    (bundle_copy / "average.png").unlink()
    with make_client(bundle_copy) as client:
        response = client.get("/health")
    assert response.status_code == 503
    assert "average.png" not in response.text
    assert "average.png" in unavailable_reasons(caplog)


def test_the_bundle_is_loaded_once_even_under_concurrent_first_requests() -> None:
    calls: list[str] = []

    def counting_loader(location: str) -> LoadedBundle:
        calls.append(location)
        return load_bundle(source_for(location))

    holder = BundleHolder(str(RELEASE_BUNDLE), loader=counting_loader)
    app = create_app(Settings(bundle_location=str(RELEASE_BUNDLE)), holder)
    statuses: list[int] = []
    with TestClient(app) as client:
        start = threading.Barrier(8)

        def ask() -> None:
            start.wait()
            statuses.append(client.get("/health").status_code)

        threads = [threading.Thread(target=ask) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        post_image(client, COVID_RADIOGRAPH.read_bytes())
    assert statuses == [200] * 8
    assert calls == [str(RELEASE_BUNDLE)]


def test_nothing_is_loaded_before_the_first_request() -> None:
    holder = BundleHolder(str(RELEASE_BUNDLE))
    create_app(Settings(bundle_location=str(RELEASE_BUNDLE)), holder)
    assert holder.loaded is None


def test_a_bundle_of_another_version_than_configured_is_not_served(caplog: pytest.LogCaptureFixture) -> None:
    """The stack names the version it serves (CXR_BUNDLE_VERSION): another bundle at its prefix is refused."""
    version = release_manifest()["bundle_version"]
    with make_client(bundle_version="20261207T000000Z-00000000") as client:
        response = client.get("/health")
    assert response.status_code == 503
    assert version not in response.text
    assert f"the bundle found is version {version}" in unavailable_reasons(caplog)

    with make_client(bundle_version=version) as client:
        assert client.get("/health").json()["model_version"] == version
