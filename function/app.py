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
Before any of it, ``function.request_guard`` caps the body, checks the CloudFront header, turns any fault
into the generic 500 and writes the one access-log line per request (status, latency, result; never the
body); ``function.logging_setup`` keeps warnings' text out of the log.

Run locally with ``uvicorn function.app:app --no-server-header`` (the server, not the app, adds
``server:``; a programmatic runner must pass ``server_header=False``).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from mangum import Mangum
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from function.error_answers import (
    MODEL_UNAVAILABLE,
    empty_body,
    error_response,
    http_error,
    invalid_fields,
    invalid_json,
    not_an_object,
)
from function.errors import ClientError
from function.lambda_events import without_stage_prefix
from function.logging_setup import configure_logging
from function.payload_limits import max_binary_request_body, max_request_body, too_large_for_its_type
from function.request_guard import RequestGuard
from function.schemas import DiagnoseRequest, DiagnosisResponse, ErrorResponse, HealthResponse
from function.service import BundleHolder, BundleUnavailable, read_image
from function.settings import Settings
from function.uploads import too_large, upload_bytes

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


def _set_result(request: Request, result: str) -> None:
    request.state.result = result


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
    max_body = max_request_body(settings.max_upload_bytes)  # no more than a Lambda event can carry
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
        max_binary_body_bytes=max_binary_request_body(settings.max_upload_bytes),
        too_large_answer=body_too_large,
        too_large_for_type_answer=too_large_for_its_type(settings.max_upload_bytes),
        origin_verify=settings.origin_verify,
    )
    return app


app = create_app()
_asgi_adapter = Mangum(app, lifespan="off")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point: the API Gateway event, without a named stage's prefix, through Mangum."""
    return _asgi_adapter(without_stage_prefix(event), context)
