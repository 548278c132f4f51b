/*
 * What the page sends: the limits on an upload, and the bytes themselves (the file as it is, or the image
 * redrawn smaller or converted in the browser's canvas), as the base64 text the API takes.
 * Exposes window.CXR_UPLOAD; file-check.js, render.js and app.js read the limits from here.
 */
(() => {
  "use strict";

  const config = window.CXR_CONFIG || {};
  /** The API's limit on decoded upload bytes (function setting CXR_MAX_UPLOAD_BYTES: 4.5 MB, 4,500,000 bytes,
   * by default: function/settings.py DEFAULT_MAX_UPLOAD_BYTES). */
  const MAX_UPLOAD_BYTES = Number(config.maxUploadBytes) || 4500000;
  /** Longer side, in pixels, above which an image is scaled down before upload. */
  const MAX_SIDE = 1024;

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

  window.CXR_UPLOAD = {
    MAX_UPLOAD_BYTES: MAX_UPLOAD_BYTES,
    MAX_SIDE: MAX_SIDE,
    prepareUpload: prepareUpload,
    toBase64: toBase64,
  };
})();
