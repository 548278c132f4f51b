"""FastAPI routes of the diagnosis function and the mapping of every failure to a JSON error.

``handler`` is the Lambda entry point (Mangum, lifespan off: Mangum would run the lifespan on every
invocation, so the bundle is loaded on first use by ``function.service.BundleHolder`` instead). It takes
a named HTTP API stage off the path first (``function.lambda_events``), so the routes work in any stage.

Error contract: every non-2xx answer is ``{"error": {"code": "...", "message": "...", "message_en": "..."}}``
(``message`` in Spanish, ``message_en`` in English, as in a reading; ``function.errors``); /health's 503
has the same ``error`` beside its health fields (``status``, ``loaded``, ``model_version``: what the
deploy's check reads), so any client reads every failure the same way; a client's
mistake is a 4xx (400 bad JSON / base64 / image, 413 too large, 415 not a type we read, 422 missing or
wrong field; deployed, 403 for a request that did not come through the site's CloudFront distribution),
503 means the model bundle is unavailable (a generic message: the reason names S3 keys and
hashes, so it goes to the log only), and anything unexpected is a generic 500 that echoes nothing.
Request bodies are never logged: one line per request with status, latency and result.

Run locally with ``uvicorn function.app:app --no-server-header`` (the server, not the app, adds
``server:``; a programmatic runner must pass ``server_header=False``).
"""

from __future__ import annotations

import hmac
import json
import logging
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from mangum import Mangum
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from function.error_answers import (
    INTERNAL_ERROR,
    MODEL_UNAVAILABLE,
    NOT_THROUGH_SITE,
    empty_body,
    http_error,
    invalid_fields,
    invalid_json,
    not_an_object,
)
from function.errors import ClientError, ErrorAnswer
from function.lambda_events import without_stage_prefix
from function.schemas import DiagnoseRequest, DiagnosisResponse, ErrorResponse, HealthResponse
from function.service import BundleHolder, BundleUnavailable, read_image
from function.settings import Settings
from function.uploads import base64_length, too_large, upload_bytes

log = logging.getLogger("cxr.app")
access_log = logging.getLogger("cxr.access")

DRAIN_LIMIT = 64 * 1024 * 1024
"""Largest body read (and dropped) to deliver a clean 413; beyond it the connection is simply closed."""
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in {
        400: "Bad JSON, bad base64 or an image file that cannot be decoded.",
        403: "Deployed: the request was sent to the API's own address instead of the service's.",
        404: "No such address: the service answers at POST /diagnose and GET /health.",
        405: "A method the address does not take (GET /diagnose); the Allow header names the right one.",
        413: "The upload (or the image's pixel count) is over the limit.",
        415: "Not a file type the service reads (PNG, JPEG, BMP, TIFF, DICOM).",
        422: "The JSON has no string field 'image', or 'explain' is not true or false.",
        429: "Deployed: too many requests from this address (the site's WAF rule, code 'rate_limited'). "
        "The API's shared throttling answers 429 too, in API Gateway's own shape {\"message\": ...}.",
        500: "A fault of the service (logged by type and place, never with the request).",
        503: "The model bundle is not available; try again shortly.",
    }.items()
}


def error_response(answer: ErrorAnswer) -> JSONResponse:
    return JSONResponse(answer.body(), status_code=answer.status)


def _set_result(request: Request, result: str) -> None:
    request.state.result = result


