"""The page while an answer is on its way, and what a language switch or the keyboard focus leave on it.

A request is held with ``page.route`` (never answered until the test says so), so what the page does
while waiting is checked without racing the service.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from playwright.sync_api import Error, Page, Request, Route, expect

from infra.locations import TRAINING_SET
from tests.browser.test_page import RESULT, api_answer, choose_and_diagnose, images, open_page, pick
from tests.upload_samples import COVID_RADIOGRAPH, NORMAL_RADIOGRAPH

pytestmark = pytest.mark.browser

CONTRAST = """
function luminance(color) {
  const [r, g, b] = color.map((value) => {
    const c = value / 255;
    return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function contrast(a, b) {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light + 0.05) / (dark + 0.05);
}
function rgba(text) {  // a computed colour: "rgb(r, g, b)" or "rgba(r, g, b, a)"
  const parts = text.match(/[\\d.]+/g).map(Number);
  return parts.length === 3 ? parts.concat(1) : parts;
}
function opaque(text) {
  const color = rgba(text);
  if (color[3] < 1) throw new Error("translucent colour " + text);
  return color.slice(0, 3);
}
/** The colour behind an element: the nearest ancestor's opaque background, the canvas's white at last. */
function backdrop(element) {
  for (let node = element.parentElement; node; node = node.parentElement) {
    const color = rgba(getComputedStyle(node).backgroundColor);
    if (color[3] > 0) return opaque(getComputedStyle(node).backgroundColor);
  }
  return [255, 255, 255];
}
"""

FOCUS_RING = (
    "() => {"
    + CONTRAST
    + """
  const element = document.activeElement;
  const style = getComputedStyle(element);
  const behind = backdrop(element);
  const own = rgba(style.backgroundColor);
  const control = own[3] > 0 ? opaque(style.backgroundColor) : behind;
  // a ring drawn with a box-shadow: no offset, no blur, only spread (a soft drop shadow is no ring)
  const shadow = style.boxShadow.match(/^(rgba?\\([^)]*\\)) 0px 0px 0px [1-9]/);
  const ring = {
    id: element.id || element.className || element.tagName,
    visible: element.matches(":focus-visible"),
    width: parseFloat(style.outlineWidth),
    style: style.outlineStyle,
    outer: opaque(style.outlineColor),
    inner: shadow ? opaque(shadow[1]) : null,
    behind: behind,
    control: control,
  };
  // The ring nearest the control: a box-shadow filling the outline's offset, or what shows through it.
  const inner = ring.inner || (parseFloat(style.outlineOffset) > 0 ? behind : ring.outer);
  ring.againstBackground = contrast(ring.outer, behind);
  ring.againstControl = Math.max(contrast(ring.outer, control), contrast(inner, control));
  ring.betweenRings = ring.inner ? contrast(ring.outer, ring.inner) : null;
  return ring;
}"""
)

TEXT_CONTRAST = (
    "(id) => {"
    + CONTRAST
    + """
  const element = document.getElementById(id);
  const style = getComputedStyle(element);
  return {
    ratio: contrast(opaque(style.color), opaque(style.backgroundColor)),
    background: style.backgroundColor,
    cursor: style.cursor,
  };
}"""
)


def diagnose_requests(page: Page) -> list[Request]:
    sent: list[Request] = []
    page.on("request", lambda request: sent.append(request) if request.url.endswith("/diagnose") else None)
    return sent


def hold_first_request(page: Page) -> list[Route]:
    """Hold the first /diagnose request unanswered (returned, to release it later); send the others on."""
    held: list[Route] = []

    def handle(route: Route) -> None:
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route("**/diagnose", handle)
    return held


def start_held_diagnosis(page: Page, path: Path) -> Request:
    """Choose ``path``, press Diagnosticar and return its request, held unanswered: the page is busy."""
    page.set_input_files("#file-input", str(path))
    expect(page.locator("#diagnose")).to_have_attribute("aria-disabled", "false")
    with page.expect_request("**/diagnose") as request:
        page.click("#diagnose")
    expect(page.locator("#diagnose")).to_have_attribute("aria-busy", "true")
    expect(page.locator("#progress")).to_be_visible()
    return request.value


def release(route: Route, body: dict) -> None:
    """Answer a held request now; a request the page has cancelled may refuse the answer."""
    with contextlib.suppress(Error):
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))


# ---------------------------------------------------------------------------------------------- busy


def test_a_new_file_while_waiting_cancels_the_old_request(page: Page, stack_url: str) -> None:
    old_answer = api_answer(stack_url, COVID_RADIOGRAPH)
    new_answer = api_answer(stack_url, NORMAL_RADIOGRAPH)
    open_page(page, stack_url)
    held = hold_first_request(page)
    old = start_held_diagnosis(page, COVID_RADIOGRAPH)

    with page.expect_event("requestfailed", timeout=10_000) as failed:
        page.set_input_files("#file-input", str(NORMAL_RADIOGRAPH))
        expect(page.locator("#file-name")).to_have_text(NORMAL_RADIOGRAPH.name)
        # idle at once, ready for the new file: not waiting for the old request to settle
        expect(page.locator("#progress")).to_be_hidden()
        expect(page.locator("#diagnose")).to_have_attribute("aria-busy", "false")
        expect(page.locator("#diagnose")).to_have_attribute("aria-disabled", "false")
        expect(page.locator("#diagnose-hint")).to_have_text("Pulse «Diagnosticar» para analizar la imagen.")
    assert failed.value == old, "the old request is aborted, not left running"

    # the old file's answer, were it to arrive now, is never shown
    release(held[0], {**old_answer, "diagnosis": "Viral Pneumonia", "message": "respuesta antigua"})
    sent = diagnose_requests(page)
    page.click("#diagnose")
    card = page.locator(RESULT)
    expect(card).to_have_attribute("data-state", new_answer["result"], timeout=60_000)
    expect(card).to_contain_text(new_answer["message"])
    expect(card).not_to_contain_text("respuesta antigua")
    assert len(sent) == 1


def test_removing_the_image_while_waiting_leaves_the_page_idle(page: Page, stack_url: str) -> None:
    open_page(page, stack_url)
    held = hold_first_request(page)
    old = start_held_diagnosis(page, COVID_RADIOGRAPH)

    with page.expect_event("requestfailed", timeout=10_000) as failed:
        page.click("#clear")
        expect(page.locator("#preview")).to_be_hidden()
        expect(page.locator("#progress")).to_be_hidden()
        expect(page.locator("#diagnose")).to_have_attribute("aria-busy", "false")
        expect(page.locator("#diagnose")).to_have_attribute("aria-disabled", "true")
        expect(page.locator("#diagnose-hint")).to_have_text("Primero elija una imagen.")
    assert failed.value == old, "the old request is aborted, not left running"

    release(held[0], api_answer(stack_url, COVID_RADIOGRAPH))
    page.set_input_files("#file-input", str(NORMAL_RADIOGRAPH))
    expect(page.locator("#diagnose")).to_have_attribute("aria-disabled", "false")
    expect(page.locator(RESULT)).to_have_count(0)
    expect(page.locator("#progress")).to_be_hidden()


def test_ticking_the_box_while_waiting_brings_the_map(page: Page, stack_url: str) -> None:
    path, _ = pick(
        stack_url, images(TRAINING_SET / "Normal" / "images"), lambda a: a["result"] == "diagnosis"
    )
    open_page(page, stack_url)
    held = hold_first_request(page)
    sent = diagnose_requests(page)
    first = start_held_diagnosis(page, path)
    assert "explain" not in json.loads(first.post_data or "{}")

    page.check("#explain-toggle")
    held[0].continue_()  # the answer to the request sent before the box was ticked: no map in it
    expect(page.locator(RESULT)).to_have_attribute("data-state", "diagnosis", timeout=60_000)
    expect(page.locator("#heatmap")).to_be_visible(timeout=60_000)
    expect(page.locator("#heatmap-legend")).to_be_visible()
    assert len(sent) == 2 and json.loads(sent[1].post_data or "{}").get("explain") is True
    expect(page.locator("#progress")).to_be_hidden()


def test_a_failed_map_request_keeps_the_reading_already_had(page: Page, stack_url: str) -> None:
    """The box ticked mid-request sends a second request for the map; if that one fails, the first
    answer's reading is still shown (without a map), not an error."""
    path, answer = pick(
        stack_url, images(TRAINING_SET / "Normal" / "images"), lambda a: a["result"] == "diagnosis"
    )
    open_page(page, stack_url)
    held: list[Route] = []

    def handle(route: Route) -> None:
        if held:
            route.abort("connectionreset")  # the map's request: the network drops it
        else:
            held.append(route)

    page.route("**/diagnose", handle)
    start_held_diagnosis(page, path)
    page.check("#explain-toggle")
    held[0].continue_()
    card = page.locator(RESULT)
    expect(card).to_have_attribute("data-state", "diagnosis", timeout=60_000)
    expect(card.locator(".result-heading")).to_have_attribute("data-diagnosis", answer["diagnosis"])
    expect(page.locator("#progress")).to_be_hidden()


