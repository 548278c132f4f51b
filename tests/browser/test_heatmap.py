""" "Mostrar dónde miró el modelo": the API's occlusion heatmap drawn over the preview, in a real Chromium.

The canvas's pixels are compared with the heatmap the API returns for the same file, so the page can
neither invent a map nor draw it transposed; the overlay must cover exactly the displayed image.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx2
import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, Request, expect

from bench.upload_robustness import letterboxed
from infra.locations import FRONTEND, NOT_CHEST, TRAINING_SET
from infra.stack_process import local_stack
from tests.api_support import release_with_manifest
from tests.browser.conftest import screenshot
from tests.browser.test_page import RESULT, choose_and_diagnose, images, open_page, pick

pytestmark = pytest.mark.browser

CANVAS_ALPHA = """() => {
  const canvas = document.getElementById("heatmap");
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  const alpha = [];
  for (let i = 3; i < data.length; i += 4) alpha.push(data[i]);
  return { width: canvas.width, height: canvas.height, alpha: alpha };
}"""
BOXES = """() => ["preview-image", "heatmap"].map((id) => {
  const box = document.getElementById(id).getBoundingClientRect();
  return { x: box.x, y: box.y, width: box.width, height: box.height };
})"""
MAX_ALPHA = 215
"""heatmap.js draws a value v in [0, 1] with alpha 215 v: opaque enough to see, never hiding the film."""


def explained_answer(url: str, path: Path) -> dict:
    image = base64.b64encode(path.read_bytes()).decode()
    response = httpx2.post(f"{url}/diagnose", json={"image": image, "explain": True}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def explains(request: Request) -> bool:
    return json.loads(request.post_data or "{}").get("explain") is True


def canvas_alpha(page: Page) -> np.ndarray:
    drawn = page.evaluate(CANVAS_ALPHA)
    return np.array(drawn["alpha"], dtype=np.float64).reshape(drawn["height"], drawn["width"])


def test_the_heatmap_is_drawn_over_the_whole_preview(page: Page, stack_url: str) -> None:
    path, _ = pick(stack_url, images(TRAINING_SET / "COVID" / "images"), lambda a: a["result"] == "diagnosis")
    answer = explained_answer(stack_url, path)
    open_page(page, stack_url)
    toggle = page.get_by_label("Mostrar dónde miró el modelo")
    expect(toggle).not_to_be_checked()
    toggle.check()
    sent = choose_and_diagnose(page, path)

    assert len(sent) == 1 and explains(sent[0])
    expect(page.locator(RESULT)).to_have_attribute("data-state", "diagnosis")
    canvas = page.locator("#heatmap")
    expect(canvas).to_be_visible()
    values = np.array(answer["heatmap"]["values"])
    alpha = canvas_alpha(page)
    assert alpha.shape == values.shape
    assert np.abs(alpha - np.rint(MAX_ALPHA * values)).max() <= 1, "the page draws the API's map, unturned"
    assert 0 < np.count_nonzero(alpha) < alpha.size, "some regions marked, not all"
    image_box, canvas_box = page.evaluate(BOXES)  # one moment: the page may still be scrolling
    for key in ("x", "y", "width", "height"):
        assert canvas_box[key] == pytest.approx(image_box[key], abs=1), key
    assert image_box["width"] > 200, "shown large enough to see (16rem) while the map is on"
    legend = page.locator("#heatmap-legend")
    expect(legend).to_be_visible()
    expect(legend).to_contain_text("aproximación (sensibilidad a la oclusión), no un hallazgo médico")
    screenshot(page, "heatmap")

    toggle.uncheck()
    expect(canvas).to_be_hidden()
    expect(legend).to_be_hidden()
    toggle.check()
    expect(canvas).to_be_visible()
    assert len(sent) == 1, "the map already received is shown again, not asked for again"

    page.click("#lang-toggle")
    expect(page.get_by_label("Show where the model looked")).to_be_checked()
    expect(legend).to_contain_text("An approximation (occlusion sensitivity), not a medical finding.")
    page.reload()
    expect(page.locator("#explain-toggle")).to_be_checked()  # the choice is remembered, like the language


def test_ticking_the_box_after_a_reading_asks_for_the_map(page: Page, stack_url: str) -> None:
    path, _ = pick(
        stack_url, images(TRAINING_SET / "Normal" / "images"), lambda a: a["result"] == "diagnosis"
    )
    open_page(page, stack_url)
    sent = choose_and_diagnose(page, path)
    assert len(sent) == 1 and not explains(sent[0])
    expect(page.locator("#heatmap")).to_be_hidden()

    page.check("#explain-toggle")
    expect(page.locator("#heatmap")).to_be_visible(timeout=60_000)
    assert len(sent) == 2 and explains(sent[1])
    assert np.count_nonzero(canvas_alpha(page)) > 0


def test_an_indeterminate_reading_shows_its_map(page: Page, unsure_stack_url: str) -> None:
    path = sorted(images(TRAINING_SET / "Normal" / "images"))[0]
    answer = explained_answer(unsure_stack_url, path)
    assert answer["result"] == "indeterminate" and answer["heatmap"] is not None
    open_page(page, unsure_stack_url)
    page.check("#explain-toggle")
    choose_and_diagnose(page, path)
    expect(page.locator(RESULT)).to_have_attribute("data-state", "indeterminate")
    expect(page.locator("#heatmap")).to_be_visible()


def test_no_map_over_the_not_chest_alert(page: Page, stack_url: str) -> None:
    path, _ = pick(stack_url, images(NOT_CHEST / "photo"), lambda a: a["result"] == "not_chest_xray")
    assert explained_answer(stack_url, path)["heatmap"] is None
    open_page(page, stack_url)
    page.check("#explain-toggle")
    sent = choose_and_diagnose(page, path)

    assert explains(sent[0])
    expect(page.locator(RESULT)).to_have_attribute("data-state", "not_chest_xray")
    expect(page.locator("#heatmap")).to_be_hidden()
    expect(page.locator("#heatmap-legend")).to_be_hidden()
    expect(page.locator("#preview-image")).to_be_visible()


def test_the_overlay_keeps_a_portrait_images_shape(page: Page, stack_url: str, tmp_path: Path) -> None:
    """The model squeezes any image into a square; the page stretches the map back over the image."""
    source, _ = pick(
        stack_url, images(TRAINING_SET / "COVID" / "images"), lambda a: a["result"] == "diagnosis"
    )
    portrait = tmp_path / "portrait.png"
    Image.open(source).convert("L").resize((300, 400), Image.Resampling.BICUBIC).save(portrait)
    # its model input is (almost) the square source's, so it gets a reading too
    assert explained_answer(stack_url, portrait)["result"] == "diagnosis"
    open_page(page, stack_url)
    page.check("#explain-toggle")
    choose_and_diagnose(page, portrait)

    expect(page.locator("#heatmap")).to_be_visible()
    image_box, canvas_box = page.evaluate(BOXES)
    assert image_box["width"] / image_box["height"] == pytest.approx(300 / 400, abs=0.01)
    for key in ("x", "y", "width", "height"):
        assert canvas_box[key] == pytest.approx(image_box[key], abs=1), key


def test_a_bundle_that_cuts_black_bars_gets_its_map_drawn_over_the_film_only(
    page: Page, tmp_path: Path, shared_data: Path
) -> None:
    """A bundle of preprocessing version 2 reads the film inside a screenshot's black bars; the page must
    place the map on that film, not stretch it over the bars. The release is served under version 2 here
    (its manifest relabelled): what is checked is where the page draws, not a model."""
    bundle = release_with_manifest(tmp_path / "bundle", preprocessing_version="2")
    film = np.asarray(Image.open(TRAINING_SET / "COVID" / "images" / "COVID-2.png").convert("L"))
    screenshot = tmp_path / "screenshot.png"
    Image.fromarray(letterboxed(film)).save(screenshot)  # 21 px bars either side of the 128 px film
    with local_stack(bundle, "local-stack-version-2") as url:
        assert explained_answer(url, screenshot)["result"] != "not_chest_xray"
        open_page(page, url)
        page.check("#explain-toggle")
        choose_and_diagnose(page, screenshot)
        expect(page.locator("#heatmap")).to_be_visible()
        image_box, canvas_box = page.evaluate(BOXES)
    scale = image_box["width"] / 170
    assert canvas_box["x"] == pytest.approx(image_box["x"] + 21 * scale, abs=1)
    assert canvas_box["width"] == pytest.approx(128 * scale, abs=1)
    assert (canvas_box["y"], canvas_box["height"]) == pytest.approx(
        (image_box["y"], image_box["height"]), abs=1
    )


def test_the_map_and_the_probability_bars_clamp_with_one_function(page: Page, stack_url: str) -> None:
    """clamp01 is written once, in heatmap.js, and render.js's bars take it from window.CXR_HEATMAP (as
    render.js takes the byte limit from upload.js): an answer's values outside [0, 1], a map cell's or a
    probability's, are drawn at the nearest end."""
    scripts = {path.name: path.read_text() for path in sorted(FRONTEND.glob("*.js"))}
    assert [name for name, text in scripts.items() if "function clamp01" in text] == ["heatmap.js"]
    path, _ = pick(stack_url, images(TRAINING_SET / "COVID" / "images"), lambda a: a["result"] == "diagnosis")
    answer = explained_answer(stack_url, path)
    answer["heatmap"]["values"][0][:3] = [1.7, -0.4, 0.5]
    answer["probabilities"] = {"Normal": 1.2, "COVID-19": -0.1, "Viral Pneumonia": 0.3}
    answer["diagnosis"] = "Normal"
    page.route(
        "**/diagnose", lambda route: route.fulfill(content_type="application/json", body=json.dumps(answer))
    )
    open_page(page, stack_url)
    clamped = page.evaluate("[-0.5, 0, 0.25, 1, 1.5].map(window.CXR_HEATMAP.clamp01)")
    assert clamped == [0, 0, 0.25, 1, 1]
    page.check("#explain-toggle")
    choose_and_diagnose(page, path)

    expect(page.locator("#heatmap")).to_be_visible()
    assert canvas_alpha(page)[0, :3].tolist() == [MAX_ALPHA, 0, round(MAX_ALPHA * 0.5)]
    widths = page.evaluate(
        """() => Object.fromEntries(Array.from(document.querySelectorAll(".prob"),
             (row) => [row.dataset.label, row.querySelector(".prob-fill").style.width]))"""
    )
    assert widths == {"Normal": "100%", "COVID-19": "0%", "Viral Pneumonia": "30%"}
