"""The outermost layer of every request: body size cap, response headers, the CloudFront check, the
catch-all 500 and the one access-log line.

Kept apart from the routes (function/app.py) because it is plain ASGI: it runs before FastAPI has parsed
anything, so an oversized or forbidden request costs no JSON parsing, and a fault anywhere below it still
gets an answer in the error contract. It never reads or logs the body's content.
"""

from __future__ import annotations

import hmac
import logging
import time
import traceback
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from function.error_answers import INTERNAL_ERROR, NOT_THROUGH_SITE, error_response
from function.errors import ClientError, ErrorAnswer
from function.payload_limits import is_text_content_type

log = logging.getLogger("cxr.app")
access_log = logging.getLogger("cxr.access")

DRAIN_LIMIT = 64 * 1024 * 1024
"""Largest body read (and dropped) to deliver a clean 413; beyond it the connection is simply closed."""


class RequestGuard:
    """Outermost app middleware: body size cap, response headers, catch-all 500, one access-log line.

    The body cap refuses a declared Content-Length before the app runs and counts streamed bytes
    otherwise, so a local server never holds more than a legal upload. The cap is what a Lambda event can
    carry (``function.payload_limits``: lower for a body whose Content-Type is not text, which an HTTP API
    base64-encodes); in AWS the site's CloudFront Function refuses the same bodies before API Gateway,
    since Lambda would refuse them outside the error contract. Before answering 413 the rest of the body
    is read and dropped (up to ``DRAIN_LIMIT``): a server that answers and closes while the client is
    still sending makes browsers report a network error instead of the 413.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        too_large_answer: ErrorAnswer,
        origin_verify: str = "",
        max_binary_body_bytes: int | None = None,
        too_large_for_type_answer: ErrorAnswer | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_binary_body_bytes = (
            max_body_bytes if max_binary_body_bytes is None else max_binary_body_bytes
        )
        self.too_large_answer = too_large_answer
        self.too_large_for_type_answer = too_large_for_type_answer or too_large_answer
        self.origin_verify = origin_verify.encode()

    def body_limit(self, scope: Scope) -> int:
        """The cap for this request's body: lower when its Content-Type is not text, since an HTTP API
        base64-encodes such a body into the Lambda event (``function.payload_limits``)."""
        content_type = _header(scope, b"content-type")
        if is_text_content_type(None if content_type is None else content_type.decode("latin-1")):
            return self.max_body_bytes
        return self.max_binary_body_bytes

    def too_large(self, limit: int, size: int) -> ErrorAnswer:
        """The 413 for a body of ``size`` bytes over ``limit``: one a text Content-Type would have carried
        is told so (its upload may be under the limit), any other gets the upload limit."""
        if limit < self.max_body_bytes and size <= self.max_body_bytes:
            return self.too_large_for_type_answer
        return self.too_large_answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state: dict[str, Any] = scope.setdefault("state", {})
        status = 0

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                headers += [(b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store")]
                message = {**message, "headers": headers}
            await send(message)

        body = _BodyCounter(receive)
        limit = self.body_limit(scope)

        async def limited_receive() -> Message:
            message = await body.receive()
            if body.received > limit:
                await body.drain()
                answer = self.too_large(limit, body.received if body.finished else DRAIN_LIMIT + 1)
                raise ClientError(  # the app's handler answers it in the error contract, either 413
                    es=answer.message, en=answer.message_en, status=answer.status, code=answer.code
                )
            return message

        try:
            declared = _content_length(scope)
            if self.origin_verify and not _came_through_cloudfront(scope, self.origin_verify):
                state["result"] = "forbidden"
                response = error_response(NOT_THROUGH_SITE)
                await response(scope, receive, send_with_headers)
            elif declared is not None and declared > limit:
                if declared <= DRAIN_LIMIT:
                    await body.drain()
                state["result"] = "payload_too_large"
                response = error_response(self.too_large(limit, declared))
                await response(scope, receive, send_with_headers)
            else:
                await self.app(scope, limited_receive, send_with_headers)
        except Exception as error:  # the catch-all: log the type, never the request
            log.error(
                "unhandled %s on %s %s at %s",
                type(error).__name__,
                scope.get("method"),
                scope.get("path"),
                _where(error),
            )
            state["result"] = "internal_error"
            if status == 0:
                response = error_response(INTERNAL_ERROR)
                await response(scope, receive, send_with_headers)
        finally:
            access_log.info(
                "method=%s path=%s status=%d result=%s latency_ms=%.1f",
                scope.get("method"),
                scope.get("path"),
                status,
                state.get("result", "-"),
                (time.perf_counter() - started) * 1000,
            )


ORIGIN_VERIFY_HEADER = b"x-origin-verify"


def _came_through_cloudfront(scope: Scope, expected: bytes) -> bool:
    """Whether the request carries the header the stack's CloudFront distribution adds (template.yaml)."""
    sent = [value for name, value in scope.get("headers", []) if name.lower() == ORIGIN_VERIFY_HEADER]
    return len(sent) == 1 and hmac.compare_digest(sent[0], expected)


class _BodyCounter:
    """Wraps ASGI ``receive``: counts body bytes, knows when the body has ended, can drop the rest."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self.received = 0
        self.finished = False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            self.finished = not message.get("more_body", False)
        else:
            self.finished = True
        return message

    async def drain(self) -> None:
        while not self.finished and self.received <= DRAIN_LIMIT:
            await self.receive()


def _where(error: BaseException) -> str:
    """Where an exception was raised, as file:line frames (its message may quote input: not logged)."""
    frames = reversed(traceback.extract_tb(error.__traceback__)[-4:])
    return " < ".join(f"{Path(frame.filename).name}:{frame.lineno} {frame.name}" for frame in frames)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value)
    return None


def _content_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    try:
        return None if value is None else int(value)
    except ValueError:
        return None
