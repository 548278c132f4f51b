"""Talking to the loopback AWS-compatible server (moto) from tests: clients and the environment to use it."""

from __future__ import annotations

from typing import Any

from infra.local_s3 import DUMMY_CREDENTIALS, REGION, LocalS3Server

REAL_AWS_SESSION = ("AWS_PROFILE", "AWS_SESSION_TOKEN")
"""Left out, so a developer's real AWS session is never used against (or sent to) the loopback server."""


def client(server: LocalS3Server, service: str) -> Any:
    """A boto3 client of ``service`` on the loopback server, with dummy credentials."""
    import boto3

    return boto3.client(
        service,
        endpoint_url=server.endpoint_url,
        region_name=REGION,
        aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def loopback_aws(server: LocalS3Server) -> dict[str, str]:
    """The variables that point the AWS CLI and boto3 at the loopback server, with dummy credentials."""
    return {**DUMMY_CREDENTIALS, "AWS_ENDPOINT_URL": server.endpoint_url}
