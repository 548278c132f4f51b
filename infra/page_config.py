"""Write the page's config.js with the deployed API's base URL (used by infra/deploy.sh).

    python -m infra.page_config --api-url https://abc123.execute-api.eu-west-1.amazonaws.com --out config.js

The URL is checked (https, a host, no path, query or credentials; plain http only for loopback) and written
as a JSON string, so nothing but a URL can end up in the script the page runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from urllib.parse import urlsplit

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def checked_api_url(url: str) -> str:
    """The API base URL without a trailing slash; ValueError if it is not a plain https origin (or path)."""
    text = url.strip().rstrip("/")
    if not text:
        return ""  # same origin as the page
    parts = urlsplit(text)
    secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)
    if not secure or not parts.hostname:
        raise ValueError(f"the API URL must be https://host (http only on loopback): {url!r}")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError(f"the API URL must not carry credentials, a query or a fragment: {url!r}")
    if any(character in text for character in "\"'<>\\` \t\r\n"):
        raise ValueError(f"the API URL has characters a URL does not: {url!r}")
    return text


def config_js(api_url: str) -> str:
    settings = {"apiBaseUrl": checked_api_url(api_url)}
    return (
        "/* Written by infra/deploy.sh: where the page finds the API. */\n"
        f"window.CXR_CONFIG = {json.dumps(settings, indent=2)};\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.page_config", description=__doc__.splitlines()[0])
    parser.add_argument("--api-url", required=True, help="the stack's ApiUrl output; empty for same origin")
    parser.add_argument("--out", type=Path, required=True, help="config.js to write")
    args = parser.parse_args(argv)
    try:
        text = config_js(args.api_url)
    except ValueError as error:
        print(f"page_config: {error}", file=sys.stderr)
        return 2
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
