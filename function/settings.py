"""Typed configuration of the diagnosis function, read once from ``CXR_*`` environment variables.

The S3 endpoint is not configured here: boto3 reads the standard ``AWS_ENDPOINT_URL_S3`` (and the usual
credential and region variables), which is how a local S3 server is used in development and tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from function.payload_limits import LAMBDA_PAYLOAD_BYTES

__all__ = ["DEFAULT_MAX_UPLOAD_BYTES", "LAMBDA_PAYLOAD_BYTES", "REPO_RELEASE_BUNDLE", "Settings"]

REPO_RELEASE_BUNDLE = Path(__file__).resolve().parents[1] / "models" / "release"
"""The bundle the repository ships with; the default for local development only."""

DEFAULT_MAX_UPLOAD_BYTES = 4_500_000
"""4.5 MB decoded -> 6,000,000 base64 characters, leaving ~290 KB of the 6 MB Lambda payload for the JSON
and the API Gateway event around it. (4.5 MiB = 4,718,592 would need exactly 6 MiB of base64 alone, so the
largest "legal" uploads would be refused by Lambda itself, outside our error contract.) That room is for
the page's request (base64 without line breaks, sent as application/json); what a request body may be
beyond that, and why, is ``function.payload_limits``."""


class Settings(BaseSettings):
    """Everything an operator can set; unknown ``CXR_*`` variables are ignored."""

    model_config = SettingsConfigDict(env_prefix="CXR_", extra="ignore")

    bundle_location: str = Field(
        default=str(REPO_RELEASE_BUNDLE),
        description=(
            "Where the model bundle is: 's3://bucket/prefix/' (in AWS, or a local S3 server through "
            "AWS_ENDPOINT_URL_S3) or a local folder with manifest.json. Default: the repo's models/release."
        ),
    )
    bundle_version: str = Field(
        default="",
        description=(
            "The bundle_version the bundle at bundle_location must carry (the stack sets it from its "
            "BundleVersion parameter), so a bundle written over that prefix by hand is refused, not served. "
            "Empty: any version."
        ),
    )
    max_upload_bytes: int = Field(
        default=DEFAULT_MAX_UPLOAD_BYTES,
        gt=0,
        description=(
            "Largest accepted image file, in decoded bytes. The base64 text is checked against the "
            "matching length before it is decoded, and the request body before it is read."
        ),
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "Origins allowed by CORS when the app itself must answer cross-origin requests (local runs), "
            "comma-separated or a JSON list. Empty: no CORS middleware (none in AWS either: the page and "
            "the API share one origin)."
        ),
    )
    origin_verify: str = Field(
        default="",
        description=(
            "When set, every request must carry this value in the X-Origin-Verify header, which the stack's "
            "CloudFront distribution adds: requests sent to the API's own address, around the distribution "
            "and its WAF, get a 403. Empty (local runs): no check."
        ),
    )
    enable_docs: bool = Field(
        default=True,
        description="Serve the OpenAPI page at /docs and the schema at /openapi.json.",
    )
    log_level: str = Field(default="INFO", description="Level of the function's own log lines.")

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """Accept 'https://a, https://b' as well as a JSON list, so a SAM parameter can pass either."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                return json.loads(text)
            return [origin.strip() for origin in text.split(",") if origin.strip()]
        return value
