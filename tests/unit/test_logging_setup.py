"""configure_logging: a process with no log handler (``python -m infra.local_stack``: uvicorn configures
only its own loggers) still prints the service's INFO lines; one with a handler (Lambda's runtime) gets
none added; and no library that reads an upload (pydicom, Pillow) logs about it, at the runtime's level or
at DEBUG.

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
