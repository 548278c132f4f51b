"""The page's first paint in the reader's language: index.html is written in Spanish (what a browser without
scripts shows), and deferred scripts translate it, so an English reader must not see the Spanish meanwhile.

Each test holds (or fails) a deferred script's response with ``page.route`` and looks at the page while it
waits: language.js, loaded in <head> without defer, has marked the page before its body was drawn, and
styles.css keeps its translatable text hidden until i18n.js has put English in; a Spanish page hides
nothing; a script that never comes leaves the Spanish showing after a short fallback, not a blank page.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from infra.page_driver import DESKTOP
from tests.browser.conftest import RECORD_CSP_VIOLATIONS, PageWatch

pytestmark = pytest.mark.browser

TRANSLATING_SCRIPTS = ("i18n.js", "app.js")
"""Deferred scripts run in order: holding either one holds the translation (app.js calls i18n.apply)."""
SHOWN = """() => ({
  text: document.body.innerText,
  pending: document.documentElement.classList.contains("lang-pending"),
  lang: document.documentElement.lang,
  title: document.title,
})"""
"""What a reader sees now: innerText leaves out text under visibility: hidden."""
SPANISH_DISCLAIMER = "Ayuda de cribado, no un diagnóstico."
ENGLISH_DISCLAIMER = "A screening aid, not a diagnosis."
TITLES = {"es": "Cribado de radiografías de tórax", "en": "Chest radiograph screening"}
"""The browser tab's text in each language."""
FALLBACK_SECONDS = 1.5
"""styles.css: how long the Spanish stays hidden if the translation never comes."""


@contextlib.contextmanager
def page_before_script(
    browser: Browser,
    url: str,
    locale: str,
    script: str,
    *,
    stored: str | None = None,
    fail: bool = False,
    slow_fallback: bool = True,
) -> Iterator[tuple[Page, list[Route], PageWatch]]:
    """A page in a browser of ``locale`` (with the switch's ``stored`` choice, if any), its body parsed and
    ``script``'s response held (returned, to release) or, with ``fail``, refused. ``slow_fallback`` runs
    the page's CSS animations at 1/100 speed, so a busy machine cannot reach styles.css's fallback before
    the test has looked (the hidden text would show, the test would see Spanish)."""
    context = browser.new_context(viewport=DESKTOP, locale=locale)
    try:
        page = context.new_page()
        page.add_init_script(RECORD_CSP_VIOLATIONS)
        if stored:
            page.add_init_script(f'window.localStorage.setItem("cxr-lang", "{stored}");')
        watch = PageWatch(page)
        if slow_fallback:
            cdp = context.new_cdp_session(page)
            cdp.send("Animation.enable")
            cdp.send("Animation.setPlaybackRate", {"playbackRate": 0.01})
        held: list[Route] = []
        page.route(f"**/{script}", lambda route: route.abort() if fail else held.append(route))
        page.goto(url + "/", wait_until="commit")
        page.wait_for_selector("#probability-row", state="attached")  # the body's last element: all parsed
        if not fail:
            deadline = time.monotonic() + 30
            while not held:
                assert time.monotonic() < deadline, f"{script} was never requested"
                page.wait_for_timeout(10)
        yield page, held, watch
    finally:
        context.close()


def assert_no_violations(page: Page, watch: PageWatch) -> None:
    assert not page.evaluate("window.__cspViolations"), "CSP violations"
    assert not watch.console_csp and not watch.page_errors, (watch.console_csp, watch.page_errors)


def words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+", text)


@pytest.mark.parametrize("script", TRANSLATING_SCRIPTS)
def test_an_english_browser_never_sees_the_spanish(browser: Browser, stack_url: str, script: str) -> None:
    with page_before_script(browser, stack_url, "en-US", script) as (page, held, watch):
        shown = page.evaluate(SHOWN)
        assert words(shown["text"]) == [], f"text visible before the translation: {shown['text']!r}"
        assert shown["pending"], "language.js marked the page before the translation"
        assert not page.get_by_text("Diagnosticar", exact=True).is_visible()
        assert not page.locator("#disclaimer-title").is_visible()
        assert not page.locator('[data-i18n="disclaimerText"]').is_visible()
        assert not page.locator("#lang-toggle").is_visible(), "its 'English' is the Spanish page's"
        expect(page.locator("#diagnose")).to_be_visible()  # the layout is there, only its words wait

        held[0].continue_()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("#diagnose")).to_have_text("Diagnose")
        expect(page.locator("#disclaimer-title")).to_be_visible()
        expect(page.locator("#disclaimer-title")).to_have_text(ENGLISH_DISCLAIMER)
        expect(page.locator("#lang-toggle")).to_have_text("Español")
        expect(page.locator("#lang-toggle")).to_be_visible()
        shown = page.evaluate(SHOWN)
        assert not shown["pending"] and "Check a chest radiograph" in shown["text"]
        assert "Diagnosticar" not in shown["text"] and SPANISH_DISCLAIMER not in shown["text"]
        assert_no_violations(page, watch)


