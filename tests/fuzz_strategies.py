"""Hypothesis strategies for fuzzing the API: request bodies of any shape and mutated real image files.

Shared by the small property tests in ``make test`` (tests/unit/test_fuzz_api.py) and the 10,000-case
run in bench/fuzz_api.py, so both fuzz the same inputs. The seed files are real: a radiograph of the
shared data saved as PNG (8 and 16 bit), JPEG (baseline, progressive, EXIF-rotated), BMP, TIFF and DICOM
(uncompressed, RLE, JPEG 2000), and pydicom's bundled test files. Mutations favour the first 512 bytes,
where headers (sizes, bit depths, offsets) live, and write "interesting" integers there.
"""

from __future__ import annotations

import base64
import copy
import json
import string
from functools import cache
from pathlib import Path
from typing import Any

import httpx2
import numpy as np
from hypothesis import strategies as st
from PIL import Image

from tests.hostile_inputs import gray, pydicom_file, radiograph
from tests.upload_samples import b64, dicom, encode, jpeg_exif_rotated, png_16bit

READINGS = {"diagnosis", "not_chest_xray", "indeterminate"}
INTERESTING_INTEGERS = (
    0,
    1,
    2,
    7,
    8,
    16,
    255,
    256,
    4095,
    30_000,
    65_535,
    65_536,
    2**31 - 1,
    2**31,
    2**32 - 1,
)


@cache
def seed_files() -> dict[str, bytes]:
    """Real, valid image files: the starting points of every mutation."""
    import pydicom.uid

    picture = gray()
    small = np.ascontiguousarray(picture[::4, ::4])  # 32x32: cheap to decode, still above the 8x8 minimum
    return {
        "png": radiograph(),
        "png-small": encode(Image.fromarray(small), "PNG"),
        "png-16-bit": png_16bit(small),
        "jpeg": encode(Image.fromarray(picture), "JPEG", quality=85),
        "jpeg-progressive": encode(Image.fromarray(small), "JPEG", quality=85, progressive=True),
        "jpeg-exif": jpeg_exif_rotated(small),
        "bmp": encode(Image.fromarray(small), "BMP"),
        "tiff": encode(Image.fromarray(small), "TIFF"),
        "tiff-deflate": encode(
            Image.fromarray(small).convert("RGB"), "TIFF", compression="tiff_adobe_deflate"
        ),
        "dicom": dicom(small),
        "dicom-monochrome1": dicom(small, photometric="MONOCHROME1", window=(2048, 4096)),
        "dicom-rle": dicom(small, transfer_syntax=pydicom.uid.RLELossless),
        "dicom-jpeg2000": dicom(small, transfer_syntax=pydicom.uid.JPEG2000Lossless),
        "dicom-jpeg-rgb": pydicom_file("SC_rgb_jpeg.dcm")(),
        "dicom-multiframe-rle": pydicom_file("SC_rgb_rle_2frame.dcm")(),
    }


@st.composite
def mutated_file(draw: st.DrawFn) -> bytes:
    """A seed file with 1 to 8 mutations (flips, overwrites, interesting integers, cuts, inserts, splices)."""
    seeds = seed_files()
    data = bytearray(seeds[draw(st.sampled_from(sorted(seeds)))])
    for _ in range(draw(st.integers(1, 8))):
        size = len(data)
        if size == 0:
            data += draw(st.binary(min_size=1, max_size=64))
            continue
        in_header = draw(st.booleans())
        position = draw(st.integers(0, min(size, 512) - 1 if in_header else size - 1))
        operation = draw(st.sampled_from(["flip", "byte", "integer", "cut", "insert", "delete", "splice"]))
        if operation == "flip":
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif operation == "byte":
            data[position] = draw(st.integers(0, 255))
        elif operation == "integer":
            value = draw(st.sampled_from(INTERESTING_INTEGERS))
            width = draw(st.sampled_from([2, 4]))
            order = draw(st.sampled_from(["big", "little"]))
            data[position : position + width] = (value % (1 << (8 * width))).to_bytes(width, order)
        elif operation == "cut":
            del data[position:]
        elif operation == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=64))
        elif operation == "delete":
            del data[position : position + draw(st.integers(1, 64))]
        else:  # the start of one format glued to the rest of another
            other = seeds[draw(st.sampled_from(sorted(seeds)))]
            data[position:] = other[draw(st.integers(0, len(other) - 1)) :]
    return bytes(data)


