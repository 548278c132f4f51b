"""`make run`: the whole service on http://127.0.0.1:8000 — page, API and a loopback S3 holding the bundle.

    python -m infra.local_stack [--port 8000] [--host 127.0.0.1] [--bundle models/release]

1. starts an S3 server on loopback (moto in server mode) and uploads the bundle to it, manifest.json last;
2. points boto3 at it (``AWS_ENDPOINT_URL_S3``, dummy credentials) and sets ``CXR_BUNDLE_LOCATION`` to
   ``s3://cxr-local-bundle/models/<bundle_version>/`` and ``CXR_BUNDLE_VERSION``, as a deployed stack
   does, so the function's app loads the bundle over HTTP on first use, exactly as on Lambda;
3. serves that app with the page from ``frontend/`` on the same origin (infra.local_site) with uvicorn,
   without a ``server`` header.
Ctrl-C (SIGINT) or SIGTERM stops uvicorn and then the S3 server; nothing else is left running.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path

from infra.local_s3 import REAL_AWS_SESSION, LocalS3Server, upload_bundle
from infra.local_site import LocalSite
from infra.locations import FRONTEND, RELEASE_BUNDLE


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m infra.local_stack", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("PORT", "8000")), help="default: $PORT or 8000"
    )
    parser.add_argument("--bundle", type=Path, default=RELEASE_BUNDLE, help="bundle folder to serve")
    parser.add_argument("--frontend", type=Path, default=FRONTEND, help=argparse.SUPPRESS)
    parser.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not (args.bundle / "manifest.json").is_file():
        print(
            f"No model bundle at {args.bundle} (manifest.json missing). Train or fetch one first.",
            file=sys.stderr,
        )
        return 1

    import uvicorn

    s3 = LocalS3Server().start()
    try:
        # Laid out and configured as a deployed stack's: <prefix><bundle_version>/, and that version named.
        version = str(json.loads((args.bundle / "manifest.json").read_text())["bundle_version"])
        location = upload_bundle(s3.client(), args.bundle, prefix=f"models/{version}/")
        for name in REAL_AWS_SESSION:
            os.environ.pop(name, None)
        os.environ.update(s3.env())
        os.environ["CXR_BUNDLE_LOCATION"] = location
        os.environ["CXR_BUNDLE_VERSION"] = version

        from function.app import app as api  # imported now: its settings are read from the environment

        site = LocalSite(api, args.frontend)
        url = f"http://{args.host}:{args.port}/"

        class Server(uvicorn.Server):
            async def startup(self, sockets: list | None = None) -> None:
                await super().startup(sockets=sockets)
                if self.started:
                    print(
                        f"\n  Chest X-ray screening: {url}\n"
                        f"  API: {url}diagnose  {url}health  docs: {url}docs\n"
                        f"  Bundle {location} on S3 server {s3.endpoint_url}. Ctrl-C to stop.\n",
                        flush=True,
                    )

        config = uvicorn.Config(
            site,
            host=args.host,
            port=args.port,
            lifespan="off",  # as on Lambda (Mangum lifespan="off"): the bundle loads on first use
            server_header=False,
            access_log=False,  # the app logs one line per API request itself (no client address)
            log_level=args.log_level,
        )
        server = Server(config)
        with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises Ctrl-C after shutting down
            server.run()
        return 0 if server.started else 1
    finally:
        s3.stop()
        print("Stopped the web server and the S3 server.", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
