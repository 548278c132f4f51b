"""Logging of the function: our loggers' level, a handler where nobody set one, and no warning's text.

Uploads are never logged; a library's warning or log line can quote one (pydicom's charset warning quotes
the file's own text), so this is where the process is told to log their category and place only, and to
keep no warning's text in Python's warning registries.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger("cxr.app")


def configure_logging(level: str) -> None:
    """Give our loggers a level; add a stderr handler only if nobody (Lambda, uvicorn, pytest) set one;
    and, for the whole process, log a warning's category and place instead of its text (a library's
    warning may quote the upload), every time, keeping its text nowhere."""
    logging.getLogger("cxr").setLevel(level.upper())
    quiet_pydicom()
    # Pillow's DEBUG lines quote a TIFF's tags (ImageDescription, Artist, DocumentName: a patient's name), so
    # a root logger at DEBUG (an operator's debugging run) would print them; it logs nothing else of use.
    logging.getLogger("PIL").setLevel(logging.WARNING)
    if not logging.getLogger().handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s %(message)s")
    warnings.showwarning = _log_warning_without_text
    # Python's default action ("default") keeps a warning's text: CPython keys the issuing module's
    # __warningregistry__ by (text, category, line), so a warm container held an upload's text and logged
    # the same warning once only. "always" writes no registry (warn_explicit in CPython 3.11's
    # Python/_warnings.c and Lib/warnings.py). Appended, as a catch-all: every filter already set (the
    # DecompressionBombWarning "error" of function/image_limits.py) or inserted later still wins.
    warnings.simplefilter("always", append=True)


def quiet_pydicom() -> None:
    """pydicom's loggers at CRITICAL: pydicom logs a traceback for every frame a codec fails on (a client's
    file, already a 4xx answer). Called here and again by ``function.dicom_decode`` once pydicom is
    imported (lazily, at the first DICOM), because its import sets its logger back to WARNING, and its
    modules log to child loggers (``pydicom.pixels.decoders.base``), which take the level from it but
    never see a filter on it."""
    pydicom_log = logging.getLogger("pydicom")
    pydicom_log.setLevel(logging.CRITICAL)
    if _only_critical not in pydicom_log.filters:
        pydicom_log.addFilter(_only_critical)


def _log_warning_without_text(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """A library's warning may quote the upload (pydicom: "Unknown encoding '<the file's text>'"), and
    stderr is the function's log: its category and place are logged, never its text."""
    log.warning("%s at %s:%d (its text is not logged)", category.__name__, Path(filename).name, lineno)


def _only_critical(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.CRITICAL
