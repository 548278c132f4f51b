"""Every error answer speaks both languages: ``message`` in Spanish, ``message_en`` in English, as a reading.

A client shows ``message`` whatever the status, so an error in English only would switch languages under the
person. The API's tests read errors through ``tests.api_support.error_of``, which checks both texts
(present, different, with the same numbers): the hostile table's refusals (test_hostile_inputs.py), routes,
guard, 500 and 503 (test_errors.py), /health's 503 (test_health_route.py), the 403 (test_origin_verify.py);
the Lambda, SAM and WAF tests check the two fields themselves. Here: what must hold by construction (no
error in one language can be made; every raise site names both texts), and the one refusal no other test
makes.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from function.errors import ClientError, ErrorAnswer
from infra.locations import REPO_ROOT
from tests.api_support import assert_bilingual, error_of, make_client, post_image
from tests.upload_samples import COVID_RADIOGRAPH, gray_of, png_16bit


@pytest.fixture(scope="module")
def client(shared_data: Path) -> Iterator[TestClient]:
    with make_client() as client:
        yield client


def test_a_truncated_16_bit_image_is_answered_in_both_languages(client: TestClient) -> None:
    """The one refusal the hostile table (tests/hostile_inputs.py, posted through ``error_of``, which
    checks both languages) has no row for: a 16-bit PNG cut in half."""
    whole = png_16bit(gray_of(COVID_RADIOGRAPH))
    response = post_image(client, whole[: len(whole) // 2])
    assert response.status_code == 400, response.text[:300]
    assert error_of(response)["code"] == "undecodable_image"


# ------------------------------------------------------------------------- by construction


def test_an_error_in_one_language_cannot_be_made() -> None:
    with pytest.raises(TypeError):
        ClientError("The image is empty.")  # type: ignore[misc]
    with pytest.raises(TypeError):
        ClientError(en="The image is empty.")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        ClientError(es=" ", en="The image is empty.")
    with pytest.raises(TypeError):
        ErrorAnswer(400, "empty", "", "The image is empty.")
    made = ClientError(es="La imagen está vacía.", en="The image is empty.", status=400, code="empty")
    assert_bilingual(made.answer.body()["error"])


def _client_error_names() -> set[str]:
    """ClientError and every subclass of it the app can raise (the app imports them all)."""
    found, todo = set(), [ClientError]
    while todo:
        kind = todo.pop()
        found.add(kind.__name__)
        todo.extend(kind.__subclasses__())
    return found


def test_every_raise_site_names_both_languages() -> None:
    """Paths no request above reaches (a DICOM palette that cannot be read...) still say both texts."""
    names = _client_error_names()
    assert {"UploadTooLarge", "UndecodableImage", "ImageTooLarge"} <= names
    sites = 0
    for path in sorted((REPO_ROOT / "function").glob("*.py")):
        for call in ast.walk(ast.parse(path.read_text())):
            if not isinstance(call, ast.Call):
                continue
            called = call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", "")
            if called in names:
                sites += 1
                keywords = {keyword.arg for keyword in call.keywords}
                where = f"{path.name}:{call.lineno}"
                assert not call.args and {"es", "en"} <= keywords, f"{where}: {called} without es= and en="
    assert sites >= 30
