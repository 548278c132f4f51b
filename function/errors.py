"""Every error answer, decided in one place: ``{"error": {"code", "message", "message_en"}}``.

``message`` is Spanish and ``message_en`` English, as in a reading, so a client shows ``message`` whatever
the status. Both texts are required here, never defaulted: an error with one language cannot be built.

``ClientError`` is the base class for "the client sent something we cannot use": each carries its HTTP
status and a stable error code, so the app maps every such problem to a 4xx answer in a single handler.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any, Literal

from function.schemas import ErrorDetail, ErrorResponse

Language = Literal["es", "en"]


def _require_both(spanish: object, english: object) -> None:
    """Refuse a missing or blank text: an answer in one language only is a bug, caught where it is made."""
    for name, text in (("Spanish", spanish), ("English", english)):
        if not isinstance(text, str) or not text.strip():
            raise TypeError(f"an error answer needs a {name} message, got {text!r}")


NO_BREAK_SPACE = "\u00a0"


def number(value: float, language: Language, digits: int = 0) -> str:
    """A number as each language writes it, the one rule for every number in a message (frontend/i18n.js
    ``number`` is its twin on the page).

    Spanish (RAE, ISO 80000): a decimal comma, and from five digits on groups of three joined by a no-break
    space, so a number never wraps: "4,5", "4500", "17 000", "4 500 000". English: a decimal point and
    commas from four digits on: "4.5", "4,500", "17,000". A half is rounded away from zero on the value the
    float holds exactly, as the page's ``toFixed`` does ("2.5" -> "3"), so both sides print one number.
    """
    value = float(value)  # numpy scalars too
    if not math.isfinite(value):
        return str(value)
    exact = Decimal(value).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP, Context(prec=400))
    text = f"{exact:,.{digits}f}"
    if language != "es":
        return text
    whole, _, fraction = text.partition(".")
    separator = NO_BREAK_SPACE if len(whole.lstrip("-").replace(",", "")) >= 5 else ""
    return whole.replace(",", separator) + ("," + fraction if fraction else "")


@dataclass(frozen=True)
class ErrorAnswer:
    """One non-2xx answer: status, code, and the sentence in Spanish (``message``) and English."""

    status: int
    code: str
    message: str
    message_en: str

    def __post_init__(self) -> None:
        _require_both(self.message, self.message_en)

    def detail(self) -> ErrorDetail:
        """The ``error`` object alone, for an answer that carries it beside other fields (/health's 503)."""
        return ErrorDetail(code=self.code, message=self.message, message_en=self.message_en)

    def body(self) -> dict[str, Any]:
        """The JSON body, through the schema /docs shows, so the two cannot drift apart."""
        return ErrorResponse(error=self.detail()).model_dump()


class ClientError(ValueError):
    """A 4xx problem. Subclasses fix ``status`` and ``code``; ad-hoc ones pass them in.

    ``es`` and ``en`` are keyword-only and required, so a call site shows which text is which.
    ``str(error)`` is the English text (training scripts and tracebacks print it).
    """

    status: int = 400
    code: str = "bad_request"

    def __init__(self, *, es: str, en: str, status: int | None = None, code: str | None = None) -> None:
        _require_both(es, en)
        super().__init__(en)
        self.message = es
        self.message_en = en
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code

    @property
    def answer(self) -> ErrorAnswer:
        return ErrorAnswer(self.status, self.code, self.message, self.message_en)
