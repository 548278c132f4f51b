"""What the crop note and the reading make of films the page redraws before it sends them.

    .venv/bin/python -m bench.page_redraw BUNDLE [--every 16]

A picture longer than 1024 px on a side is never sent as it is: the page redraws it at 1024 px in
Chromium's canvas (``frontend/upload.js``, ``prepareUpload``: smoothing quality "high", then PNG, or JPEG
0.92 for a JPEG file) and sends that. No other bench reproduces Chromium's filter, and a real upload (a phone
photo, a viewer export) is usually that large. This serves BUNDLE with ``make run``'s stack, opens the
page in Debian's Chromium (Playwright), and uploads 2048 px exports of the bundle's validation films
(every Nth; its recomputed split) through the file input: whole (PNG and JPEG) and cut (``CUTS``). For
each it counts the "cropped" note and whether the reading equals the stored file's (both from the
answer the page received), and, beside them, what the service answers to the same 2048 px file sent
directly (``function.service.read_image``, the served resize instead of the canvas). Reporting only.
"""

from __future__ import annotations

import base64
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from playwright.sync_api import Page

from bench.report_cli import print_bundle_report
from bench.upload_robustness import jpeg_bytes, png_bytes
from function.bundle import FolderSource, LoadedBundle, load_bundle
from function.service import read_image
from infra.locations import ADULT_SET, TRAINING_SET
from infra.page_driver import page_on_stack
from training.bundle_split import prepare_as_trained
from training.crop_note import cut

EXPORT_SIDE = 2048
"""The size of the file chosen on the page: larger than the page's 1024 px, so the canvas redraws it."""
PAGE_SIDE = 1024
"""``MAX_SIDE`` in frontend/upload.js: the longer side of what the page sends."""
CUTS: dict[str, tuple[float, float, float, float]] = {
    "cut 8% each side": (0.08, 0.08, 0.08, 0.08),
    "cut 8% top and bottom": (0.08, 0.08, 0.0, 0.0),
}
"""(top, bottom, left, right) shares cut from the export before it is saved as JPEG 92."""


def export(gray: np.ndarray) -> np.ndarray:
    return cv2.resize(gray, (EXPORT_SIDE, EXPORT_SIDE), interpolation=cv2.INTER_CUBIC)


UPLOADS: dict[str, tuple[str, Callable[[np.ndarray], bytes]]] = {
    "whole, PNG": (".png", lambda gray: png_bytes(export(gray))),
    "whole, JPEG 92": (".jpg", lambda gray: jpeg_bytes(export(gray), 92)),
    **{
        f"{name}, JPEG 92": (".jpg", lambda gray, sides=sides: jpeg_bytes(cut(export(gray), sides), 92))
        for name, sides in CUTS.items()
    },
}
"""The file chosen on the page for each film: its suffix and its bytes."""


@dataclass
class Tally:
    """Counts over the films for one kind of upload, through the page and sent directly."""

    page_noted: int = 0
    page_same: int = 0
    direct_noted: int = 0
    direct_same: int = 0


def answer_key(answer: dict) -> tuple[str, str | None]:
    """What a person is told: the result and, for a diagnosis, the class."""
    return answer["result"], answer["diagnosis"]


def through_page(page: Page, path: Path) -> tuple[dict, bytes]:
    """Choose ``path`` on the page, press Diagnosticar; the API's answer and the image the page sent."""
    page.set_input_files("#file-input", str(path))
    page.wait_for_selector('#diagnose[aria-disabled="false"]')
    with page.expect_response(lambda response: response.url.endswith("/diagnose")) as response:
        page.click("#diagnose")
    if not response.value.ok:
        raise SystemExit(f"the API answered {response.value.status} to {path.name}: {response.value.text()}")
    sent = base64.b64decode(json.loads(response.value.request.post_data or "{}")["image"])
    return response.value.json(), sent


def direct_answer(loaded: LoadedBundle, data: bytes) -> dict:
    return read_image(loaded, data).model_dump(mode="json")


def is_noted(answer: dict) -> bool:
    return any(note["code"] == "cropped" for note in answer["notes"])


def page_redraw(bundle_path: Path, every: int) -> str:
    loaded = load_bundle(FolderSource(bundle_path))
    _, _, prepared = prepare_as_trained(bundle_path, [TRAINING_SET, ADULT_SET])
    films = prepared.split.validation[::every]
    tallies = {name: Tally() for name in UPLOADS}
    with (
        tempfile.TemporaryDirectory() as scratch,
        page_on_stack(bundle_path, "page-redraw-stack") as (page, url),
    ):
        page.goto(url + "/")
        for index in films:
            source = prepared.examples[index].path
            gray = cv2.imread(str(source), cv2.IMREAD_GRAYSCALE)
            stored = answer_key(direct_answer(loaded, source.read_bytes()))
            for name, (suffix, upload) in UPLOADS.items():
                path = Path(scratch) / f"{source.stem}{suffix}"
                path.write_bytes(upload(gray))
                answer, sent = through_page(page, path)
                sent_image = cv2.imdecode(np.frombuffer(sent, np.uint8), cv2.IMREAD_UNCHANGED)
                if max(sent_image.shape[:2]) != PAGE_SIDE:
                    raise SystemExit(f"the page sent {sent_image.shape} for {path.name}, not a redraw")
                direct = direct_answer(loaded, path.read_bytes())
                tally = tallies[name]
                tally.page_noted += is_noted(answer)
                tally.page_same += answer_key(answer) == stored
                tally.direct_noted += is_noted(direct)
                tally.direct_same += answer_key(direct) == stored
    count = len(films)
    lines = [
        f"bundle {loaded.version}: {count} validation films (every {every}), {EXPORT_SIDE} px bicubic "
        f"exports chosen on the page (redrawn at {PAGE_SIDE} px by Chromium) or sent directly",
        "",
        "| upload | 'cropped' note, page | sent directly | same answer as the stored file, page "
        "| sent directly |",
        "|---|---|---|---|---|",
        *[
            f"| {name} | {t.page_noted / count:.1%} | {t.direct_noted / count:.1%} "
            f"| {t.page_same / count:.1%} | {t.direct_same / count:.1%} |"
            for name, t in tallies.items()
        ],
    ]
    return "\n".join(lines)


def main() -> None:
    print_bundle_report(__doc__ or "", page_redraw, every=16)


if __name__ == "__main__":
    main()
