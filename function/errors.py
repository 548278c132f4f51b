"""The one base class for "the client sent something we cannot use": each carries its HTTP status and a
stable error code, so the app maps every such problem to a 4xx JSON answer in a single handler."""

from __future__ import annotations


class ClientError(ValueError):
    """A 4xx problem. Subclasses fix ``status`` and ``code``; ad-hoc ones pass them in."""

    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self)
