"""Occlusion-sensitivity heatmaps: their math on a model with a known answer, the served model on real
radiographs, and the API's ``explain`` switch. Also the reading's message never claims 100 %."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from function.bundle import FolderSource, LoadedBundle, load_bundle
from function.explain import class_log_odds, occlusion_map, patch_starts
from function.service import HEATMAP_MAX_SIDE, percent
from infra.locations import RELEASE_BUNDLE, TRAINING_SET
from tests.api_support import error_of, make_client, release_manifest
from tests.gate_bundles import copy_reference
from tests.upload_samples import COVID_RADIOGRAPH, NORMAL_RADIOGRAPH, PHOTO, b64

RADIOGRAPHS = [
    COVID_RADIOGRAPH,
    NORMAL_RADIOGRAPH,
    TRAINING_SET / "Viral Pneumonia" / "images" / "Viral Pneumonia-1.png",
]


class RegionModel:
    """Two classes; class 0's logit is 40 x the mean of rows 8-15, columns 40-47 of a 64x64 input.

    Its softmax saturates (class 0's probability is 1.0 in float32 on a bright region), as the paper's
    CNN does on most radiographs: the map must still find the region.
    """

    region = (slice(8, 16), slice(40, 48))

    def predict(self, batch: np.ndarray) -> np.ndarray:
        logit = 40.0 * batch[:, self.region[0], self.region[1], 0].mean(axis=(1, 2))
        logits = np.stack([logit, np.zeros_like(logit)], axis=1).astype(np.float32)
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)


def test_patches_cover_every_pixel_and_end_at_the_edge() -> None:
    assert patch_starts(64, 8, 4) == list(range(0, 57, 4))
    assert patch_starts(10, 4, 2) == [0, 2, 4, 6]
    assert patch_starts(11, 4, 2) == [0, 2, 4, 6, 7]


def test_log_odds_survive_a_saturated_softmax() -> None:
    saturated = np.array([[1.0, 1e-30, 2e-30], [1.0, 1e-20, 0.0]], dtype=np.float32)
    odds = class_log_odds(saturated, 0)
    assert odds[0] > odds[1] > 0  # the first is surer, though both read 1.0


def test_the_map_finds_the_region_a_known_model_uses() -> None:
    image = np.full((64, 64, 1), 0.2, dtype=np.float32)
    image[8:16, 40:48] = 0.9  # bright where the model looks: hiding it (with the mean) lowers class 0
    image[40:56, 8:24] = 0.9  # equally bright elsewhere: the model ignores it
    assert RegionModel().predict(image[np.newaxis])[0, 0] == 1.0

    heatmap = occlusion_map(RegionModel(), image, class_index=0)

    assert heatmap.shape == (64, 64) and heatmap.dtype == np.float32
    assert heatmap.min() >= 0.0 and heatmap.max() == pytest.approx(1.0)
    row, column = np.unravel_index(heatmap.argmax(), heatmap.shape)
    assert 8 <= row < 16 and 40 <= column < 48
    assert heatmap[40:56, 8:24].max() == 0.0, "a region the model ignores gets nothing"


def test_a_map_with_no_drop_anywhere_is_all_zeros() -> None:
    image = np.full((64, 64, 1), 0.5, dtype=np.float32)  # occluding with the mean changes nothing
    heatmap = occlusion_map(RegionModel(), image, class_index=0)
    assert not heatmap.any()


# ---------------------------------------------------------------------------------------------- served model


@pytest.fixture(scope="module")
def bundle() -> LoadedBundle:
    return load_bundle(FolderSource(RELEASE_BUNDLE))


def _hottest_and_coldest(heatmap: np.ndarray, patch: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Top-left corners of the patch-sized windows with the highest and the lowest mean map value."""
    windows = np.lib.stride_tricks.sliding_window_view(heatmap, (patch, patch)).mean(axis=(2, 3))
    hot = np.unravel_index(windows.argmax(), windows.shape)
    cold = np.unravel_index(windows.argmin(), windows.shape)
    return (int(hot[0]), int(hot[1])), (int(cold[0]), int(cold[1]))


@pytest.mark.parametrize("path", RADIOGRAPHS, ids=lambda p: p.parent.parent.name)
def test_hiding_the_hottest_region_lowers_the_reading_more_than_the_coldest(
    bundle: LoadedBundle, path: Path, shared_data: Path
) -> None:
    """Compared as the predicted class's log-odds: the paper's model reads many films as p = 1.0 in
    float32 with or without a patch, and log-odds orders the same as the probability."""
    model_input = bundle.input_spec.from_bytes(path.read_bytes())
    probabilities = bundle.classifier.predict(model_input[np.newaxis])
    predicted = int(probabilities.argmax())
    heatmap = occlusion_map(bundle.classifier, model_input, predicted)
    patch = round(bundle.input_size / 8)
    hot, cold = _hottest_and_coldest(heatmap, patch)

    def occluded_log_odds(corner: tuple[int, int]) -> float:
        hidden = model_input.copy()
        hidden[corner[0] : corner[0] + patch, corner[1] : corner[1] + patch] = model_input.mean()
        return float(class_log_odds(bundle.classifier.predict(hidden[np.newaxis]), predicted)[0])

    baseline = float(class_log_odds(probabilities, predicted)[0])
    assert baseline - occluded_log_odds(hot) > baseline - occluded_log_odds(cold)
    assert baseline - occluded_log_odds(hot) > 0, "hiding the hottest region lowers the reading"


# ---------------------------------------------------------------------------------------------- the API


@pytest.fixture(scope="module")
def client(shared_data: Path) -> Iterator[TestClient]:
    with make_client() as client:
        yield client


def _post(client: TestClient, data: bytes, **fields: Any) -> dict[str, Any]:
    response = client.post("/diagnose", json={"image": b64(data), **fields})
    assert response.status_code == 200, response.text
    return response.json()


def test_explain_returns_a_heatmap_at_the_model_input_size_capped_at_64(client: TestClient) -> None:
    body = _post(client, COVID_RADIOGRAPH.read_bytes(), explain=True)
    size = min(int(release_manifest()["input"]["height"]), HEATMAP_MAX_SIDE)

    assert body["result"] == "diagnosis"
    heatmap = body["heatmap"]
    assert heatmap["width"] == heatmap["height"] == size
    values = np.array(heatmap["values"])
    assert values.shape == (size, size)
    assert values.min() >= 0.0 and values.max() == 1.0
    assert 0.0 < values.mean() < 0.9, "a map that singles out some regions, not a flat one"
    plain = _post(client, COVID_RADIOGRAPH.read_bytes())
    assert plain["heatmap"] is None
    assert {k: v for k, v in body.items() if k != "heatmap"} == {
        k: v for k, v in plain.items() if k != "heatmap"
    }


def test_explain_false_and_a_refusal_have_no_heatmap(client: TestClient) -> None:
    assert _post(client, COVID_RADIOGRAPH.read_bytes(), explain=False)["heatmap"] is None
    refused = _post(client, PHOTO.read_bytes(), explain=True)
    assert refused["result"] == "not_chest_xray" and refused["heatmap"] is None


def test_an_indeterminate_reading_is_explained_too(tmp_path: Path, shared_data: Path) -> None:
    bundle = copy_reference(tmp_path / "b")
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["calibration"] = {"temperature": 50.0, "min_confidence": 0.9}  # nothing is that sure at T = 50
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    with make_client(bundle) as client:
        body = _post(client, COVID_RADIOGRAPH.read_bytes(), explain=True)
    assert body["result"] == "indeterminate"
    assert np.array(body["heatmap"]["values"]).max() == 1.0


@pytest.mark.parametrize("value", ["yes", 1, None, [True]], ids=str)
def test_explain_must_be_a_boolean(client: TestClient, value: Any) -> None:
    response = client.post("/diagnose", json={"image": b64(COVID_RADIOGRAPH.read_bytes()), "explain": value})
    assert response.status_code == 422
    assert error_of(response) == {
        "code": "invalid_request",
        "message": "El campo 'explain' debe ser true o false.",
        "message_en": "The field 'explain' must be true or false.",
    }


# ---------------------------------------------------------------------------------------------- message


@pytest.mark.parametrize(
    ("probability", "spanish", "english"),
    [
        (1.0, "> 99,9\u00a0%", "> 99.9%"),
        (0.99996, "> 99,9\u00a0%", "> 99.9%"),
        (0.999, "99,9\u00a0%", "99.9%"),
        (0.9314, "93,1\u00a0%", "93.1%"),
        (0.0004, "< 0,1\u00a0%", "< 0.1%"),
        (0.0, "< 0,1\u00a0%", "< 0.1%"),
    ],
)
def test_percent_never_claims_certainty(probability: float, spanish: str, english: str) -> None:
    assert percent(probability, "es") == spanish
    assert percent(probability, "en") == english


def test_the_reading_message_uses_the_pages_percent(client: TestClient) -> None:
    body = _post(client, COVID_RADIOGRAPH.read_bytes())
    share = body["probabilities"][body["diagnosis"]]
    assert f"({percent(share, 'es')})" in body["message"]
    assert f"({percent(share, 'en')})" in body["message_en"]
    for message in (body["message"], body["message_en"]):
        assert not re.search(r"\((100|0)\s?%\)", message), message