class RequestGuard:
    """Outermost app middleware: body size cap, response headers, catch-all 500, one access-log line.

    The body cap refuses a declared Content-Length before the app runs and counts streamed bytes
    otherwise, so a local server never holds more than a legal upload (API Gateway and Lambda cap it in
    AWS). Before answering 413 the rest of the body is read and dropped (up to ``DRAIN_LIMIT``): a
    server that answers and closes while the client is still sending makes browsers report a network
    error instead of the 413.
    """

    def __init__(
        self, app: ASGIApp, max_body_bytes: int, too_large_answer: ErrorAnswer, origin_verify: str = ""
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.too_large_answer = too_large_answer
        self.origin_verify = origin_verify.encode()

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

        async def limited_receive() -> Message:
            message = await body.receive()
            if body.received > self.max_body_bytes:
                await body.drain()
                raise StarletteHTTPException(413)
            return message

        try:
            declared = _content_length(scope)
            if self.origin_verify and not _came_through_cloudfront(scope, self.origin_verify):
                state["result"] = "forbidden"
                response = error_response(NOT_THROUGH_SITE)
                await response(scope, receive, send_with_headers)
            elif declared is not None and declared > self.max_body_bytes:
                if declared <= DRAIN_LIMIT:
                    await body.drain()
                state["result"] = "payload_too_large"
                response = error_response(self.too_large_answer)
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


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def parse_request(body: bytes) -> DiagnoseRequest:
    """Raw body -> DiagnoseRequest; 400 for an empty or non-JSON body, 422 for a wrong shape."""
    if not body.strip():
        raise empty_body()
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise invalid_json() from None
    if not isinstance(payload, dict):
        raise not_an_object()
    try:
        return DiagnoseRequest.model_validate(payload)
    except ValidationError as error:
        raise invalid_fields(error) from None


def configure_logging(level: str) -> None:
    """Give our loggers a level; add a stderr handler only if nobody (Lambda, uvicorn, pytest) set one;
    and, for the whole process, log a warning's category and place instead of its text (a library's
    warning may quote the upload)."""
    logging.getLogger("cxr").setLevel(level.upper())
    # pydicom logs a traceback for every file it cannot decompress: a client's file, already a 4xx answer.
    # A filter as well as a level: importing pydicom (lazily, at the first DICOM) resets its level.
    pydicom_log = logging.getLogger("pydicom")
    pydicom_log.setLevel(logging.CRITICAL)
    if _only_critical not in pydicom_log.filters:
        pydicom_log.addFilter(_only_critical)
    if not logging.getLogger().handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s %(message)s")
    warnings.showwarning = _log_warning_without_text


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


def create_app(settings: Settings | None = None, holder: BundleHolder | None = None) -> FastAPI:
    settings = settings or Settings()
    holder = holder or BundleHolder(settings.bundle_location, expected_version=settings.bundle_version)
    configure_logging(settings.log_level)
    app = FastAPI(
        title="Chest X-ray screening",
        version="1",
        summary="Normal / COVID-19 / Viral Pneumonia from a frontal chest radiograph, or 'not a radiograph'.",
        description="A screening aid, not a diagnosis. Uploads are never stored or logged.",
        docs_url="/docs" if settings.enable_docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.enable_docs else None,
    )
    app.state.settings = settings
    app.state.holder = holder
    max_body = base64_length(settings.max_upload_bytes) * 21 // 20 + 65_536  # base64 + line breaks + JSON
    body_too_large = too_large(settings.max_upload_bytes).answer

    @app.exception_handler(ClientError)  # the routes' own, and every ImageError / UploadError
    async def _client_error(request: Request, error: ClientError) -> JSONResponse:
        _set_result(request, error.code)
        return error_response(error.answer)

    @app.exception_handler(BundleUnavailable)
    async def _bundle_unavailable(request: Request, error: BundleUnavailable) -> JSONResponse:
        """Generic on purpose: the reason (S3 keys, hashes) was logged by the holder for operators."""
        _set_result(request, "bundle_unavailable")
        return error_response(MODEL_UNAVAILABLE)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        if any(detail.get("type") == "json_invalid" for detail in error.errors()):
            _set_result(request, "invalid_json")
            return error_response(invalid_json().answer)
        _set_result(request, "invalid_request")
        return error_response(invalid_fields(error).answer)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        answer = body_too_large if error.status_code == 413 else http_error(error.status_code)
        _set_result(request, answer.code)
        response = error_response(answer)
        if error.headers:
            response.headers.update(error.headers)
        return response

    def _diagnose(body: bytes) -> DiagnosisResponse:
        request = parse_request(body)
        data = upload_bytes(request.image, settings.max_upload_bytes)
        bundle = holder.get()
        return read_image(bundle, data, explain=request.explain)

    @app.post(
        "/diagnose",
        response_model=DiagnosisResponse,
        responses=ERROR_RESPONSES,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": DiagnoseRequest.model_json_schema()}},
            }
        },
    )
    async def diagnose(request: Request) -> DiagnosisResponse:
        """Read one chest radiograph. The body is parsed here (any Content-Type), so errors have our shape."""
        answer = await run_in_threadpool(_diagnose, await request.body())
        _set_result(request, answer.result)  # not the class: a reading is health data
        return answer

    @app.get(
        "/health",
        response_model=HealthResponse,
        responses={
            503: {
                "model": HealthResponse,
                "description": "No verified bundle: the health fields (status 'unavailable', loaded false) "
                "and the standard error object (code 'bundle_unavailable', in Spanish and English).",
            },
            403: ERROR_RESPONSES[403],
        },
    )
    async def health(request: Request) -> JSONResponse:
        """Whether the bundle is loaded (loading it now if it is not) and which version."""
        answer = await run_in_threadpool(holder.health)
        _set_result(request, answer.status)
        return JSONResponse(answer.model_dump(), status_code=200 if answer.loaded else 503)

    if settings.allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.allowed_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type"],
            max_age=600,
        )
    app.add_middleware(
        RequestGuard,
        max_body_bytes=max_body,
        too_large_answer=body_too_large,
        origin_verify=settings.origin_verify,
    )
    return app


app = create_app()
_asgi_adapter = Mangum(app, lifespan="off")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point: the API Gateway event, without a named stage's prefix, through Mangum."""
    return _asgi_adapter(without_stage_prefix(event), context)
