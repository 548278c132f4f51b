"""Fetch a bundle from S3 or a local folder, verify every file against the manifest, build the served parts.

Used by the function on cold start and by ``python -m training evaluate``, so an evaluation runs exactly
the bytes that would be served. ``s3://bucket/prefix/`` is read with boto3, which honours the standard
``AWS_ENDPOINT_URL_S3`` for a local S3 server.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from function.bundle_format import (
    AVERAGE_IMAGE,
    GATE,
    MANIFEST,
    MODEL_TFLITE,
    BundleError,
    parse_manifest,
    verify_file,
)
from function.classifier import Classifier
from function.gate import GATE_METHODS, Gate
from function.imaging import PREPROCESSING_VERSION, ImageError, decode_grayscale, to_model_input


class BundleSource(Protocol):
    """Where bundle files come from; ``read`` raises BundleError when a file is missing or unreachable."""

    description: str

    def read(self, name: str) -> bytes: ...


class FolderSource:
    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.description = str(self.folder)

    def read(self, name: str) -> bytes:
        try:
            return (self.folder / name).read_bytes()
        except OSError as error:
            raise BundleError(f"cannot read {name} from {self.folder}: {error.strerror or error}") from None


class S3Source:
    def __init__(self, uri: str, client: Any | None = None) -> None:
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        if not bucket:
            raise BundleError(f"not an S3 location: {uri!r}")
        self.bucket = bucket
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self.description = f"s3://{self.bucket}/{self.prefix}"
        self._client = client

    def _s3(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            config = Config(
                connect_timeout=3, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"}
            )
            self._client = boto3.client("s3", config=config)
        return self._client

    def read(self, name: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        key = self.prefix + name
        try:
            return self._s3().get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "error")
            raise BundleError(f"cannot read s3://{self.bucket}/{key}: {code}") from None
        except BotoCoreError as error:
            raise BundleError(f"cannot reach S3 for s3://{self.bucket}/{key}: {error}") from None


def source_for(location: str) -> BundleSource:
    """``s3://bucket/prefix/`` or a local folder path."""
    return S3Source(location) if location.startswith("s3://") else FolderSource(location)


@dataclass(frozen=True)
class LoadedBundle:
    """Everything the function serves from one verified bundle."""

    manifest: dict[str, Any]
    classifier: Classifier
    gate: Gate
    gate_config: dict[str, Any]

    @property
    def version(self) -> str:
        return str(self.manifest["bundle_version"])

    @property
    def input_size(self) -> int:
        return int(self.manifest["input"]["height"])

    @property
    def labels(self) -> tuple[str, ...]:
        return self.classifier.labels


def load_bundle(source: BundleSource, num_threads: int | None = None) -> LoadedBundle:
    """Read manifest.json, then each served file, verifying sha256; raise BundleError on any problem."""
    manifest = parse_manifest(source.read(MANIFEST))
    if str(manifest["preprocessing_version"]) != PREPROCESSING_VERSION:
        raise BundleError(
            f"bundle expects preprocessing version {manifest['preprocessing_version']}, "
            f"this code implements {PREPROCESSING_VERSION}"
        )
    model = verify_file(manifest, MODEL_TFLITE, source.read(MODEL_TFLITE))
    average_bytes = verify_file(manifest, AVERAGE_IMAGE, source.read(AVERAGE_IMAGE))
    gate_config = _parse_gate(verify_file(manifest, GATE, source.read(GATE)))
    size = int(manifest["input"]["height"])
    try:
        average = to_model_input(decode_grayscale(average_bytes), size)
    except ImageError as error:
        raise BundleError(f"{AVERAGE_IMAGE} is not a readable image: {error}") from None
    try:
        classifier = Classifier(model, manifest["labels"], num_threads=num_threads)
    except (ValueError, RuntimeError) as error:
        raise BundleError(f"{MODEL_TFLITE} cannot be loaded: {error}") from None
    if classifier.input_shape != (size, size, 1):
        raise BundleError(f"{MODEL_TFLITE} takes {classifier.input_shape}, manifest says {size}x{size}x1")
    gate = Gate(
        average=average[..., 0], threshold=float(gate_config["threshold"]), method=gate_config["method"]
    )
    return LoadedBundle(manifest=manifest, classifier=classifier, gate=gate, gate_config=gate_config)


def _parse_gate(raw: bytes) -> dict[str, Any]:
    try:
        config = json.loads(raw)
        threshold = float(config["threshold"])
        method = config.get("method", "ssim")
    except (ValueError, KeyError, TypeError) as error:
        raise BundleError(f"{GATE} is malformed: {error}") from None
    if method not in GATE_METHODS or not np.isfinite(threshold):
        raise BundleError(f"{GATE} names an unknown method {method!r} or a bad threshold")
    config["method"] = method
    return config
