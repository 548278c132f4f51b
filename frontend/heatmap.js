/*
 * The answer's heatmap ("where the model looked"): checked against its documented shape, then drawn on a
 * canvas laid over the preview, on the part of the image the model saw.
 * Exposes window.CXR_HEATMAP, with clamp01 (render.js's probability bars use it too); when to show it is
 * app.js's call.
 */
(() => {
  "use strict";

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

  /** 0 transparent, through yellow to red at 1 (alpha 215: the film stays visible); the browser smooths
   * the small map when the canvas is stretched over the image. The model saw the image (or the part of it
   * the answer names) squeezed into a square, so the map is stretched back over that part. */
  function drawHeatmap(canvas, map) {
    canvas.width = map.width;
    canvas.height = map.height;
    const [left, top, right, bottom] = regionOf(map);
    canvas.style.left = `${left * 100}%`;
    canvas.style.top = `${top * 100}%`;
    canvas.style.width = `${(right - left) * 100}%`;
    canvas.style.height = `${(bottom - top) * 100}%`;
    const context = canvas.getContext("2d");
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

  /** A value held to [0, 1]: a heatmap cell's strength here, a probability bar's width in render.js. */
  function clamp01(value) {
    return Math.min(1, Math.max(0, value));
  }

  window.CXR_HEATMAP = {
    heatmapOf: heatmapOf,
    drawHeatmap: drawHeatmap,
    clamp01: clamp01,
  };
})();
