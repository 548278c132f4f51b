"""Browser-test fixtures: `make run`'s stack in a subprocess, Debian's Chromium driven by Playwright.

The stack is the real one (``python -m infra.local_stack``: loopback S3 server, the function's app, the
page). Every page opened through the ``page`` fixture records Content-Security-Policy violations and
uncaught script errors; a test that leaves any behind fails at teardown.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from infra.locations import REPO_ROOT
from infra.page_driver import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE
from infra.stack_process import local_stack
from tests.api_support import release_with_manifest

SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"

RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.fixture(scope="session")
def stack_url() -> Iterator[str]:
    with local_stack() as url:
        health = httpx2.get(f"{url}/health", timeout=30)
        assert health.status_code == 200, health.text
        yield url


@pytest.fixture(scope="session")
def unsure_stack_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The release's model served under a calibration so flat (temperature 50, a 90% confidence floor, no
    screening flag) that the API answers "indeterminate" for every radiograph: its real answers of that
    kind, for the pages that show them (the release gives one to 0.6% of films)."""
    bundle = release_with_manifest(
        tmp_path_factory.mktemp("unsure") / "bundle",
        calibration={"temperature": 50.0, "min_confidence": 0.9},
    )
    with local_stack(bundle, log_name="local-stack-indeterminate") as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class PageWatch:
    """What a page reported while a test ran: CSP violations and uncaught errors."""

    def __init__(self, page: Page) -> None:
        self.console_csp: list[str] = []
        self.page_errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def _console(self, message: object) -> None:
        text = message.text  # type: ignore[attr-defined]
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.console_csp.append(text)


@pytest.fixture
def page_watch(browser: Browser) -> Iterator[tuple[Page, PageWatch]]:
    context = browser.new_context(viewport=DESKTOP, locale="es-ES")
    page = context.new_page()
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    watch = PageWatch(page)
    yield page, watch
    context.close()


@pytest.fixture
def page(page_watch: tuple[Page, PageWatch]) -> Iterator[Page]:
    """A desktop-sized page that must end the test with no CSP violation and no uncaught script error."""
    page, watch = page_watch
    yield page
    in_page = page.evaluate("window.__cspViolations || []") if not page.is_closed() else []
    assert not watch.console_csp and not in_page, f"CSP violations: {watch.console_csp} {in_page}"
    assert not watch.page_errors, f"uncaught errors in the page: {watch.page_errors}"


def screenshot(page: Page, name: str) -> Path:
    """Save the state on a desktop and a phone-sized viewport; the phone layout must not scroll sideways."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.mouse.move(0, 0)  # no hover highlight left where the last click was
    desktop = SCREENSHOTS / f"{name}-desktop.png"
    page.screenshot(path=str(desktop), full_page=True)
    size = page.viewport_size or DESKTOP
    page.set_viewport_size(PHONE)
    try:
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name}: the phone layout is {overflow}px wider than the screen"
        page.screenshot(path=str(SCREENSHOTS / f"{name}-phone.png"), full_page=True)
    finally:
        page.set_viewport_size(size)
    return desktop
