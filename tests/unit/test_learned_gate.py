"""The consistency check's learned second stage, as served: loaded, verified, applied, reported.

The stage-2 model here is a tiny Keras model converted to LiteRT whose answer is known in closed form
(``tests.gate_bundles``), so each test can say which answer is right for a real radiograph.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from function.bundle import FolderSource, load_bundle
from function.bundle_format import BundleError
from function.imaging import decode_grayscale, to_model_input
from tests.api_support import error_of, make_client, post_image
from tests.gate_bundles import (
    STAGE2_FILE,
    STAGE2_LABELS,
    edit_gate,
    expected_frontal_probability,
    mean_brightness_model,
    reference_size,
    with_stage2,
    without_stage2,
)
from tests.upload_samples import COVID_RADIOGRAPH, PHOTO, b64


@pytest.fixture(scope="session")
def stage2_model() -> bytes:
    return mean_brightness_model(reference_size())


@pytest.fixture(scope="module")
def radiograph_p(shared_data: Path) -> float:
    """The test model's P(frontal) for the COVID radiograph's model input."""
    size = reference_size()
    return expected_frontal_probability(to_model_input(decode_grayscale(COVID_RADIOGRAPH.read_bytes()), size))


def _answer(bundle: Path, data: bytes, **request: Any) -> dict[str, Any]:
    with make_client(bundle) as client:
        response = client.post("/diagnose", json={"image": b64(data), **request})
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------------------------------------- no stage 2


def test_a_bundle_without_stage_two_reports_nulls(tmp_path: Path, shared_data: Path) -> None:
    body = _answer(without_stage2(tmp_path / "paper"), COVID_RADIOGRAPH.read_bytes())
    assert body["result"] == "diagnosis"
    assert body["consistency"]["frontal_probability"] is None
    assert body["consistency"]["frontal_threshold"] is None
    assert body["consistency"]["ssim"] >= body["consistency"]["threshold"]


# ---------------------------------------------------------------------------------------------- stage 2


@pytest.mark.slow
def test_stage_two_probability_is_the_models_answer_for_the_upload(
    tmp_path: Path, stage2_model: bytes, radiograph_p: float
) -> None:
    assert 0.05 < radiograph_p < 0.95, "the test model should not saturate on a radiograph"
    body = _answer(with_stage2(tmp_path / "b", stage2_model, 0.0), COVID_RADIOGRAPH.read_bytes())
    assert body["result"] == "diagnosis"
    assert body["consistency"]["frontal_probability"] == pytest.approx(radiograph_p, abs=1e-5)
    assert body["consistency"]["frontal_threshold"] == 0.0


@pytest.mark.slow
def test_stage_two_rejects_what_ssim_accepts(
    tmp_path: Path, stage2_model: bytes, radiograph_p: float
) -> None:
    """Just above the upload's P(frontal): refused although its SSIM passes; just below: read."""
    above = _answer(
        with_stage2(tmp_path / "above", stage2_model, radiograph_p + 0.01), COVID_RADIOGRAPH.read_bytes()
    )
    below = _answer(
        with_stage2(tmp_path / "below", stage2_model, radiograph_p - 0.01), COVID_RADIOGRAPH.read_bytes()
    )

    assert above["result"] == "not_chest_xray"
    assert above["probabilities"] is None and above["heatmap"] is None
    assert above["consistency"]["ssim"] >= above["consistency"]["threshold"]
    assert above["consistency"]["frontal_probability"] < above["consistency"]["frontal_threshold"]
    assert below["result"] == "diagnosis"
    assert below["consistency"]["frontal_probability"] >= below["consistency"]["frontal_threshold"]


@pytest.mark.slow
def test_stage_two_reads_the_output_gate_json_names(
    tmp_path: Path, stage2_model: bytes, radiograph_p: float
) -> None:
    """With the labels listed the other way round, the same model's P(frontal) is its other output."""
    reversed_labels = list(reversed(STAGE2_LABELS))
    body = _answer(
        with_stage2(tmp_path / "b", stage2_model, 0.0, labels=reversed_labels), COVID_RADIOGRAPH.read_bytes()
    )
    assert body["consistency"]["frontal_probability"] == pytest.approx(1 - radiograph_p, abs=1e-5)


