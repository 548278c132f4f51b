"""The page and the API on one origin, for local runs: static files from frontend/ with security headers.

Only local wiring lives here; the function's app is used untouched. In AWS the page comes from S3 through
CloudFront (whose response-headers policy sends the same headers), and the same distribution routes
/diagnose and /health to API Gateway: one origin there as here.

Routing: ``/`` and every file that exists in the page folder are the page; every other path goes to the
API (``/diagnose``, ``/health``, ``/docs``, ``/openapi.json`` and its JSON 404s). Page responses get the
deployed CloudFront policy's headers (``infra.site_headers``, read from template.yaml); API responses do not,
since FastAPI's ``/docs`` loads Swagger UI from a CDN.
"""

from __future__ import annotations

from pathlib import Path

from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra.locations import FRONTEND
from infra.site_headers import page_headers


class LocalSite:
    """ASGI app: page files (with security headers) or the API, chosen by path."""

    def __init__(self, api: ASGIApp, frontend: Path = FRONTEND) -> None:
        self.api = api
        self.frontend = frontend.resolve()
        if not (self.frontend / "index.html").is_file():
            raise FileNotFoundError(f"no index.html in {self.frontend}")
        self.static = StaticFiles(directory=self.frontend, html=True)
        self.headers = [*page_headers(), (b"cache-control", b"no-cache")]

    def is_page(self, path: str) -> bool:
        if path == "/":
            return True
        relative = path.lstrip("/")
        if not relative or "\\" in relative or any(part in ("", ".", "..") for part in relative.split("/")):
            return False
        candidate = (self.frontend / relative).resolve()
        return candidate.is_relative_to(self.frontend) and candidate.is_file()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Only GET and HEAD read a page (CloudFront's page behaviour takes no others); any other method goes
        # to the API, whose JSON 404/405 answers it, as StaticFiles' 405 would be an uncaught exception.
        page_read = scope.get("method") in ("GET", "HEAD")
        if scope["type"] != "http" or not page_read or not self.is_page(scope["path"]):
            await self.api(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in self.headers}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + self.headers}
            await send(message)

        await self.static(scope, receive, send_with_headers)
