"""API Gateway HTTP API events for the benchmarks, from the SAM-generated event in events/."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

from infra.locations import REPO_ROOT, SHARED_DATA

RADIOGRAPH = SHARED_DATA / "covid19-radiography-128" / "COVID" / "images" / "COVID-2.png"
_TEMPLATE = json.loads((REPO_ROOT / "events" / "http-api-diagnose.json").read_text())


class LambdaContext:
    """What the Lambda runtime passes as ``context`` (the attributes an adapter may read)."""

    function_name = "cxr-diagnose"
    aws_request_id = "bench"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:cxr-diagnose"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def diagnose_event(image_file: bytes) -> dict[str, Any]:
    """POST /diagnose carrying ``image_file``, base64-encoded body, as API Gateway delivers it."""
    body = json.dumps({"image": base64.b64encode(image_file).decode("ascii")})
    event = copy.deepcopy(_TEMPLATE)
    event["body"] = base64.b64encode(body.encode()).decode("ascii")
    event["isBase64Encoded"] = True
    return event
