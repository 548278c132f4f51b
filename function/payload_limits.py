"""The largest request body the function can be sent, from Lambda's synchronous payload limit.

Deployed, a request reaches the function as an HTTP API event (payload 2.0), and Lambda refuses an event
over ``LAMBDA_PAYLOAD_BYTES`` before the function runs: the client then gets API Gateway's own answer
(``{"message": ...}``), not the service's bilingual error. The HTTP API itself takes bodies up to 10 MB,
so the gap between the two is real. Two things grow the event beyond the body:

- the event around it: headers (the HTTP API caps the request line and headers at 10,240 bytes; the
  user agent is repeated in ``requestContext``) and ``requestContext`` itself: ``EVENT_ALLOWANCE``;
- the body as a JSON string inside the event: each ``"`` and ``\\`` of a JSON body costs one more byte
  (a line break in the base64 is ``\\n`` in the body, 3 bytes in the event). The upload check admits
  whitespace up to 1/32 of the base64 (``function.uploads.upload_bytes``), so that much is reserved;
- a body whose Content-Type is not text (``application/x-www-form-urlencoded``, as ``curl -d`` sends,
  ``application/octet-stream``, or none) is base64-encoded by the HTTP API (``isBase64Encoded``): 4/3.
  Such a body refused under ``max_request_body`` is told to send it as JSON (``too_large_for_its_type``):
  its upload may be under the limit, so "larger than the 4.5 MB limit" would be untrue.

The function's own body cap (``function.request_guard``) uses ``max_request_body``, so a local run refuses
in the error contract exactly what Lambda could not be given; in AWS the site's CloudFront Function
(template.yaml, ``DiagnoseBodyLimit``) refuses the same bodies, by their Content-Length, before they reach
API Gateway. ``tests/unit/test_payload_limits.py`` checks both against an HTTP API event of that size.
"""

from __future__ import annotations

import re

from function.errors import ErrorAnswer
from function.uploads import UploadTooLarge, base64_length, describe_limit

LAMBDA_PAYLOAD_BYTES = 6_291_456
"""Lambda's synchronous request payload limit: 6 MB as AWS counts it (6 * 1024 * 1024 bytes)."""
EVENT_ALLOWANCE = 65_536
"""The HTTP API event around the body: headers (at most 10,240 bytes with the request line, HTTP API quota),
their copies in ``requestContext`` and its other fields, with room to spare."""
JSON_FRAMING = 65_536
"""The JSON around the base64 in a body: the keys, a data URL's header (at most 256 characters), spaces."""

_TEXT_CONTENT_TYPE = re.compile(r"^\s*(text/[^;\s]*|application/(json|xml|javascript))\s*(;.*)?$", re.I)
"""The Content-Types an HTTP API passes to Lambda as text; any other body (or none) is base64-encoded."""


def whitespace_allowance(max_upload_bytes: int) -> int:
    """Whitespace characters the upload check admits in the base64 of the largest upload."""
    return base64_length(max_upload_bytes) // 32 + 8


def max_request_body(max_upload_bytes: int) -> int:
    """The largest text body (JSON) the function takes: its own need, at most what fits a Lambda event.

    Its own need is the base64 of the largest upload, its line breaks written as JSON escapes (2 bytes
    each) and the JSON around it; the Lambda bound leaves the event's allowance and one more byte for each
    escape the body may hold.
    """
    own = base64_length(max_upload_bytes) + 2 * whitespace_allowance(max_upload_bytes) + JSON_FRAMING
    fits = LAMBDA_PAYLOAD_BYTES - EVENT_ALLOWANCE - whitespace_allowance(max_upload_bytes)
    return min(own, fits)


def max_binary_request_body(max_upload_bytes: int) -> int:
    """The largest body with a non-text Content-Type: the HTTP API base64-encodes it (4 bytes for 3)."""
    return min(max_request_body(max_upload_bytes), (LAMBDA_PAYLOAD_BYTES - EVENT_ALLOWANCE) * 3 // 4)


def too_large_for_its_type(max_upload_bytes: int) -> ErrorAnswer:
    """The 413 of a body over ``max_binary_request_body`` but not ``max_request_body``: its upload may be
    well under the limit (a 4 MB file sent by ``curl -d`` is), so the answer says what would carry it."""
    return UploadTooLarge(
        es="La petición es demasiado grande para su Content-Type: enviada como application/json, se acepta "
        f"un archivo de hasta {describe_limit(max_upload_bytes, 'es')}.",
        en="The request is too large for its Content-Type: sent as application/json, an upload of up to "
        f"{describe_limit(max_upload_bytes, 'en')} is accepted.",
    ).answer


def is_text_content_type(content_type: str | None) -> bool:
    """Whether an HTTP API hands a body of this Content-Type to Lambda as text (not base64-encoded)."""
    return content_type is not None and _TEXT_CONTENT_TYPE.match(content_type) is not None
