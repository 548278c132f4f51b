"""Numbers on the page: the served frontend/i18n.js writes them as the API does (function/errors.py).

Spanish groups five digits or more with a no-break space ("20 000") and leaves four alone ("1024");
English groups with commas ("20,000", "1,024"). Chromium's own Intl.NumberFormat("es") writes "20.000",
so the page writes them itself; these tests hold it to the API's helper, value by value.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from function.errors import number
from tests.browser.test_page import open_page
from tests.unit.test_number_format import WRITTEN

pytestmark = pytest.mark.browser

NBSP = "\u00a0"


def test_the_pages_numbers_are_the_apis(page: Page, stack_url: str) -> None:
    open_page(page, stack_url)
    for language in ("es", "en"):
        page.evaluate(f"window.CXR_I18N.setLanguage('{language}')")
        for value, digits, *_ in WRITTEN:
            shown = page.evaluate(f"window.CXR_I18N.number({value}, {digits})")
            assert shown == number(value, language, digits=digits), (language, value, digits)


def test_the_size_of_a_wide_image_is_grouped_in_both_languages(
    page: Page, stack_url: str, tmp_path: Path
) -> None:
    """A 20000-pixel-wide film (a scanned strip): its size before and after the page scales it down."""
    wide = tmp_path / "tira.png"
    Image.new("L", (20_000, 300), 128).save(wide)
    open_page(page, stack_url)
    page.set_input_files("#file-input", str(wide))
    details = page.locator("#file-details")
    expect(details).to_contain_text(f"20{NBSP}000 × 300 px")
    expect(details).to_contain_text("se reducirá a 1024 × 15 px")
    page.click("#lang-toggle")
    expect(details).to_contain_text("20,000 × 300 px")
    expect(details).to_contain_text("will be scaled to 1,024 × 15 px")
