"""Driving the page in Debian's Chromium with Playwright: the browser's settings, the viewports, the page's
result card, and the page of a running local stack, shared by the browser tests and the page benches."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from infra.stack_process import local_stack

CHROMIUM = "/usr/bin/chromium"
"""Debian's package (``infra/install_system_deps.sh``), not a Playwright download: none is reachable here."""
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
RESULT = "#result-region .result"
"""The page's result card: present once an answer (a reading, a refusal or an error) is shown."""


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