# ---------------------------------------------------------------------------------------------- language


def test_open_technical_details_stay_open_across_a_language_switch(page: Page, stack_url: str) -> None:
    path, _ = pick(
        stack_url, images(TRAINING_SET / "Normal" / "images"), lambda a: a["result"] == "diagnosis"
    )
    open_page(page, stack_url)
    choose_and_diagnose(page, path)
    details = page.locator(f"{RESULT} .result-details")
    expect(details).not_to_have_attribute("open", "")
    details.locator("summary").click()
    expect(details).to_have_attribute("open", "")

    page.click("#lang-toggle")
    expect(details.locator("summary")).to_have_text("Technical details")
    expect(details).to_have_attribute("open", "")
    details.locator("summary").click()  # closed, it stays closed
    page.click("#lang-toggle")
    expect(details.locator("summary")).to_have_text("Detalles técnicos")
    expect(details).not_to_have_attribute("open", "")


# ---------------------------------------------------------------------------------------------- contrast


def test_the_focus_ring_stands_out_around_every_control(page: Page, stack_url: str) -> None:
    """WCAG 1.4.11: 3:1 between the focus ring and the page behind it, and between it and the control."""
    path, _ = pick(
        stack_url, images(TRAINING_SET / "Normal" / "images"), lambda a: a["result"] == "diagnosis"
    )
    open_page(page, stack_url)
    page.focus("#diagnose")  # disabled-looking until a file is chosen
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    rings = [page.evaluate(FOCUS_RING)]
    page.set_input_files("#file-input", str(path))
    expect(page.locator("#diagnose")).to_have_attribute("aria-disabled", "false")
    page.keyboard.press("Enter")  # from the keyboard: the result heading takes a visible focus
    page.wait_for_selector(RESULT, timeout=60_000)
    expect(page.locator("#result-heading")).to_be_focused()
    rings.append(page.evaluate(FOCUS_RING))
    for _ in range(12):  # on from the heading, round past the end of the page and back to the top
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement !== document.body"):
            rings.append(page.evaluate(FOCUS_RING))
    names = {ring["id"] for ring in rings}
    expected = {"skip-link", "lang-toggle", "choose", "clear", "explain-toggle", "diagnose", "result-heading"}
    assert expected <= names, names
    assert any(ring["id"] == "SUMMARY" for ring in rings) and any(
        "result-again" in ring["id"] for ring in rings
    )
    for ring in rings:
        assert ring["visible"] and ring["style"] != "none" and ring["width"] >= 2, ring
        assert ring["againstBackground"] >= 3, ring
        assert ring["againstControl"] >= 3, ring
        if ring["betweenRings"] is not None:
            assert ring["betweenRings"] >= 3, ring


