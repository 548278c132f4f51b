/*
 * The result card for an outcome: a reading (diagnosis or "indeterminate"), "not a chest radiograph", or an
 * error, each with its technical details, the notes on the upload and the buttons to go on. Everything that
 * comes from the server is written with textContent, never as HTML.
 * Exposes window.CXR_RENDER; needs i18n.js, upload.js (the byte limit) and heatmap.js (clamp01) loaded
 * first. Where the card goes, and what its buttons do, is app.js's call.
 */
(() => {
  "use strict";

  const i18n = window.CXR_I18N;
  const { MAX_UPLOAD_BYTES } = window.CXR_UPLOAD;
  const { clamp01 } = window.CXR_HEATMAP;
  const LABELS = ["Normal", "COVID-19", "Viral Pneumonia"];
  const rowTemplate = document.getElementById("probability-row");

  /**
   * The card for an outcome. ``actions.again`` starts over with another file; ``actions.retry`` sends the
   * same file again, offered after an error that may pass by itself, and null when there is no file to send.
   */
  function resultCard(outcome, actions) {
    return outcome.type === "error"
      ? errorCard(outcome, actions)
      : outcome.body.result === "not_chest_xray"
        ? notChestCard(outcome.body, actions)
        : diagnosisCard(outcome.body, actions);
  }

  function node(tag, className, text) {
    const element = document.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined && text !== null) element.textContent = String(text);
    return element;
  }

  function card(name, tone) {
    const element = node("article", "result result--" + tone);
    element.setAttribute("data-state", name);
    element.setAttribute("aria-labelledby", "result-heading");
    return element;
  }

  function heading(text) {
    const element = node("h3", "result-heading", text);
    element.id = "result-heading";
    element.tabIndex = -1;
    return element;
  }

  function labelText(label) {
    const key = "label." + label;
    const text = i18n.t(key);
    return text === key ? String(label) : text;
  }

  function diagnosisCard(body, actions) {
    const indeterminate = body.result === "indeterminate";
    const element = card(body.result, indeterminate ? "caution" : "reading");
    const probabilities = body.probabilities && typeof body.probabilities === "object" ? body.probabilities : {};
    const top = topLabel(probabilities);
    const label = indeterminate ? null : typeof body.diagnosis === "string" ? body.diagnosis : top;

    element.appendChild(node("p", "result-kicker", i18n.t(indeterminate ? "resultTitle" : "readingIntro")));
    const title = heading(indeterminate ? i18n.t("indeterminateTitle") : labelText(label));
    if (!indeterminate) title.classList.add("result-reading");
    if (label) title.setAttribute("data-diagnosis", label);
    element.appendChild(title);

    const message = serverMessage(body);
    if (indeterminate) element.appendChild(node("p", "result-message", i18n.t("indeterminateText")));
    else if (message) element.appendChild(node("p", "result-message", message));
    if (!indeterminate && body.decision === "screening_threshold") {
      element.appendChild(node("p", "result-message result-flag", i18n.t("flaggedText")));
    }
    for (const note of uploadNotes(body)) element.appendChild(note);

    element.appendChild(node("h4", "result-subheading", i18n.t("probabilitiesTitle")));
    const list = node("ul", "probabilities");
    list.setAttribute("aria-label", i18n.t("probabilitiesTitle"));
    for (const name of orderedLabels(probabilities)) {
      const value = Number(probabilities[name]);
      const row = rowTemplate.content.firstElementChild.cloneNode(true);
      row.setAttribute("data-label", name);
      row.setAttribute("data-probability", String(probabilities[name]));
      if (name === (label || top)) row.classList.add("is-top");
      row.querySelector(".prob-label").textContent = labelText(name);
      row.querySelector(".prob-value").textContent = Number.isFinite(value) ? i18n.percent(value) : "—";
      // CSSOM writes are allowed by a CSP without 'unsafe-inline'; style attributes in markup are not.
      row.querySelector(".prob-fill").style.width = (Number.isFinite(value) ? clamp01(value) * 100 : 0) + "%";
      list.appendChild(row);
    }
    element.appendChild(list);
    // Said again beside the reading itself: on a phone the page's banner is a screen or more above it.
    element.appendChild(node("p", "result-disclaimer", i18n.t("cardDisclaimer")));
    element.appendChild(technicalDetails(body));
    element.appendChild(againButton(actions.again));
    return element;
  }

  function notChestCard(body, actions) {
    const element = card("not_chest_xray", "alert");
    const message = serverMessage(body) || i18n.t("notChestTitle");
    const title = heading(message);
    title.classList.add("result-alert");
    element.appendChild(alertIcon());
    element.appendChild(title);
    element.appendChild(node("p", "result-message", i18n.t("notChestAdvice")));
    // A DICOM file refused by its own header (modality, lateral view): the reason, not only the scores.
    const says = body.consistency ? body.consistency.dicom_header : null;
    if (typeof says === "string" && says) {
      element.appendChild(node("p", "result-message result-dicom-header", i18n.t("dicomHeader", { says: says })));
    }
    for (const note of uploadNotes(body)) element.appendChild(note);
    element.appendChild(technicalDetails(body));
    element.appendChild(againButton(actions.again));
    return element;
  }

  /** Errors that may pass by themselves: offer to send the same file again. */
  const TRANSIENT_ERRORS = ["unavailable", "busy", "server", "network", "timeout", "unexpected"];

  function errorCard(outcome, actions) {
    const element = card("error", "error");
    element.setAttribute("data-error", outcome.kind);
    if (outcome.code) element.setAttribute("data-code", outcome.code);
    element.appendChild(alertIcon());
    element.appendChild(heading(i18n.t("errorTitle")));
    const limit = i18n.size(MAX_UPLOAD_BYTES);
    const main = i18n.t("error." + outcome.kind, { limit: limit });
    element.appendChild(node("p", "result-message error-message", main));
    const said = outcome.detail ? serverMessage(outcome.detail) : "";
    const detail = said === main ? "" : said; // the WAF's 429 says the page's own sentence: not twice
    if (detail || outcome.status) {
      const details = node("details", "result-details");
      details.appendChild(node("summary", null, i18n.t("details")));
      const status = outcome.status ? "HTTP " + outcome.status + (outcome.code ? " · " + outcome.code : "") : "";
      if (status) details.appendChild(node("p", null, status));
      if (detail) details.appendChild(node("p", "error-detail", detail));
      element.appendChild(details);
    }
    const transient = TRANSIENT_ERRORS.indexOf(outcome.kind) >= 0;
    if (transient && actions.retry) element.appendChild(retryButton(actions.retry));
    else element.appendChild(againButton(actions.again, "chooseAnother"));
    return element;
  }

  function technicalDetails(body) {
    const details = node("details", "result-details");
    details.appendChild(node("summary", null, i18n.t("details")));
    const consistency = body.consistency && typeof body.consistency === "object" ? body.consistency : null;
    if (consistency && Number.isFinite(Number(consistency.ssim))) {
      const text = i18n.t("consistency", {
        ssim: i18n.number(consistency.ssim, 3),
        threshold: i18n.number(consistency.threshold, 3),
      });
      details.appendChild(node("p", null, text));
    }
    const frontal = consistency ? consistency.frontal_probability : null;
    if (typeof frontal === "number" && Number.isFinite(frontal)) {
      const text = i18n.t("frontalCheck", {
        probability: i18n.number(frontal, 3),
        threshold: i18n.number(consistency.frontal_threshold, 3),
      });
      details.appendChild(node("p", null, text));
    }
    if (body.model_version) details.appendChild(node("p", null, i18n.t("modelVersion", { version: body.model_version })));
    const disclaimer = i18n.language() === "en" && body.disclaimer_en ? body.disclaimer_en : body.disclaimer;
    if (typeof disclaimer === "string" && disclaimer) details.appendChild(node("p", null, disclaimer));
    return details;
  }

  function retryButton(retry) {
    const button = node("button", "button button-secondary result-retry", i18n.t("retry"));
    button.type = "button";
    button.addEventListener("click", retry);
    return button;
  }

  function againButton(again, key) {
    const button = node("button", "button button-secondary result-again", i18n.t(key || "again"));
    button.type = "button";
    button.addEventListener("click", again);
    return button;
  }

  function alertIcon() {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "result-icon");
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", "M12 3 2 21h20L12 3Zm0 6v6m0 3v.5");
    svg.appendChild(path);
    return svg;
  }

  /** Notes on the upload itself (the black bars of a screenshot...), in the server's words and the
   *  page's language; data-note carries the code. */
  function uploadNotes(body) {
    const notes = Array.isArray(body.notes) ? body.notes : [];
    return notes
      .filter((note) => note && typeof note.code === "string")
      .map((note) => {
        const element = node("p", "result-message result-note", serverMessage(note));
        element.setAttribute("data-note", note.code);
        return element;
      });
  }

  /** The server's own sentence in the page's language (message is Spanish, message_en English). */
  function serverMessage(body) {
    const text = i18n.language() === "en" ? body.message_en : body.message;
    return typeof text === "string" ? text : "";
  }

  function orderedLabels(probabilities) {
    const extra = Object.keys(probabilities).filter((name) => LABELS.indexOf(name) < 0);
    return LABELS.filter((name) => name in probabilities).concat(extra);
  }

  function topLabel(probabilities) {
    let best = null;
    for (const name of Object.keys(probabilities)) {
      if (best === null || Number(probabilities[name]) > Number(probabilities[best])) best = name;
    }
    return best;
  }

  window.CXR_RENDER = {
    resultCard: resultCard,
  };
})();
