"""``make run``'s one origin (infra/local_site.py): page files with the deployed headers, everything else
to the API, and never an uncaught exception for a method a page does not take."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from function.app import create_app
from function.settings import Settings
from infra.local_site import LocalSite
from infra.locations import FRONTEND, RELEASE_BUNDLE
from tests.api_support import error_of


@pytest.fixture(scope="module")
def site(shared_data: Path) -> Iterator[TestClient]:
    api = create_app(Settings(bundle_location=str(RELEASE_BUNDLE)))
    with TestClient(LocalSite(api), raise_server_exceptions=False) as client:
        yield client


def test_page_files_come_with_the_deployed_headers(site: TestClient) -> None:
    scripts = [f"/{path.name}" for path in sorted(FRONTEND.glob("*.js"))]
    assert "/app.js" in scripts and "/i18n.js" in scripts
    for path in ("/", *scripts):
        response = site.get(path)
        assert response.status_code == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
    # Classic scripts under X-Content-Type-Options: nosniff run only if served as JavaScript.
    for path in scripts:
        content_type = site.get(path).headers["content-type"]
        assert content_type.startswith(("text/javascript", "application/javascript")), (path, content_type)
    assert site.head("/").status_code == 200


def test_other_paths_and_methods_go_to_the_api(site: TestClient) -> None:
    assert site.get("/health").json()["loaded"] is True
    assert "content-security-policy" not in site.get("/health").headers
    for method, path, status in (
        ("POST", "/", 404),
        ("PUT", "/app.js", 404),
        ("DELETE", "/index.html", 404),
        ("GET", "/diagnose", 405),
        ("GET", "/../function/app.py", 404),
        ("GET", "/no-such-file.js", 404),
    ):
        response = site.request(method, path)
        assert response.status_code == status, (method, path, response.text)
        assert error_of(response)["code"] in ("not_found", "method_not_allowed"), (method, path)
