/*
 * The page's behaviour: choose or drop a file, preview it, prepare it (scale large images down in the
 * browser, send DICOM as it is), POST {"image": base64} to <apiBaseUrl>/diagnose, and show the answer.
 * Everything that comes from the server is written with textContent, never as HTML.
 */
(() => {
  "use strict";

  const config = window.CXR_CONFIG || {};
  const i18n = window.CXR_I18N;
  const API_BASE = String(config.apiBaseUrl || "").replace(/\/+$/, "");
  /** The API's limit on decoded upload bytes (function setting CXR_MAX_UPLOAD_BYTES: 4.5 MB, 4,500,000 bytes,
   * by default: function/settings.py DEFAULT_MAX_UPLOAD_BYTES). */
  const MAX_UPLOAD_BYTES = Number(config.maxUploadBytes) || 4500000;
  /** Longer side, in pixels, above which an image is scaled down before upload. */
  const MAX_SIDE = 1024;
  const TIMEOUT_MS = Number(config.timeoutMs) || 60000;
  const LABELS = ["Normal", "COVID-19", "Viral Pneumonia"];
  /** Formats some browsers cannot open and the service does not read: explained when this one cannot. */
  const FOREIGN_TYPES = ["image/webp", "image/avif", "image/heic"];
  /** Formats the browser decodes but the service does not read: converted to PNG before upload. Every
   * browser opens GIF: one it cannot open is damaged, sent as it is for the service to answer. */
  const CONVERT_TYPES = FOREIGN_TYPES.concat(["image/gif"]);

  const $ = (id) => document.getElementById(id);
  const ui = {
    langToggle: $("lang-toggle"),
    dropzone: $("dropzone"),
    choose: $("choose"),
    input: $("file-input"),
    preview: $("preview"),
    previewImage: $("preview-image"),
    previewPlaceholder: $("preview-placeholder"),
    fileName: $("file-name"),
    fileDetails: $("file-details"),
    clear: $("clear"),
    diagnose: $("diagnose"),
    diagnoseHint: $("diagnose-hint"),
    progress: $("progress"),
    progressText: $("progress-text"),
    result: $("result-region"),
    rowTemplate: $("probability-row"),
    explain: $("explain-toggle"),
    heatmap: $("heatmap"),
    heatmapLegend: $("heatmap-legend"),
  };

  const state = {
    file: null, // the File the person chose
    info: null, // what inspectFile learnt about it
    inspection: null, // the pending inspectFile promise: "Diagnosticar" may be pressed before it ends
    previewUrl: null,
    busy: false,
    request: null, // the AbortController of the reading on its way, aborted when the file goes
    outcome: null, // last result or error, re-rendered when the language changes
    generation: 0, // bumps on every new file, so a late answer for an old file is dropped
    drawnHeatmap: null, // the heatmap object last drawn on the canvas
  };

  // ---------------------------------------------------------------- language

  function refreshLanguage() {
    i18n.apply();
    ui.langToggle.textContent = i18n.t("langToggle");
    ui.langToggle.setAttribute("aria-label", i18n.t("langToggleLabel"));
    ui.langToggle.setAttribute("lang", i18n.other());
    updateDiagnoseButton();
    if (state.file) describeFile();
    if (state.outcome) render(state.outcome, { focus: false, keepDetails: true });
  }

  ui.langToggle.addEventListener("click", () => i18n.setLanguage(i18n.other()));
  i18n.onChange(refreshLanguage);

  // ---------------------------------------------------------------- "show where the model looked"

  const EXPLAIN_KEY = "cxr-explain";

  function readExplainChoice() {
    try {
      return window.localStorage.getItem(EXPLAIN_KEY) === "1";
    } catch (error) {
      return false; // storage disabled: the box starts unticked
    }
  }

  ui.explain.checked = readExplainChoice();
  ui.explain.addEventListener("change", () => {
    try {
      window.localStorage.setItem(EXPLAIN_KEY, ui.explain.checked ? "1" : "0");
    } catch (error) {
      /* not persisted, still applied */
    }
    // A reading that came without a heatmap is asked for again, this time with one (if it can be shown);
    // one still on its way is asked for again when it arrives (diagnose).
    if (lacksWantedHeatmap(state.outcome) && !state.busy) diagnose();
    else updateHeatmap();
  });

  /** True if the box is ticked but this reading has no heatmap it could show over the preview. */
  function lacksWantedHeatmap(outcome) {
    const body = outcome && outcome.type === "result" ? outcome.body : null;
    const unexplained = body && body.result !== "not_chest_xray" && !heatmapOf(body);
    return Boolean(ui.explain.checked && unexplained && !ui.previewImage.hidden && state.file);
  }

  // ---------------------------------------------------------------- choosing a file

  ui.choose.addEventListener("click", () => ui.input.click());
  ui.dropzone.addEventListener("click", (event) => {
    if (!event.target.closest("button")) ui.input.click();
  });
  ui.input.addEventListener("change", () => {
    if (ui.input.files && ui.input.files[0]) chooseFile(ui.input.files[0]);
  });

  let dragDepth = 0;
  ui.dropzone.addEventListener("dragenter", (event) => {
    event.preventDefault();
    dragDepth += 1;
    ui.dropzone.classList.add("is-dragging");
  });
  ui.dropzone.addEventListener("dragover", (event) => {
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = "copy";
  });
  ui.dropzone.addEventListener("dragleave", () => {
    dragDepth = Math.max(0, dragDepth - 1);
    if (dragDepth === 0) ui.dropzone.classList.remove("is-dragging");
  });
  ui.dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    dragDepth = 0;
    ui.dropzone.classList.remove("is-dragging");
    const files = event.dataTransfer && event.dataTransfer.files;
    if (files && files[0]) {
      chooseFile(files[0]);
      ui.diagnose.focus();
    }
  });
  // A file dropped beside the drop zone must not make the browser navigate away to it.
  window.addEventListener("dragover", (event) => event.preventDefault());
  window.addEventListener("drop", (event) => event.preventDefault());

  ui.clear.addEventListener("click", () => {
    resetFile();
    clearResult();
    ui.choose.focus();
  });

  async function chooseFile(file) {
    resetFile();
    clearResult();
    state.file = file;
    const generation = state.generation;
    ui.preview.hidden = false;
    ui.fileName.textContent = file.name || "—";
    ui.fileDetails.textContent = i18n.size(file.size);
    updateDiagnoseButton();
    state.inspection = inspectFile(file);
    const info = await state.inspection;
    if (generation !== state.generation) return; // another file was chosen meanwhile
    state.info = info;
    showPreview(file, info);
    describeFile();
  }

  function resetFile() {
    state.generation += 1;
    cancelReading();
    if (state.info && state.info.bitmap) state.info.bitmap.close();
    if (state.previewUrl) URL.revokeObjectURL(state.previewUrl);
    state.file = null;
    state.info = null;
    state.inspection = null;
    state.previewUrl = null;
    ui.input.value = "";
    ui.preview.hidden = true;
    ui.previewImage.hidden = true;
    ui.previewImage.removeAttribute("src");
    ui.previewPlaceholder.hidden = true;
    updateDiagnoseButton();
    updateHeatmap();
  }

  /**
   * Decide how the file will be sent: as it is (DICOM, undecodable, small), redrawn smaller or converted to
   * PNG (GIF, WebP...), or not at all (a format neither side reads, an animated GIF).
   */
  async function inspectFile(file) {
    const head = new Uint8Array(await file.slice(0, 132).arrayBuffer());
    const isDicom = /\.(dcm|dicom)$/i.test(file.name || "") || asciiAt(head, 128, 4) === "DICM";
    if (isDicom) return { kind: "dicom" };
    const type = sniffType(head, file.type);
    let bitmap;
    try {
      bitmap = await createImageBitmap(file); // applies EXIF orientation, like the service does
    } catch (error) {
      // A phone's HEIC (or an AVIF, WebP) this browser cannot open: the service reads none of them either,
      // so say what to do instead of sending it for a 415.
      if (FOREIGN_TYPES.indexOf(type) >= 0) return { kind: "foreign" };
      return { kind: "opaque" }; // TIFF, text, damaged files: the service decides and explains
    }
    const width = bitmap.width;
    const height = bitmap.height;
    const longer = Math.max(width, height);
    const convert = CONVERT_TYPES.indexOf(type) >= 0;
    // The canvas would get an animation's first frame only, maybe not the film the person means: refused
    // when "Diagnosticar" is pressed, nothing sent; the preview still shows it moving.
    if (type === "image/gif" && gifFrameCount(new Uint8Array(await file.arrayBuffer()), 2) > 1) {
      bitmap.close();
      return { kind: "image", animated: true, width: width, height: height };
    }
    const scale = longer > MAX_SIDE ? MAX_SIDE / longer : 1;
    const redraw = scale < 1 || convert || file.size > MAX_UPLOAD_BYTES;
    return {
      kind: "image",
      bitmap: bitmap,
      width: width,
      height: height,
      redraw: redraw,
      convert: convert,
      newWidth: Math.max(1, Math.round(width * scale)),
      newHeight: Math.max(1, Math.round(height * scale)),
    };
  }

  function showPreview(file, info) {
    if (info.kind === "image") {
      state.previewUrl = URL.createObjectURL(file);
      ui.previewImage.classList.toggle("is-portrait", info.height > info.width);
      ui.previewImage.src = state.previewUrl;
      ui.previewImage.hidden = false;
    } else {
      ui.previewPlaceholder.hidden = false;
    }
  }

  function describeFile() {
    const file = state.file;
    const info = state.info;
    ui.fileName.textContent = file.name || "—";
    if (!info) return;
    ui.previewImage.alt = i18n.t("previewAlt", { name: file.name || "" });
    const placeholder = { dicom: "dicomPreview", foreign: "foreignPreview" }[info.kind] || "noPreview";
    ui.previewPlaceholder.textContent = i18n.t(placeholder);
    const size = i18n.size(file.size);
    if (info.kind !== "image") {
      ui.fileDetails.textContent = i18n.t("fileDetails", { size: size });
      return;
    }
    const values = {
      width: i18n.number(info.width),
      height: i18n.number(info.height),
      size: size,
      newWidth: i18n.number(info.newWidth),
      newHeight: i18n.number(info.newHeight),
    };
    let key = "fileDetailsImage";
    if (info.redraw && (info.newWidth !== info.width || info.newHeight !== info.height)) key = "fileDetailsScaled";
    else if (info.convert) key = "fileDetailsConverted";
    ui.fileDetails.textContent = i18n.t(key, values);
  }

  // ---------------------------------------------------------------- diagnosing

  function updateDiagnoseButton() {
    const ready = Boolean(state.file) && !state.busy;
    ui.diagnose.setAttribute("aria-disabled", ready ? "false" : "true");
    ui.diagnose.setAttribute("aria-busy", state.busy ? "true" : "false");
    ui.diagnoseHint.textContent = i18n.t(state.busy ? "diagnoseBusy" : state.file ? "diagnoseReady" : "diagnoseHint");
  }

  ui.diagnose.addEventListener("click", () => {
    // Pressed with no image: take the person to the button that chooses one (its hint says so too).
    if (!state.file) ui.choose.focus();
    if (ui.diagnose.getAttribute("aria-disabled") === "true") return;
    diagnose();
  });

  async function diagnose() {
    const generation = state.generation;
    const request = new AbortController();
    state.request = request;
    state.busy = true;
    clearResult();
    updateDiagnoseButton();
    ui.progress.hidden = false;
    ui.progressText.textContent = i18n.t("progressPreparing");
    let outcome = await readingOf(state.file, generation, request.signal);
    // The box was ticked while the reading was on its way: ask again, this time for the heatmap too. If
    // that second request fails (busy, slow, offline), the reading already had is shown, not the error.
    if (state.request === request && outcome && !outcome.explained && lacksWantedHeatmap(outcome)) {
      const explained = await readingOf(state.file, generation, request.signal);
      if (explained && explained.type === "result") outcome = explained;
    }
    // The file was replaced or removed while waiting: resetFile has made the page idle; drop the answer.
    if (state.request !== request) return;
    finishReading();
    if (generation !== state.generation || !outcome) return;
    render(outcome, { focus: true });
  }

  /** Leave the busy state: the page is ready for a file again. */
  function finishReading() {
    state.request = null;
    state.busy = false;
    ui.progress.hidden = true;
    updateDiagnoseButton();
  }

  /** Abort the reading on its way, if any; its answer, should it still come, is never shown. */
  function cancelReading() {
    if (!state.request) return;
    state.request.abort();
    finishReading();
  }

  /** Prepare and send one file; null if the file was replaced or the reading cancelled before an answer. */
  async function readingOf(file, generation, signal) {
    try {
      // a click right after choosing a large image must still send it scaled down, not as it is
      const info = state.info || (state.inspection ? await state.inspection : null);
      if (generation !== state.generation || signal.aborted) return null;
      if (info && info.kind === "foreign") return { type: "error", kind: "foreign_format" };
      if (info && info.animated) return { type: "error", kind: "animated" };
      const upload = await prepareUpload(file, info);
      if (upload.size > MAX_UPLOAD_BYTES) return { type: "error", kind: "too_large" };
      ui.progressText.textContent = i18n.t("progress");
      return await postImage(await toBase64(upload), signal);
    } catch (error) {
      return signal.aborted ? null : { type: "error", kind: "unreadable" };
    }
  }

  /** The bytes to send: the file itself, or the image redrawn at most MAX_SIDE pixels on its longer side. */
  async function prepareUpload(file, info) {
    if (!info || info.kind !== "image" || !info.redraw) return file;
    const canvas = document.createElement("canvas");
    canvas.width = info.newWidth;
    canvas.height = info.newHeight;
    const context = canvas.getContext("2d");
    context.imageSmoothingQuality = "high";
    context.drawImage(info.bitmap, 0, 0, info.newWidth, info.newHeight);
    const jpegSource = file.type === "image/jpeg" || /\.jpe?g$/i.test(file.name || "");
    let blob = canvasBlob(canvas, jpegSource ? "image/jpeg" : "image/png", 0.92);
    if (blob.size > MAX_UPLOAD_BYTES && !jpegSource) blob = canvasBlob(canvas, "image/jpeg", 0.9);
    return blob;
  }

  /** The canvas encoded now, as a Blob. Not toBlob: Chromium encodes for it asynchronously, seemingly in
   * idle time, and a redrawn 2048 px PNG then left 1 to 7 s after the click (bench.bench_page_latency, docs/benchmarks.md);
   * toDataURL encodes at once (the whole redraw about 55 ms). */
  function canvasBlob(canvas, type, quality) {
    const url = canvas.toDataURL(type, quality);
    if (url.indexOf(";base64,") < 0) throw new Error("encode failed"); // "data:," when the canvas cannot be read
    const binary = atob(url.slice(url.indexOf(",") + 1));
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
    return new Blob([bytes], { type: url.slice(5, url.indexOf(";")) });
  }

  function toBase64(blob) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => {
        const url = String(reader.result);
        resolve(url.slice(url.indexOf(",") + 1));
      };
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(blob);
    });
  }

  /**
   * POST the image and turn whatever happens into an outcome: a result (saying whether the heatmap was
   * asked for), or an error kind; null if ``cancel`` aborted it.
   */
  async function postImage(base64, cancel) {
    const controller = new AbortController();
    const timer = window.setTimeout(() => controller.abort(), TIMEOUT_MS);
    const stop = () => controller.abort();
    cancel.addEventListener("abort", stop);
    if (cancel.aborted) controller.abort();
    const explain = ui.explain.checked;
    let response;
    let body = null;
    try {
      response = await fetch(API_BASE + "/diagnose", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(explain ? { image: base64, explain: true } : { image: base64 }),
        credentials: "omit",
        cache: "no-store",
        referrerPolicy: "no-referrer",
        signal: controller.signal,
      });
      try {
        body = await response.json();
      } catch (error) {
        if (controller.signal.aborted) throw error; // cancelled or timed out while the body arrived
        body = null;
      }
    } catch (error) {
      if (cancel.aborted) return null;
      return { type: "error", kind: error && error.name === "AbortError" ? "timeout" : "network" };
    } finally {
      window.clearTimeout(timer);
      cancel.removeEventListener("abort", stop);
    }
    if (cancel.aborted) return null;
    if (response.ok) {
      if (body && ["diagnosis", "not_chest_xray", "indeterminate"].indexOf(body.result) >= 0) {
        return { type: "result", body: body, explained: explain };
      }
      return { type: "error", kind: "unexpected", status: response.status };
    }
    const error = body && typeof body.error === "object" && body.error ? body.error : {};
    return {
      type: "error",
      kind: errorKind(response.status, String(error.code || "")),
      status: response.status,
      code: typeof error.code === "string" ? error.code : "",
      detail: error, // the server's sentence, message (Spanish) and message_en: shown in the page's language
    };
  }

  /** Map the API's status and error code to a message a person can act on. */
  function errorKind(status, code) {
    if (code === "image_too_large") return "too_many_pixels"; // a small file may hold too many pixels
    if (status === 413 || /too_large/.test(code)) return "too_large";
    if (status === 415 || /unsupported/.test(code)) return "unsupported";
    if (/too_small/.test(code)) return "too_small";
    if (/undecodable|invalid_image|corrupt|unreadable/.test(code)) return "unreadable";
    // The per-client limit (the WAF in front of the API, infra/waf.yaml) is lifted only when this address
    // slows down: said so, without a retry button. A 429 without that code is the API's shared throttling.
    if (code === "rate_limited") return "rate_limited";
    if (status === 429) return "busy";
    if (status === 503 || status === 502 || status === 504) return "unavailable";
    if (status >= 500) return "server";
    if (status === 400 || status === 422) return "invalid";
    return "unexpected";
  }

  // ---------------------------------------------------------------- showing the outcome

  function clearResult() {
    state.outcome = null;
    ui.result.replaceChildren();
    updateHeatmap();
  }

  function render(outcome, options) {
    // the same outcome rebuilt (in the other language): an open "technical details" stays open
    const shown = options.keepDetails ? ui.result.querySelector(".result-details") : null;
    const detailsOpen = Boolean(shown && shown.open);
    state.outcome = outcome;
    const card =
      outcome.type === "error"
        ? errorCard(outcome)
        : outcome.body.result === "not_chest_xray"
          ? notChestCard(outcome.body)
          : diagnosisCard(outcome.body);
    const details = card.querySelector(".result-details");
    if (details && detailsOpen) details.open = true;
    ui.result.replaceChildren(card);
    updateHeatmap();
    if (options.focus) {
      const heading = card.querySelector(".result-heading");
      heading.focus({ preventScroll: true });
      const calm = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      card.scrollIntoView({ behavior: calm ? "auto" : "smooth", block: "nearest" });
    }
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

  function diagnosisCard(body) {
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
      const row = ui.rowTemplate.content.firstElementChild.cloneNode(true);
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
    element.appendChild(againButton());
    return element;
  }

  function notChestCard(body) {
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
    element.appendChild(againButton());
    return element;
  }

  /** Errors that may pass by themselves: offer to send the same file again. */
  const TRANSIENT_ERRORS = ["unavailable", "busy", "server", "network", "timeout", "unexpected"];

  function errorCard(outcome) {
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
    if (TRANSIENT_ERRORS.indexOf(outcome.kind) >= 0 && state.file) element.appendChild(retryButton());
    else element.appendChild(againButton("chooseAnother"));
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

  function retryButton() {
    const button = node("button", "button button-secondary result-retry", i18n.t("retry"));
    button.type = "button";
    button.addEventListener("click", () => {
      if (state.file && !state.busy) diagnose();
    });
    return button;
  }

  function againButton(key) {
    const button = node("button", "button button-secondary result-again", i18n.t(key || "again"));
    button.type = "button";
    button.addEventListener("click", () => {
      resetFile();
      clearResult();
      ui.choose.focus();
      ui.input.click();
    });
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

  // ---------------------------------------------------------------- heatmap over the preview

  /** The answer's heatmap if it has the documented shape (rows of numbers), else null. */
  function heatmapOf(body) {
    const map = body && body.heatmap;
    if (!map || typeof map !== "object" || !Array.isArray(map.values)) return null;
    const width = Number(map.width);
    const height = Number(map.height);
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) return null;
    if (width > 1024 || height > 1024 || map.values.length !== height) return null;
    for (const row of map.values) if (!Array.isArray(row) || row.length !== width) return null;
    return map;
  }

  /**
   * The part of the upload the map covers, [left, top, right, bottom] as fractions: the whole image unless
   * the model saw less of it (a bundle that cuts black bars away says which part it kept).
   */
  function regionOf(map) {
    const region = Array.isArray(map.region) ? map.region.map(Number) : [];
    const valid =
      region.length === 4 &&
      region.every((value) => Number.isFinite(value) && value >= 0 && value <= 1) &&
      region[0] < region[2] &&
      region[1] < region[3];
    return valid ? region : [0, 0, 1, 1];
  }

  /**
   * Show the current reading's heatmap over the preview when the box is ticked, hide it otherwise.
   * The model saw the image (or the part of it the answer names) squeezed into a square, so the map is
   * stretched back over that part.
   */
  function updateHeatmap() {
    const body = state.outcome && state.outcome.type === "result" ? state.outcome.body : null;
    const map = body && body.result !== "not_chest_xray" ? heatmapOf(body) : null;
    const show = Boolean(map) && ui.explain.checked && !ui.previewImage.hidden;
    if (show && state.drawnHeatmap !== map) {
      drawHeatmap(map);
      state.drawnHeatmap = map;
    }
    ui.heatmap.hidden = !show;
    ui.heatmapLegend.hidden = !show;
    ui.preview.classList.toggle("has-heatmap", show);
  }

  /** 0 transparent, through yellow to red at 1 (alpha 215: the film stays visible); the browser smooths
   * the small map when the canvas is stretched over the image. */
  function drawHeatmap(map) {
    ui.heatmap.width = map.width;
    ui.heatmap.height = map.height;
    const [left, top, right, bottom] = regionOf(map);
    ui.heatmap.style.left = `${left * 100}%`;
    ui.heatmap.style.top = `${top * 100}%`;
    ui.heatmap.style.width = `${(right - left) * 100}%`;
    ui.heatmap.style.height = `${(bottom - top) * 100}%`;
    const context = ui.heatmap.getContext("2d");
    const image = context.createImageData(map.width, map.height);
    for (let row = 0; row < map.height; row++) {
      for (let column = 0; column < map.width; column++) {
        const raw = Number(map.values[row][column]);
        const value = Number.isFinite(raw) ? clamp01(raw) : 0;
        const offset = (row * map.width + column) * 4;
        image.data[offset] = 255 - 35 * value;
        image.data[offset + 1] = 225 * (1 - value) + 20 * value;
        image.data[offset + 2] = 40 * value;
        image.data[offset + 3] = 215 * value;
      }
    }
    context.putImageData(image, 0, 0);
  }

  // ---------------------------------------------------------------- small helpers

  function asciiAt(bytes, offset, length) {
    if (bytes.length < offset + length) return "";
    return String.fromCharCode.apply(null, Array.from(bytes.subarray(offset, offset + length)));
  }

  function sniffType(head, declared) {
    if (/^GIF8[79]a$/.test(asciiAt(head, 0, 6))) return "image/gif";
    if (asciiAt(head, 0, 4) === "RIFF" && asciiAt(head, 8, 4) === "WEBP") return "image/webp";
    if (asciiAt(head, 4, 4) === "ftyp" && /^avi[fs]$/.test(asciiAt(head, 8, 4))) return "image/avif";
    if (asciiAt(head, 4, 4) === "ftyp" && /^(heic|heix|mif1|msf1)$/.test(asciiAt(head, 8, 4))) return "image/heic";
    return declared || "";
  }

  /**
   * How many images (frames) a GIF holds, counting up to ``enough``; 0 if the bytes are no GIF. The blocks
   * are walked by their lengths (an image's pixel data, an extension's data, the colour tables), so no
   * byte inside them is taken for the start of a frame; a file cut short counts the frames before the cut.
   */
  function gifFrameCount(bytes, enough) {
    if (!/^GIF8[79]a$/.test(asciiAt(bytes, 0, 6)) || bytes.length < 13) return 0;
    let offset = 13 + colourTableBytes(bytes[10]); // header, logical screen descriptor, global colour table
    let frames = 0;
    while (offset < bytes.length && frames < enough) {
      const introducer = bytes[offset];
      if (introducer === 0x2c) {
        // image descriptor (10 bytes), local colour table, LZW minimum code size, then the data sub-blocks
        frames += 1;
        offset += 10 + colourTableBytes(offset + 9 < bytes.length ? bytes[offset + 9] : 0) + 1;
      } else if (introducer === 0x21) {
        offset += 2; // extension introducer and label, then the data sub-blocks
      } else {
        break; // the trailer (0x3b), or damage: nothing after it is drawn
      }
      while (offset < bytes.length && bytes[offset] !== 0) offset += bytes[offset] + 1;
      offset += 1; // the block terminator
    }
    return frames;
  }

  function colourTableBytes(packed) {
    return packed & 0x80 ? 3 << ((packed & 7) + 1) : 0;
  }

  function clamp01(value) {
    return Math.min(1, Math.max(0, value));
  }

  refreshLanguage();
})();