def test_the_busy_button_label_is_readable(page: Page, stack_url: str) -> None:
    open_page(page, stack_url)
    hold_first_request(page)
    page.set_input_files("#file-input", str(COVID_RADIOGRAPH))
    expect(page.locator("#diagnose")).to_have_attribute("aria-disabled", "false")
    ready = page.evaluate(TEXT_CONTRAST, "diagnose")
    with page.expect_request("**/diagnose"):
        page.click("#diagnose")
    expect(page.locator("#diagnose")).to_have_attribute("aria-busy", "true")
    expect(page.locator("#diagnose")).to_have_attribute("aria-disabled", "true")
    busy = page.evaluate(TEXT_CONTRAST, "diagnose")
    assert busy["ratio"] >= 4.5, busy
    assert busy["background"] != ready["background"], "it still looks different from the ready button"
    assert busy["cursor"] == "progress"


def test_diagnose_without_an_image_leads_to_choosing_one(page: Page, stack_url: str) -> None:
    sent: list[Request] = []
    page.on("request", lambda request: sent.append(request) if "/diagnose" in request.url else None)
    open_page(page, stack_url)
    page.click("#diagnose", force=True)  # aria-disabled, not disabled: a person's click still arrives
    expect(page.locator("#choose")).to_be_focused()
    expect(page.locator("#diagnose-hint")).to_have_text("Primero elija una imagen.")
    assert sent == []
