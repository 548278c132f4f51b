"""The manifest's calibration is what the API serves: temperature-scaled probabilities, "indeterminate"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from function.calibration import apply_temperature
from function.schemas import INDETERMINATE_MESSAGE
from tests.api_support import (
    assert_model_unavailable,
    make_client,
    post_image,
    release_with_manifest,
    unavailable_reasons,
)
from tests.upload_samples import COVID_RADIOGRAPH


def _bundle_with_calibration(tmp_path: Path, calibration: Any) -> Path:
    return release_with_manifest(tmp_path / "bundle", calibration=calibration)


def _uncalibrated(tmp_path: Path) -> dict[str, float]:
    with make_client(_bundle_with_calibration(tmp_path / "plain", None)) as client:
        return post_image(client, COVID_RADIOGRAPH.read_bytes()).json()["probabilities"]


def test_probabilities_are_temperature_scaled(tmp_path: Path, shared_data: Path) -> None:
    raw = _uncalibrated(tmp_path)
    bundle = _bundle_with_calibration(tmp_path, {"temperature": 10.0, "min_confidence": 0.0})
    with make_client(bundle) as client:
        body = post_image(client, COVID_RADIOGRAPH.read_bytes()).json()
    expected = apply_temperature(np.array([list(raw.values())]), 10.0)[0]
    assert list(body["probabilities"].values()) == pytest.approx(list(expected), abs=1e-6)
    assert body["probabilities"] != pytest.approx(raw, abs=1e-3)  # T = 10 flattens even a saturated softmax
    assert body["result"] == "diagnosis"
    assert body["diagnosis"] == max(raw, key=raw.__getitem__)  # never changes the argmax


def test_a_reading_below_min_confidence_is_indeterminate(tmp_path: Path, shared_data: Path) -> None:
    bundle = _bundle_with_calibration(tmp_path, {"temperature": 50.0, "min_confidence": 0.9})
    with make_client(bundle) as client:
        body = post_image(client, COVID_RADIOGRAPH.read_bytes()).json()
    assert body["result"] == "indeterminate"
    assert body["diagnosis"] is None
    assert sum(body["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
    assert body["message"] == INDETERMINATE_MESSAGE


def _runner_up(probabilities: dict[str, float]) -> str:
    return sorted(probabilities, key=probabilities.__getitem__)[-2]


def test_a_flag_threshold_makes_its_class_the_reading_when_reached(tmp_path: Path, shared_data: Path) -> None:
    raw = _uncalibrated(tmp_path)
    flagged = _runner_up(raw)
    assert raw[flagged] > 0
    calibration = {"temperature": 1.0, "flag_thresholds": {flagged: raw[flagged] * 0.9}}
    with make_client(_bundle_with_calibration(tmp_path, calibration)) as client:
        body = post_image(client, COVID_RADIOGRAPH.read_bytes()).json()
    assert body["result"] == "diagnosis"
    assert body["diagnosis"] == flagged != max(raw, key=raw.__getitem__)
    assert body["decision"] == "screening_threshold"
    assert "umbral de cribado" in body["message"]
    assert "screening threshold" in body["message_en"]


def test_a_flag_threshold_not_reached_leaves_the_most_probable_class(
    tmp_path: Path, shared_data: Path
) -> None:
    raw = _uncalibrated(tmp_path)
    flagged = _runner_up(raw)
    calibration = {"temperature": 1.0, "flag_thresholds": {flagged: min(1.0, raw[flagged] * 1.1 + 1e-6)}}
    with make_client(_bundle_with_calibration(tmp_path, calibration)) as client:
        body = post_image(client, COVID_RADIOGRAPH.read_bytes()).json()
    assert body["diagnosis"] == max(raw, key=raw.__getitem__)
    assert body["decision"] == "most_probable"
    assert "cribado" not in body["message"]


def test_a_flag_on_the_most_probable_class_is_a_plain_reading(tmp_path: Path, shared_data: Path) -> None:
    """The threshold only "decides" when the plain rule would have answered otherwise."""
    raw = _uncalibrated(tmp_path)
    top = max(raw, key=raw.__getitem__)
    calibration = {"temperature": 1.0, "flag_thresholds": {top: raw[top] * 0.5}}
    with make_client(_bundle_with_calibration(tmp_path, calibration)) as client:
        body = post_image(client, COVID_RADIOGRAPH.read_bytes()).json()
    assert body["diagnosis"] == top
    assert body["decision"] == "most_probable"
    assert "cribado" not in body["message"]


def test_a_reached_flag_threshold_is_a_reading_even_below_min_confidence(
    tmp_path: Path, shared_data: Path
) -> None:
    """A screening flag must never be hidden as "indeterminate": that would defeat its purpose."""
    flat = {"temperature": 50.0, "min_confidence": 0.9}
    with make_client(_bundle_with_calibration(tmp_path / "flat", flat)) as client:
        calibrated = post_image(client, COVID_RADIOGRAPH.read_bytes()).json()["probabilities"]
    flagged = _runner_up(calibrated)
    flags = {flagged: calibrated[flagged] * 0.99}
    bundle = _bundle_with_calibration(tmp_path, {**flat, "flag_thresholds": flags})
    with make_client(bundle) as client:
        body = post_image(client, COVID_RADIOGRAPH.read_bytes()).json()
    assert body["result"] == "diagnosis"
    assert body["diagnosis"] == flagged


@pytest.mark.parametrize(
    "calibration",
    [
        {"temperature": -1.0},
        {"temperature": "warm"},
        {"min_confidence": 1.5},
        {"temperature": float("nan")},
        {"flag_thresholds": {"Influenza": 0.2}},
        {"flag_thresholds": {"COVID-19": 0.0}},
        {"flag_thresholds": {"COVID-19": 1.5}},
        {"flag_thresholds": ["COVID-19"]},
    ],
)
def test_a_malformed_calibration_makes_the_bundle_unavailable(
    tmp_path: Path, calibration: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with make_client(_bundle_with_calibration(tmp_path, calibration)) as client:
        response = post_image(client, COVID_RADIOGRAPH.read_bytes())
    assert_model_unavailable(response)
    assert "calibration" in unavailable_reasons(caplog)


def test_temperature_scaling_by_hand() -> None:
    """softmax(log p / T) worked out by hand, so the scaling is not checked only against itself:
    T = 2 takes square roots (0.8, 0.2 -> 0.894, 0.447 -> 2/3, 1/3), T = 1/2 squares (-> 16/17, 1/17)."""
    assert apply_temperature(np.array([0.8, 0.2]), 2.0) == pytest.approx([2 / 3, 1 / 3])
    assert apply_temperature(np.array([0.8, 0.2]), 0.5) == pytest.approx([16 / 17, 1 / 17])
    assert apply_temperature(np.array([0.5, 0.3, 0.2]), 1.0) == pytest.approx([0.5, 0.3, 0.2])
