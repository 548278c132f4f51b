/*
 * The page's language, chosen before the body is drawn: the switch's choice kept in localStorage, else the
 * first of the browser's preferred languages the page has (navigator.languages, "en-GB" -> "en"), else
 * Spanish. The one script index.html loads without defer, in <head>, so it runs before the body is parsed:
 * when the choice is not the language index.html is written in (Spanish), it marks <html> "lang-pending"
 * and styles.css hides the translatable text until i18n.js has put the chosen language in, so an English
 * browser never sees the Spanish first. Should that never happen (a script that fails to load), styles.css
 * shows the Spanish after 1.5 s, and <html lang> and the tab's title go back to Spanish with it. Without
 * scripts nothing is marked: the Spanish shows at once.
 * The tab's title is not hidden text, so it and <html lang> are set here, at once; the titles live here
 * for that reason, the page's only texts outside i18n.js.
 * Exposes window.CXR_LANGUAGE; i18n.js takes the choice, the storage key and the titles from here.
 */
(function () {
  "use strict";

  const STORAGE_KEY = "cxr-lang";
  const LANGUAGES = ["es", "en"];
  const TITLES = { es: "Cribado de radiografías de tórax", en: "Chest radiograph screening" };

  function readStoredLanguage() {
    try {
      const stored = window.localStorage.getItem(STORAGE_KEY);
      return LANGUAGES.indexOf(stored) >= 0 ? stored : null;
    } catch (error) {
      return null; // storage disabled (private mode, policy): the browser's language, else Spanish
    }
  }

  /** The first of the browser's preferred languages the page has, in the user's order; null if none. */
  function browserLanguage() {
    const languages = navigator.languages;
    const preferred = languages && languages.length ? languages : [navigator.language];
    for (let i = 0; i < preferred.length; i++) {
      const primary = String(preferred[i] || "").toLowerCase().split("-")[0];
      if (LANGUAGES.indexOf(primary) >= 0) return primary;
    }
    return null;
  }

  /** The language the tab's title and <html lang> say the page is in (a screen reader reads by it). */
  function declare(lang) {
    document.documentElement.lang = lang;
    document.title = TITLES[lang];
  }

  const html = document.documentElement;
  const written = html.lang; // index.html's own language, Spanish
  const initial = readStoredLanguage() || browserLanguage() || "es";
  if (initial !== written) {
    html.classList.add("lang-pending");
    declare(initial);
    // styles.css's fallback (an animation) shows index.html's Spanish: say so, unless i18n.js has
    // translated the page meanwhile (it lifts the mark)
    document.addEventListener("animationstart", function (event) {
      if (event.animationName === "lang-fallback" && html.classList.contains("lang-pending")) declare(written);
    });
  }

  window.CXR_LANGUAGE = {
    STORAGE_KEY: STORAGE_KEY,
    LANGUAGES: LANGUAGES,
    TITLES: TITLES,
    initial: initial,
  };
})();
