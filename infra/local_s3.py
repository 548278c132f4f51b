"""A loopback S3 server (moto in server mode) holding a model bundle, for `make run`, tests and benchmarks.

The function reads its bundle with boto3, which honours the standard ``AWS_ENDPOINT_URL_S3``; pointing that
at this server exercises the same HTTP path as AWS, with no mock inside the function's process logic.

    with LocalS3Server() as s3:
        location = upload_bundle(s3.client(), "models/release")      # -> "s3://cxr-local-bundle/release/"
        os.environ.update(s3.env(), CXR_BUNDLE_LOCATION=location)

``stop()`` closes the listening socket but keeps the stored objects (moto keeps them in this process), so
``start()`` again on the same port brings the same bucket back: a stand-in for "S3 went away and came back".
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from function.bundle_format import MANIFEST

BUCKET = "cxr-local-bundle"
PREFIX = "release/"
REGION = "us-east-1"
REAL_AWS_SESSION = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
"""Removed wherever the loopback server is used, so a developer's real AWS session is never used against
it (or sent to it)."""
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
}
"""Credentials moto accepts; set so boto3 never looks for real ones (profiles, instance metadata)."""


class LocalS3Server:
    """moto's S3 over HTTP on ``host:port`` (port 0 picks a free one), in a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, quiet: bool = True) -> None:
        self.host = host
        self.port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None
        if quiet:
            logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per S3 request

    @property
    def endpoint_url(self) -> str:
        if not self.port:
            raise RuntimeError("the S3 server has not been started")
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> LocalS3Server:
        """Listen and serve; on a restart the same port (and the objects stored before) are reused."""
        if self._server is not None:
            return self
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(
            self.host, self.port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-s3", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port; clients then get connection errors, as with an outage."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> LocalS3Server:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """Environment for a process (or this one) whose boto3 should talk to this server."""
        return {"AWS_ENDPOINT_URL_S3": self.endpoint_url, **DUMMY_CREDENTIALS}

    def client(self) -> Any:
        """A boto3 S3 client for this server (dummy credentials, short timeouts)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            config=Config(connect_timeout=3, read_timeout=30, retries={"max_attempts": 2}),
        )


def upload_bundle(client: Any, folder: str | Path, bucket: str = BUCKET, prefix: str = PREFIX) -> str:
    """Create ``bucket`` if needed and copy the bundle's files under ``prefix``, manifest.json last.

    The same order as ``python -m training publish``: a reader that finds the manifest finds every file
    it lists. Returns the bundle location for ``CXR_BUNDLE_LOCATION``.
    """
    folder = Path(folder)
    if not (folder / MANIFEST).is_file():
        raise FileNotFoundError(f"{folder} has no {MANIFEST}: not a model bundle")
    prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
    existing = {entry["Name"] for entry in client.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        client.create_bucket(Bucket=bucket)
    files = sorted(path for path in folder.iterdir() if path.is_file() and path.name != MANIFEST)
    for path in [*files, folder / MANIFEST]:
        client.put_object(Bucket=bucket, Key=prefix + path.name, Body=path.read_bytes())
    return f"s3://{bucket}/{prefix}"
