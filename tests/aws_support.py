"""Talking to the loopback AWS-compatible server (moto) from tests: clients and the environment to use it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from infra.cfn_yaml import stack_uuid
from infra.local_s3 import DUMMY_CREDENTIALS, REAL_AWS_SESSION, REGION, LocalS3Server


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


@contextmanager
def on_loopback_aws(server: LocalS3Server) -> Iterator[None]:
    """This process's environment pointed at the loopback server (no real AWS session), then restored."""
    with pytest.MonkeyPatch.context() as patch:
        for name in REAL_AWS_SESSION:
            patch.delenv(name, raising=False)
        for key, value in loopback_aws(server).items():
            patch.setenv(key, value)
        yield


class FunctionAsConfigured:
    """The real function app, configured the way Lambda would configure it from a stack on the loopback
    server: ``CXR_BUNDLE_LOCATION`` from the stack's ``BundleLocation`` output (template.yaml's expression,
    evaluated by moto's CloudFormation), ``CXR_BUNDLE_VERSION`` from its ``BundleVersion`` parameter and
    ``CXR_ORIGIN_VERIFY`` from its id (so it refuses requests that did not come through
    ``ThroughDistribution``).

    An ASGI app: each request reads the stack's configuration, and a new one gets a fresh app with nothing
    loaded, as Lambda starts new containers after a configuration change. Before the stack exists every
    request is a 503, as an API without its function would answer. The app reads S3 as it does in Lambda,
    through boto3's environment: this process's must point at the server (``loopback_aws``).
    """

    def __init__(self, server: LocalS3Server, stack_name: str) -> None:
        self._server = server
        self._stack_name = stack_name
        self._configuration: tuple[str, str, str] | None = None
        self._app: Any = None

    def configuration(self) -> tuple[str, str, str] | None:
        """(bundle location, bundle version, origin header value) as the stack says now; None without it."""
        from botocore.exceptions import ClientError

        try:
            stack = client(self._server, "cloudformation").describe_stacks(StackName=self._stack_name)
        except ClientError:
            return None
        described = stack["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
        parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in described.get("Parameters", [])}
        version = parameters.get("BundleVersion", "")
        return outputs["BundleLocation"], version, stack_uuid(described["StackId"])

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        from fastapi.responses import JSONResponse

        configuration = self.configuration()
        if configuration is None:
            await JSONResponse({"message": "Service Unavailable"}, status_code=503)(scope, receive, send)
            return
        if configuration != self._configuration:
            self._configuration, self._app = configuration, self._new_app(*configuration)
        await self._app(scope, receive, send)

    def _new_app(self, location: str, version: str, origin_verify: str) -> Any:
        from function.app import create_app
        from function.settings import Settings

        settings = Settings(bundle_location=location, bundle_version=version, origin_verify=origin_verify)
        return create_app(settings)


class ThroughDistribution:
    """The stack's CloudFront distribution as far as the API sees it: every request passed on with the
    ``X-Origin-Verify`` header (a viewer's own one replaced), valued as template.yaml values it."""

    def __init__(self, app: Any, server: LocalS3Server, stack_name: str) -> None:
        self._app = app
        self._server = server
        self._stack_name = stack_name

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            stack = client(self._server, "cloudformation").describe_stacks(StackName=self._stack_name)
            value = stack_uuid(stack["Stacks"][0]["StackId"]).encode()
            headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"x-origin-verify"]
            scope = {**scope, "headers": [*headers, (b"x-origin-verify", value)]}
        await self._app(scope, receive, send)
