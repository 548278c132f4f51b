"""API Gateway events as the routes expect them, whatever stage the HTTP API is deployed in.

An HTTP API (payload 2.0) served from a named stage puts the stage in front of the path: a POST to
``https://{api}.execute-api.{region}.amazonaws.com/prod/diagnose`` arrives as ``rawPath`` and
``requestContext.http.path`` = ``/prod/diagnose``. Mangum routes on that path, so every request would be a
404 unless the template's ``$default`` stage is kept. The stage is in ``requestContext.stage``, so it is
removed here and the routes work under any stage. REST API events (1.0) carry the resource path without the
stage and pass unchanged.
"""

from __future__ import annotations

from typing import Any

DEFAULT_STAGE = "$default"  # served at the root of the invoke URL: no prefix to remove


def without_stage_prefix(event: dict[str, Any]) -> dict[str, Any]:
    """The event with a named stage's ``/{stage}`` removed from the front of its paths (a shallow copy)."""
    context = event.get("requestContext")
    if event.get("version") != "2.0" or not isinstance(context, dict):
        return event
    stage, http = context.get("stage"), context.get("http")
    if not isinstance(stage, str) or stage in ("", DEFAULT_STAGE) or not isinstance(http, dict):
        return event
    prefix = f"/{stage}"
    stripped = {**event, "requestContext": {**context, "http": {**http}}}
    for owner, key in ((stripped, "rawPath"), (stripped["requestContext"]["http"], "path")):
        path = owner.get(key)
        if isinstance(path, str) and (path == prefix or path.startswith(prefix + "/")):
            owner[key] = path[len(prefix) :] or "/"
    return stripped