@st.composite
def image_field(draw: st.DrawFn, files: st.SearchStrategy[bytes] | None = None) -> str:
    """A file (mutated by default) as the ``image`` field: base64 in its variants or a data URL."""
    data = draw(files if files is not None else mutated_file())
    encoding = draw(st.sampled_from(["base64", "urlsafe", "lines", "data-url", "corrupt"]))
    if encoding == "urlsafe":
        return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")
    if encoding == "lines":
        return base64.encodebytes(data).decode("ascii")
    if encoding == "data-url":
        mime = draw(
            st.sampled_from(
                ["image/png", "image/jpeg", "application/dicom", "", "text/plain", "image/svg+xml"]
            )
            | st.text(max_size=30)
        )
        return f"data:{mime};base64,{b64(data)}"
    text = b64(data)
    if encoding == "corrupt" and text:
        position = draw(st.integers(0, len(text) - 1))
        text = text[:position] + draw(st.text(min_size=1, max_size=4)) + text[position + 1 :]
    return text


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)
"""Any JSON value (NaN left out: the standard has none, json.dumps would write it anyway)."""


@st.composite
def request_body(draw: st.DrawFn) -> bytes:
    """A whole request body: raw bytes, any JSON, or an object with an ``image`` and other fields."""
    kind = draw(st.sampled_from(["bytes", "json", "upload", "upload", "upload"]))
    if kind == "bytes":
        return draw(
            st.binary(max_size=2048) | st.text(alphabet=string.printable, max_size=200).map(str.encode)
        )
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    payload: dict[str, Any] = draw(st.dictionaries(st.text(max_size=10), json_values, max_size=3))
    payload["image"] = draw(image_field() | json_values)
    explain = draw(st.integers(0, 19))
    if explain < 3:  # explain=true costs an occlusion heatmap: kept rare
        payload["explain"] = [True, "true", 1][explain]
    return json.dumps(payload, ensure_ascii=draw(st.booleans())).encode()


def problem_with(status: int, body: bytes) -> str | None:
    """What is wrong with an answer, or None: a 5xx, or a 2xx/4xx without the contract's shape."""
    if status >= 500:
        return f"HTTP {status}: {body[:200]!r}"
    try:
        answer = json.loads(body)
    except ValueError:
        return f"HTTP {status} with a body that is not JSON: {body[:200]!r}"
    if status == 200:
        return None if answer.get("result") in READINGS else f"200 without a result: {answer}"
    error = answer.get("error") if isinstance(answer, dict) else None
    shape = isinstance(error, dict) and set(error) == {"code", "message", "message_en"}
    if not (shape and error["message"] and error["message_en"]):
        return f"HTTP {status} without the error shape (code, message, message_en): {answer}"
    return None


def response_problem(response: httpx2.Response) -> str | None:
    return problem_with(response.status_code, response.content)


EVENT_TEMPLATE = Path(__file__).resolve().parents[1] / "events" / "http-api-diagnose.json"


class LambdaContext:
    """The attributes of the Lambda runtime's context object that Mangum may read."""

    function_name = "cxr-diagnose"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:cxr-diagnose"
    memory_limit_in_mb = 1024
    aws_request_id = "fuzz"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@cache
def _event_template() -> dict[str, Any]:
    return json.loads(EVENT_TEMPLATE.read_text())


def lambda_event(body: bytes, encoded: bool, content_type: str | None) -> dict[str, Any]:
    """The SAM-generated HTTP API event for POST /diagnose carrying ``body`` (base64 or as text)."""
    event = copy.deepcopy(_event_template())
    event["body"] = base64.b64encode(body).decode("ascii") if encoded else body.decode("utf-8", "replace")
    event["isBase64Encoded"] = encoded
    headers = {key: value for key, value in event.get("headers", {}).items() if key.lower() != "content-type"}
    if content_type is not None:
        headers["content-type"] = content_type
    event["headers"] = headers
    return event


def lambda_problem(response: dict[str, Any]) -> str | None:
    """``problem_with`` for what the Mangum handler returns to API Gateway."""
    body = response.get("body") or ""
    raw = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
    return problem_with(int(response["statusCode"]), raw)
