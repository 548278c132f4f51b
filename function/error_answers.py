"""The app's own error answers, in Spanish and English: the request's shape and fields, unknown routes and
methods, the 403 of a request that went around the site, the 500 and the 503.

Kept out of function/app.py so the wording is in one place; refusals of the upload itself are raised where
they are found (function/uploads.py, function/imaging.py and the decoders it calls). No text here quotes
the request.
"""

from __future__ import annotations

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from function.errors import ClientError, ErrorAnswer
from function.schemas import MODEL_UNAVAILABLE_MESSAGE, MODEL_UNAVAILABLE_MESSAGE_EN

REQUEST_SHAPE = (
    'Envíe un objeto JSON {"image": "<el archivo de imagen en base64 o como URL de datos data:>"}.',
    'Send a JSON object {"image": "<base64 or data: URL of the image file>"}.',
)
"""(Spanish, English): how a request must look, added to every refusal of its shape."""

NOT_THROUGH_SITE = ErrorAnswer(
    403,
    "forbidden",
    "Esta dirección no es pública: use el servicio desde la dirección de su página.",
    "This address is not public: use the service at its page's address.",
)
INTERNAL_ERROR = ErrorAnswer(
    500,
    "internal_error",
    "Se produjo un error interno en el servicio.",
    "Something went wrong on our side.",
)
"""Generic on purpose: the exception's text may quote the request, so it goes nowhere (the log names the
type and line only)."""
MODEL_UNAVAILABLE = ErrorAnswer(
    503, "bundle_unavailable", MODEL_UNAVAILABLE_MESSAGE, MODEL_UNAVAILABLE_MESSAGE_EN
)
_ROUTE_ERRORS = {
    404: (
        "not_found",
        "Esta dirección no existe: el servicio responde en POST /diagnose y GET /health.",
        "There is no such address: the service answers at POST /diagnose and GET /health.",
    ),
    405: (
        "method_not_allowed",
        "Esta dirección no admite ese método (vea la cabecera Allow).",
        "This address does not take that method (see the Allow header).",
    ),
}


def _bad_request(status: int, code: str, spanish: str, english: str) -> ClientError:
    """A refusal of the request's shape, with the shape it must have."""
    return ClientError(
        es=f"{spanish} {REQUEST_SHAPE[0]}", en=f"{english} {REQUEST_SHAPE[1]}", status=status, code=code
    )


def empty_body() -> ClientError:
    return _bad_request(
        400, "empty_body", "El cuerpo de la solicitud está vacío.", "The request body is empty."
    )


def invalid_json() -> ClientError:
    return _bad_request(
        400,
        "invalid_json",
        "El cuerpo de la solicitud no es un JSON válido.",
        "The request body is not valid JSON.",
    )


def not_an_object() -> ClientError:
    return _bad_request(
        422,
        "invalid_request",
        "El cuerpo de la solicitud debe ser un objeto JSON.",
        "The request body must be a JSON object.",
    )


def invalid_fields(error: ValidationError | RequestValidationError) -> ClientError:
    """Name the field and what is wrong with it, without echoing the value."""
    for detail in error.errors():
        location = ".".join(str(part) for part in detail.get("loc", ()) if part != "body")
        if detail.get("type", "") == "missing":
            field = location or "image"
            return _bad_request(
                422,
                "invalid_request",
                f"Falta el campo '{field}'.",
                f"The field '{field}' is missing.",
            )
        if location == "image":
            return _bad_request(
                422,
                "invalid_request",
                "El campo 'image' debe ser una cadena de texto.",
                "The field 'image' must be a string.",
            )
        if location == "explain":
            return ClientError(
                es="El campo 'explain' debe ser true o false.",
                en="The field 'explain' must be true or false.",
                status=422,
                code="invalid_request",
            )
    return _bad_request(
        422,
        "invalid_request",
        "La solicitud no tiene los campos esperados.",
        "The request does not have the expected fields.",
    )


def http_error(status: int) -> ErrorAnswer:
    """An HTTP error the framework raised (404 unknown route, 405 wrong method; 413 is the app's own)."""
    code, spanish, english = _ROUTE_ERRORS.get(
        status,
        (
            f"http_{status}",
            f"La solicitud no se puede atender (HTTP {status}).",
            f"The request cannot be answered (HTTP {status}).",
        ),
    )
    return ErrorAnswer(status, code, spanish, english)


def error_response(answer: ErrorAnswer) -> JSONResponse:
    """The answer as an HTTP response: its status and its body in the error contract."""
    return JSONResponse(answer.body(), status_code=answer.status)