@pytest.mark.parametrize(("locale", "stored"), [("es-ES", None), ("fr-FR", None), ("en-US", "es")])
def test_a_spanish_page_hides_nothing_while_the_scripts_load(
    browser: Browser, stack_url: str, locale: str, stored: str | None
) -> None:
    """Spanish browsers, those preferring neither language, and an English one whose switch chose Spanish:
    the HTML's own text is the page's, shown from the first paint."""
    with page_before_script(browser, stack_url, locale, "i18n.js", stored=stored) as (page, held, watch):
        shown = page.evaluate(SHOWN)
        assert not shown["pending"] and shown["lang"] == "es"
        assert SPANISH_DISCLAIMER in shown["text"] and "Analice una radiografía de tórax" in shown["text"]
        assert page.get_by_text("Diagnosticar", exact=True).is_visible()
        assert page.locator("#lang-toggle").is_visible()
        held[0].continue_()
        expect(page.locator("#lang-toggle")).to_have_attribute("lang", "en")  # app.js has run
        expect(page.locator("#diagnose")).to_have_text("Diagnosticar")
        assert_no_violations(page, watch)


def test_the_stored_english_choice_hides_the_spanish_of_a_spanish_browser(
    browser: Browser, stack_url: str
) -> None:
    with page_before_script(browser, stack_url, "es-ES", "i18n.js", stored="en") as (page, held, watch):
        shown = page.evaluate(SHOWN)
        assert shown["pending"] and words(shown["text"]) == [], shown["text"]
        held[0].continue_()
        expect(page.locator("#diagnose")).to_have_text("Diagnose")
        expect(page.locator("#disclaimer-title")).to_have_text(ENGLISH_DISCLAIMER)
        assert_no_violations(page, watch)


@pytest.mark.parametrize(
    ("locale", "stored", "language"),
    [
        ("en-US", None, "en"),
        ("es-ES", "en", "en"),
        ("es-ES", None, "es"),
        ("fr-FR", None, "es"),
        ("en-US", "es", "es"),
    ],
)
def test_the_tab_title_and_lang_are_the_readers_before_the_translation(
    browser: Browser, stack_url: str, locale: str, stored: str | None, language: str
) -> None:
    """The tab's title is not hidden like the body's text, so it must be in the reader's language from the
    first moment, as must <html lang> (the title's language too); the translation leaves both as they were."""
    with page_before_script(browser, stack_url, locale, "i18n.js", stored=stored) as (page, held, watch):
        shown = page.evaluate(SHOWN)
        assert (shown["title"], shown["lang"]) == (TITLES[language], language)
        held[0].continue_()
        expect(page.locator("#lang-toggle")).to_have_attribute("lang", "es" if language == "en" else "en")
        shown = page.evaluate(SHOWN)
        assert (shown["title"], shown["lang"], shown["pending"]) == (TITLES[language], language, False)
        assert_no_violations(page, watch)


@pytest.mark.parametrize("script", TRANSLATING_SCRIPTS)
def test_a_translation_that_never_comes_leaves_the_spanish_showing(
    browser: Browser, stack_url: str, script: str
) -> None:
    """The English page hides its Spanish only for the fallback's 1.5 s: a script that fails to load
    leaves the page readable (in Spanish, with the disclaimer), not blank."""
    started = time.monotonic()
    with page_before_script(browser, stack_url, "en-US", script, fail=True, slow_fallback=False) as (
        page,
        _,
        _,
    ):
        expect(page.get_by_text("Diagnosticar", exact=True)).to_be_visible(timeout=10_000)
        elapsed = time.monotonic() - started
        expect(page.locator("#disclaimer-title")).to_be_visible()
        shown = page.evaluate(SHOWN)
        assert shown["pending"], "still marked: the Spanish shows through the fallback, not a translation"
        assert SPANISH_DISCLAIMER in shown["text"] and "consulte siempre a su médico" in shown["text"]
        assert elapsed >= FALLBACK_SECONDS, f"shown after {elapsed:.2f} s: before the fallback"
        # the Spanish showing is said to be Spanish, and the tab follows it
        expect(page.locator("html")).to_have_attribute("lang", "es")
        expect(page).to_have_title(TITLES["es"])


def test_an_english_browser_without_scripts_reads_the_whole_spanish_page(
    browser: Browser, stack_url: str
) -> None:
    """Nothing is hidden by the markup or the stylesheet alone: only language.js marks a page."""
    context = browser.new_context(viewport=DESKTOP, locale="en-US", java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(stack_url + "/")
        shown = page.evaluate(SHOWN)
        assert not shown["pending"] and shown["lang"] == "es"
        assert SPANISH_DISCLAIMER in shown["text"] and "consulte siempre a su médico" in shown["text"]
        assert page.get_by_text("Diagnosticar", exact=True).is_visible()
    finally:
        context.close()
