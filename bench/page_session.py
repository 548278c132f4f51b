"""A page of ``make run``'s stack open in Debian's Chromium, for the benches that drive the page."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, local_stack


@contextlib.contextmanager
def page_on_stack(bundle: Path, log_name: str, init_script: str | None = None) -> Iterator[tuple[Page, str]]:
    """Serve ``bundle`` with the local stack (log in test-artifacts/<log_name>.log), open a Spanish desktop
    page in headless Chromium; yield the page (not yet navigated) and the stack's URL."""
    with local_stack(bundle, log_name=log_name) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=DESKTOP, locale="es-ES")
            if init_script:
                page.add_init_script(init_script)
            yield page, url
        finally:
            browser.close()
