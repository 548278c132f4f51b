"""An automated accessibility audit (axe-core, the engine of Lighthouse's and most CI audits) of every state
the page can be in, in both languages, on a desktop and a phone: WCAG 2.0, 2.1 and 2.2 A and AA rules and
axe's best practices.

axe finds what rules can find (names, roles, contrast, landmarks, languages), not whether the page makes
sense to a screen-reader user; the keyboard and focus tests of test_page_interruptions.py go further.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from infra.locations import NOT_CHEST, TRAINING_SET
from infra.page_driver import PHONE, RESULT
from tests.browser.test_page import choose_and_diagnose, images, open_page

pytestmark = pytest.mark.browser

RULES = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    }
}


def violations(page: Page) -> list[str]:
    """Each rule broken on the page as it is now, with the first places it is broken."""
    found = Axe().run(page, options=RULES).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in found
    ]


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_every_state_of_the_page_passes_the_audit(
    page: Page, stack_url: str, tmp_path: Path, phone: bool
) -> None:
    if phone:
        page.set_viewport_size(PHONE)
    open_page(page, stack_url)
    states = {"empty": violations(page)}

    choose_and_diagnose(page, sorted(images(TRAINING_SET / "COVID" / "images"))[0])
    expect(page.locator(RESULT)).to_have_attribute("data-state", "diagnosis")
    page.click(f"{RESULT} .result-details summary")
    states["reading, details open"] = violations(page)
    page.click("#lang-toggle")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    states["reading in English"] = violations(page)
    page.click("#lang-toggle")

    page.check("#explain-toggle")
    expect(page.locator("#heatmap")).to_be_visible(timeout=60_000)
    states["heatmap"] = violations(page)

    choose_and_diagnose(page, sorted(images(NOT_CHEST / "photo"))[0])
    expect(page.locator(RESULT)).to_have_attribute("data-state", "not_chest_xray")
    states["not a chest radiograph"] = violations(page)

    text = tmp_path / "notas.txt"
    text.write_text("no es una imagen\n")
    choose_and_diagnose(page, text)
    expect(page.locator(RESULT)).to_have_attribute("data-state", "error")
    states["error"] = violations(page)

    assert {state: found for state, found in states.items() if found} == {}
