"""Every DICOM file pydicom ships (real scanners' CT, MR, NM and ultrasound images, segmentations, dose
grids, structured reports, a waveform, damaged and odd-syntax files) through the API: an answer in the
contract for each, never a 5xx, and a file whose own header names another modality is refused by it.
None of them is a chest film: those the header leaves to the pixels (secondary captures, mostly the DICOM
toolkits' test patterns) are refused by the consistency check (the release before `20261207T173848Z`
read 19 of those 22 "COVID-19": docs/model-experiments.md, "Drawn images").

The header rules (function/dicom_header.py) are otherwise tested on files this suite writes with pydicom;
these come from the modalities themselves (pydicom's test data, installed with it: no download)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pydicom
import pytest
from fastapi.testclient import TestClient

from function.dicom_header import PROJECTION_RADIOGRAPHY
from tests.api_support import error_of, make_client, post_image

CORPUS = sorted((Path(pydicom.__file__).parent / "data" / "test_files").glob("*.dcm"))


def modality_of(path: Path) -> str | None:
    """The Modality the file's header gives, read as pydicom reads it (None: none, or not readable)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = pydicom.dcmread(path, stop_before_pixels=True, force=True).get("Modality")
    except Exception:
        return None
    return str(value) if isinstance(value, str) and value else None


@pytest.fixture(scope="module")
def client() -> TestClient:
    return make_client()


def test_the_corpus_holds_other_modalities() -> None:
    """Guards the test below against a pydicom release that ships fewer files: it must see each kind."""
    modalities = {modality_of(path) for path in CORPUS}
    assert {"CT", "MR", "NM", "US"} <= modalities, modalities
    assert len(CORPUS) >= 60


@pytest.mark.parametrize("path", CORPUS, ids=[path.name for path in CORPUS])
def test_every_dicom_file_pydicom_ships_gets_an_answer_and_none_is_read_as_a_chest_film(
    client: TestClient, path: Path
) -> None:
    response = post_image(client, path.read_bytes())
    assert response.status_code in (200, 400, 413, 415), (response.status_code, response.text)
    modality = modality_of(path)
    if response.status_code != 200:
        error_of(response)
        return
    body = response.json()
    if modality is not None and modality not in PROJECTION_RADIOGRAPHY:
        assert body["result"] == "not_chest_xray", body
        assert body["consistency"]["dicom_header"] == f"Modality {modality}", body["consistency"]
    else:  # secondary captures (the toolkits' test patterns) and files without a Modality: no film here
        assert body["result"] == "not_chest_xray", (body["result"], body["consistency"])
