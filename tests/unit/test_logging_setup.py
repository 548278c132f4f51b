"""configure_logging: a process with no log handler (``python -m infra.local_stack``: uvicorn configures
only its own loggers) still prints the service's INFO lines; one with a handler (Lambda's runtime) gets
none added; no library that reads an upload (pydicom, Pillow) logs about it, at the runtime's level or at
DEBUG; and a warning's text is kept nowhere in a warm container, so the same warning is logged again,
while Pillow's decompression-bomb warning stays an error.

Run in a fresh interpreter each: pytest installs its own root handlers, which would hide the first case.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from infra.locations import REPO_ROOT
from tests.upload_samples import dicom

SCRIPT = """
import logging, sys
{before}
from function.logging_setup import configure_logging
configure_logging("info")
logging.getLogger("cxr.access").info("the access line")
print(len(logging.getLogger().handlers))
"""


def run(before: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT.format(before=before)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_info_lines_are_printed_when_nobody_configured_logging() -> None:
    result = run()
    assert "INFO cxr.access the access line" in result.stderr
    assert result.stdout.strip() == "1"


def test_a_handler_already_there_is_the_only_one() -> None:
    result = run(before="logging.basicConfig(stream=sys.stdout, format='RUNTIME %(message)s')")
    assert "RUNTIME the access line" in result.stdout
    assert "the access line" not in result.stderr
    assert result.stdout.strip().endswith("1")


# ------------------------------------------------------------ what the libraries that read an upload log
# The Lambda handler is called with the SAM CLI's own event in a fresh interpreter whose root logger has a
# handler, as Lambda's runtime sets one up (level WARNING), or is at DEBUG (an operator's debugging run:
# Lambda's ApplicationLogLevel, `python -m infra.local_stack --log-level debug`, the bar
# tests/integration/test_privacy.py sets). pydicom is imported there at the first DICOM, after the app was
# made, as in a container: importing it resets its logger's level.

HANDLER_SCRIPT = """
import json, logging, sys
logging.basicConfig(level=logging.{level}, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
from function.app import handler
assert "pydicom" not in sys.modules, "pydicom must be imported by the first DICOM, as in a container"
for event in json.load(sys.stdin):
    print(handler(event, None)["statusCode"])
"""
SECRET = "SECRET^PATIENT^NAME"


def _damaged_dicom(gray: np.ndarray, transfer_syntax: str, keep: int) -> bytes:
    """A compressed DICOM naming a patient, its frame cut after ``keep`` bytes: every codec fails on it."""
    import io

    import pydicom
    from pydicom.encaps import encapsulate, generate_frames

    dataset = pydicom.dcmread(io.BytesIO(dicom(gray, transfer_syntax=transfer_syntax)))
    dataset.PatientName = SECRET
    frame = next(generate_frames(dataset.PixelData, number_of_frames=1))
    dataset.PixelData = encapsulate([frame[:keep]])
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _tiff_with_text(gray: np.ndarray) -> bytes:
    """A TIFF whose tags name the patient, as a scanner or PACS export writes them."""
    import io

    buffer = io.BytesIO()
    Image.fromarray(gray).save(buffer, "TIFF", description=SECRET, tiffinfo={315: SECRET, 269: SECRET})
    return buffer.getvalue()


def _diagnose_event(data: bytes) -> dict[str, object]:
    event = json.loads((REPO_ROOT / "events" / "http-api-diagnose.json").read_text())
    body = json.dumps({"image": base64.b64encode(data).decode()})
    return {**event, "body": base64.b64encode(body.encode()).decode(), "isBase64Encoded": True}


@pytest.mark.parametrize("level", ["WARNING", "DEBUG"])
def test_no_library_logs_about_an_upload(level: str) -> None:
    from pydicom.uid import JPEG2000Lossless, RLELossless

    gray = np.random.default_rng(0).integers(0, 256, (256, 256), dtype=np.uint8)
    uploads = {
        "j2k": _damaged_dicom(gray, JPEG2000Lossless, keep=60),
        "rle": _damaged_dicom(gray, RLELossless, keep=2),
        "tiff": _tiff_with_text(gray),
    }
    result = subprocess.run(
        [sys.executable, "-c", HANDLER_SCRIPT.format(level=level)],
        input=json.dumps([_diagnose_event(data) for data in uploads.values()]),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert result.stdout.split() == ["415", "415", "200"], result.stdout
    log = result.stderr
    assert log.count("INFO cxr.access method=POST path=/diagnose") == len(uploads), log  # the capture works
    assert SECRET not in log and SECRET.replace("^", " ") not in log
    assert "Traceback" not in log, log
    from_readers = [line for line in log.splitlines() if re.match(r"[A-Z]+ (pydicom|PIL)\b", line)]
    assert from_readers == [], from_readers


# ------------------------------------------------------------------ a warning's text in a warm container
# With Python's default action ("default"), CPython keys the issuing module's __warningregistry__ by the
# warning's text (CPython 3.11 Python/_warnings.c warn_explicit; Lib/warnings.py alike): a warm container
# kept the upload's text in memory and logged the same warning once only. "always" writes no registry.

WARM_CONTAINER_SCRIPT = """
import json, logging, sys, warnings
logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
from function.app import handler
for event in json.load(sys.stdin):
    print(handler(event, None)["statusCode"])
text = sys.argv[1]
registries = {name: vars(module).get("__warningregistry__") for name, module in list(sys.modules.items())
              if isinstance(getattr(module, "__dict__", None), dict)}
registries["warnings.onceregistry"] = warnings.onceregistry
print(json.dumps(sorted(name for name, registry in registries.items() if text in repr(registry))))
"""
CHARSET_TEXT = "SMITH JOHN 1970"
"""A file's Specific Character Set (0008,0005) holding a patient's text: pydicom 3.0.2 warns "Unknown
encoding '<it>' - using default encoding instead" (pydicom/charset.py) when the header is read."""


def _dicom_with_charset(gray: np.ndarray, charset: str) -> bytes:
    import io
    import warnings

    import pydicom

    dataset = pydicom.dcmread(io.BytesIO(dicom(gray)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom's own check of the value it is asked to write
        dataset.SpecificCharacterSet = charset
        buffer = io.BytesIO()
        dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def test_a_warnings_text_stays_in_no_registry_and_the_same_warning_is_logged_again() -> None:
    """Two identical uploads whose header pydicom warns about, quoting it, through the Lambda handler in one
    interpreter (a warm container): the text is in no module's __warningregistry__ (nor the "once" registry),
    and the warning is logged (category and place) for each upload, not for the first only."""
    gray = np.random.default_rng(0).integers(0, 256, (256, 256), dtype=np.uint8)
    event = _diagnose_event(_dicom_with_charset(gray, CHARSET_TEXT))
    result = subprocess.run(
        [sys.executable, "-c", WARM_CONTAINER_SCRIPT, CHARSET_TEXT],
        input=json.dumps([event, event]),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    *statuses, kept_in = result.stdout.splitlines()
    assert statuses == ["200", "200"], result.stdout
    assert json.loads(kept_in) == [], f"the upload's text is kept in {kept_in}"
    log = result.stderr
    assert CHARSET_TEXT not in log
    per_upload = [
        [line for line in lines.splitlines() if line.endswith("(its text is not logged)")]
        for lines in re.split(r"^INFO cxr\.access .*$", log, flags=re.MULTILINE)[:2]
    ]
    pattern = r"WARNING cxr\.app UserWarning at charset\.py:\d+ \(its text is not logged\)"
    assert any(re.fullmatch(pattern, line) for line in per_upload[0]), log
    assert per_upload[1] == per_upload[0], log  # the second upload's warnings, logged again


BOMB_SCRIPT = """
{first}
{second}
from function.image_errors import ImageTooLarge
from function.imaging import decode_grayscale
from tests.upload_samples import png_claiming
try:
    decode_grayscale(png_claiming(9000, 9000))  # 81 megapixels: Pillow only warns, under twice its limit
except ImageTooLarge:
    print("refused")
"""
CONFIGURE = "from function.logging_setup import configure_logging; configure_logging('info')"
IMPORT_LIMITS = "import function.image_limits"


@pytest.mark.parametrize(
    "order", [(IMPORT_LIMITS, CONFIGURE), (CONFIGURE, IMPORT_LIMITS)], ids=["limits-first", "catch-all-first"]
)
def test_the_catch_all_leaves_pillows_bomb_warning_an_error(order: tuple[str, str]) -> None:
    """function/image_limits.py makes Pillow's DecompressionBombWarning an error; configure_logging's
    catch-all "always", set after or before it, must not turn that back into a logged warning."""
    result = subprocess.run(
        [sys.executable, "-c", BOMB_SCRIPT.format(first=order[0], second=order[1])],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.strip() == "refused", result.stderr
    assert "DecompressionBombWarning" not in result.stderr
