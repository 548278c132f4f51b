/*
 * The one request the page makes: POST {"image": base64} (and "explain" when the heatmap is wanted) to
 * <apiBaseUrl>/diagnose, with a time limit, and whatever happens turned into an outcome the page can show:
 * a reading, or an error kind a person can act on.
 * Exposes window.CXR_API.
 */
(() => {
  "use strict";

  const config = window.CXR_CONFIG || {};
  const API_BASE = String(config.apiBaseUrl || "").replace(/\/+$/, "");
  const TIMEOUT_MS = Number(config.timeoutMs) || 60000;

  /**
   * POST the image and turn whatever happens into an outcome: a result (saying whether the heatmap was
   * asked for), or an error kind; null if ``cancel`` aborted it.
   */
  async function postImage(base64, explain, cancel) {
    const controller = new AbortController();
    const timer = window.setTimeout(() => controller.abort(), TIMEOUT_MS);
    const stop = () => controller.abort();
    cancel.addEventListener("abort", stop);
    if (cancel.aborted) controller.abort();
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

  window.CXR_API = {
    postImage: postImage,
  };
})();
