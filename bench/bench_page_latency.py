"""How long a person waits on the page: from choosing a file to the reading on the screen.

    .venv/bin/python -m bench.bench_page_latency [--bundle models/release] [--repeats 20]

The promise is a reading "within a second" of pressing Diagnosticar. The handler benches time the function
alone; this times what the person sees, in Debian's Chromium (Playwright) against ``make run``'s stack on
loopback (no network delay, so a deployed page adds the round trip to API Gateway): the file's inspection
after it is chosen (decode for the preview, ``createImageBitmap``), and from the click to the request
leaving (the page's preparation of the upload) and to the result card, which includes the canvas redraw of
pictures over 1024 px, base64, the POST, the reading and the drawing of the card. Uploads (``UPLOADS``)
are made from a real adult normal film: the stored 128 px file, a 1024 px JPEG and two pictures the page
must redraw (2048 px PNG, a 4096 x 3072 JPEG as a phone photo of a film might be). Each is chosen once
untimed, then ``--repeats`` times on a freshly loaded page. From the click on, times are the page's own
clock (``performance.now()`` at the click, the request's Resource Timing entry, a MutationObserver for the
card): Python's clock around Playwright's calls added about 80 ms of its own waiting. Choosing the file is
timed with Python's clock (a few ms of Playwright).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from playwright.sync_api import Page

from bench.bench_cold_start import machine
from bench.upload_robustness import jpeg_bytes, png_bytes
from infra.locations import ADULT_SET, RELEASE_BUNDLE
from infra.page_driver import RESULT, page_on_stack

MARK_THE_CLICK = """
document.addEventListener("click", (event) => {
  if (event.target.closest && event.target.closest("#diagnose")) window.__clickedAt = performance.now();
}, true);
"""
"""An init script: the page's own clock at the click on Diagnosticar."""
MARK_THE_CARD = """(card) => {
  window.__cardAt = null;
  new MutationObserver(() => {
    if (window.__cardAt === null && document.querySelector(card)) {
      window.__cardAt = performance.now();
    }
  }).observe(document.body, { childList: true, subtree: true, attributes: true });
}"""
"""Run once the file is chosen, with the card's selector: the page's own clock when the card appears."""
SINCE_THE_CLICK = """() => {
  const request = performance.getEntriesByType("resource").find((entry) => entry.name.endsWith("/diagnose"));
  return [(request.startTime - window.__clickedAt) / 1000, (window.__cardAt - window.__clickedAt) / 1000];
}"""
"""Seconds from the click to the /diagnose request leaving (Resource Timing) and to the card appearing."""


def resized(width: int, height: int) -> Callable[[np.ndarray], np.ndarray]:
    return lambda gray: cv2.resize(gray, (width, height), interpolation=cv2.INTER_CUBIC)


UPLOADS: dict[str, tuple[str, Callable[[np.ndarray], bytes]]] = {
    "stored 128 px PNG": (".png", png_bytes),
    "1024 px JPEG 90": (".jpg", lambda gray: jpeg_bytes(resized(1024, 1024)(gray), 90)),
    "2048 px PNG (redrawn)": (".png", lambda gray: png_bytes(resized(2048, 2048)(gray))),
    "4096 x 3072 JPEG 90 (redrawn)": (".jpg", lambda gray: jpeg_bytes(resized(4096, 3072)(gray), 90)),
}
"""Each upload's suffix and bytes, from the film's 8-bit gray pixels."""


def source_film() -> Path:
    """The first adult normal by name: a fixed, real film."""
    return sorted((ADULT_SET / "Normal" / "images").glob("*.png"))[0]


def one_wait(page: Page, url: str, path: Path) -> tuple[float, float, float]:
    """Seconds from choosing ``path`` to a pressable button (Python's clock), and from the click to the
    request leaving and to the result card (the page's clock, free of Playwright's own waits)."""
    page.goto(url + "/")
    page.wait_for_selector("#diagnose")
    started = time.perf_counter()
    page.set_input_files("#file-input", str(path))
    page.wait_for_selector('#diagnose[aria-disabled="false"]')
    ready = time.perf_counter()
    page.evaluate(MARK_THE_CARD, RESULT)
    page.click("#diagnose")
    page.wait_for_selector(RESULT, timeout=60_000)
    request, card = page.evaluate(SINCE_THE_CLICK)
    return ready - started, float(request), float(card)


def milliseconds(samples: list[float], quantile: float) -> str:
    return f"{1000 * float(np.quantile(samples, quantile)):.0f}"


def page_latency(bundle: Path, repeats: int) -> str:
    gray = cv2.imread(str(source_film()), cv2.IMREAD_GRAYSCALE)
    rows = []
    with (
        tempfile.TemporaryDirectory() as scratch,
        page_on_stack(bundle, "page-latency-stack", MARK_THE_CLICK) as (page, url),
    ):
        for name, (suffix, upload) in UPLOADS.items():
            path = Path(scratch) / f"film{suffix}"
            data = upload(gray)
            path.write_bytes(data)
            one_wait(page, url, path)  # untimed: Chromium's and the function's first use
            waits = [one_wait(page, url, path) for _ in range(repeats)]
            inspect, request, card = ([wait[part] for wait in waits] for part in (0, 1, 2))
            rows.append(
                f"| {name} ({len(data) / 1e6:.2f} MB) | {milliseconds(inspect, 0.5)} "
                f"| {milliseconds(request, 0.5)} / {milliseconds(request, 0.95)} "
                f"| {milliseconds(card, 0.5)} / {milliseconds(card, 0.95)} |"
            )
    return "\n".join(
        [
            f"machine: {machine()}",
            f"bundle: {bundle}; {repeats} timed uploads of each file, made from {source_film().name}",
            "",
            "| file chosen | choose to ready, p50 (ms) | click to request sent, p50 / p95 "
            "| click to result card, p50 / p95 |",
            "|---|---|---|---|",
            *rows,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bundle", type=Path, default=RELEASE_BUNDLE)
    parser.add_argument("--repeats", type=int, default=20)
    arguments = parser.parse_args()
    print(page_latency(arguments.bundle, arguments.repeats))


if __name__ == "__main__":
    main()
