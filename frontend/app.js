/*
 * The page's wiring: its state and its events. Choose or drop a file, preview it, send it when
 * "Diagnosticar" is pressed, show the answer, and redo the texts when the language changes. The work itself
 * is done by the scripts index.html loads before this one: file-check.js (what the file is), upload.js
 * (the bytes sent), api.js (the request and its outcome), render.js (the result card), heatmap.js.
 */
(() => {
  "use strict";

  const i18n = window.CXR_I18N;
  const { MAX_UPLOAD_BYTES, prepareUpload, toBase64 } = window.CXR_UPLOAD;
  const { inspectFile } = window.CXR_FILE_CHECK;
  const { postImage } = window.CXR_API;
  const { resultCard } = window.CXR_RENDER;
  const { heatmapOf, drawHeatmap } = window.CXR_HEATMAP;

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
      return await postImage(await toBase64(upload), ui.explain.checked, signal);
    } catch (error) {
      return signal.aborted ? null : { type: "error", kind: "unreadable" };
    }
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
    const card = resultCard(outcome, { again: startOver, retry: state.file ? retryReading : null });
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

  /** The error card's "try again": the same file once more, unless it has gone or a reading is on its way. */
  function retryReading() {
    if (state.file && !state.busy) diagnose();
  }

  /** The card's "another image": forget this file and open the file chooser. */
  function startOver() {
    resetFile();
    clearResult();
    ui.choose.focus();
    ui.input.click();
  }

  // ---------------------------------------------------------------- heatmap over the preview

  /** Show the current reading's heatmap over the preview when the box is ticked, hide it otherwise. */
  function updateHeatmap() {
    const body = state.outcome && state.outcome.type === "result" ? state.outcome.body : null;
    const map = body && body.result !== "not_chest_xray" ? heatmapOf(body) : null;
    const show = Boolean(map) && ui.explain.checked && !ui.previewImage.hidden;
    if (show && state.drawnHeatmap !== map) {
      drawHeatmap(ui.heatmap, map);
      state.drawnHeatmap = map;
    }
    ui.heatmap.hidden = !show;
    ui.heatmapLegend.hidden = !show;
    ui.preview.classList.toggle("has-heatmap", show);
  }

  refreshLanguage();
})();