@pytest.mark.slow
def test_both_scores_are_reported_when_ssim_already_rejects(tmp_path: Path, stage2_model: bytes) -> None:
    body = _answer(with_stage2(tmp_path / "b", stage2_model, 0.0), PHOTO.read_bytes())
    size = reference_size()
    photo_p = expected_frontal_probability(to_model_input(decode_grayscale(PHOTO.read_bytes()), size))
    assert body["result"] == "not_chest_xray"
    assert body["consistency"]["ssim"] < body["consistency"]["threshold"]
    assert body["consistency"]["frontal_probability"] == pytest.approx(photo_p, abs=1e-5)


@pytest.mark.slow
def test_a_stage_two_model_of_the_wrong_input_size_is_refused(tmp_path: Path) -> None:
    size = reference_size()
    bundle = with_stage2(tmp_path / "b", mean_brightness_model(size // 2), 0.5)
    with pytest.raises(BundleError, match=f"{STAGE2_FILE} takes"):
        load_bundle(FolderSource(bundle))


# ---------------------------------------------------------------------------------------------- refused


def _refusal(bundle: Path) -> str:
    with pytest.raises(BundleError) as caught:
        load_bundle(FolderSource(bundle))
    return str(caught.value)


def test_a_named_but_missing_stage_two_model_is_a_bundle_error(tmp_path: Path) -> None:
    bundle = with_stage2(tmp_path / "b", b"placeholder", 0.5)
    (bundle / STAGE2_FILE).unlink()
    assert STAGE2_FILE in _refusal(bundle)


def test_a_stage_two_model_not_in_the_manifest_is_a_bundle_error(tmp_path: Path) -> None:
    bundle = without_stage2(tmp_path / "b")
    (bundle / STAGE2_FILE).write_bytes(b"anything")
    edit_gate(bundle, model=STAGE2_FILE, model_labels=STAGE2_LABELS, model_threshold=0.5)
    assert "not listed" in _refusal(bundle)


def test_a_tampered_stage_two_model_is_a_bundle_error(tmp_path: Path) -> None:
    bundle = with_stage2(tmp_path / "b", b"the listed bytes", 0.5)
    (bundle / STAGE2_FILE).write_bytes(b"other bytes")
    assert "sha256" in _refusal(bundle)


def test_a_stage_two_file_that_is_no_model_is_a_bundle_error(tmp_path: Path) -> None:
    bundle = with_stage2(tmp_path / "b", b"not a flatbuffer", 0.5)
    assert "cannot be loaded" in _refusal(bundle)


@pytest.mark.parametrize(
    "fields",
    [
        {"model_threshold": 1.5},
        {"model_threshold": "high"},
        {"model_threshold": None},
        {"model_labels": ["other", "chest"]},
        {"model_labels": "frontal_chest_radiograph"},
        {"model": "../model.tflite"},
        {"model": "manifest.json"},
        {"model": 7},
    ],
    ids=str,
)
def test_malformed_stage_two_fields_are_a_bundle_error(tmp_path: Path, fields: dict[str, Any]) -> None:
    bundle = with_stage2(tmp_path / "b", b"never read", 0.5)
    edit_gate(bundle, **fields)
    assert "gate.json" in _refusal(bundle)


def test_the_service_answers_503_for_a_broken_stage_two(
    tmp_path: Path, shared_data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bundle = with_stage2(tmp_path / "b", b"the listed bytes", 0.5)
    (bundle / STAGE2_FILE).write_bytes(b"other bytes")
    with caplog.at_level("ERROR"), make_client(bundle) as client:
        response = post_image(client, COVID_RADIOGRAPH.read_bytes())
    assert response.status_code == 503
    assert error_of(response)["code"] == "bundle_unavailable"
    assert f"{STAGE2_FILE} fails its sha256 check" in caplog.text, "the operator's log names the file"
