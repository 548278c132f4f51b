"""Fetch a bundle from S3 or a local folder, verify every file against the manifest, build the served parts.

Used by the function on cold start and by ``python -m training evaluate``, so an evaluation runs exactly
the bytes that would be served. ``s3://bucket/prefix/`` is read with boto3, which honours the standard
``AWS_ENDPOINT_URL_S3`` for a local S3 server.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from function.bundle_format import (
    AVERAGE_IMAGE,
    CROP_NOTE,
    GATE,
    MANIFEST,
    MODEL_TFLITE,
    BundleError,
    parse_manifest,
    verify_file,
)
from function.calibration import Calibration
from function.classifier import Classifier
from function.framing import CROPPED_LABEL, CropDetector
from function.gate import FRONTAL_LABEL, GATE_METHODS, Gate
from function.imaging import PREPROCESSING_VERSIONS, ImageError, InputSpec, average_input

_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
"""A file name inside the bundle: no folders, no leading dot (a stage-2 name comes from gate.json)."""


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

            # At most 2 attempts (botocore's "max_attempts" counts retries: 2 meant 3 attempts) of 5 s each:
            # an S3 that stops answering costs ~10 s, so the 503 comes before the function's 20 s timeout
            # (template.yaml) instead of API Gateway's own timeout error. docs/reliability.md.
            config = Config(
                connect_timeout=3, read_timeout=5, retries={"total_max_attempts": 2, "mode": "standard"}
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
            raise BundleError(
                f"cannot read s3://{self.bucket}/{key}: {code}{_DENIED_HINT.get(code, '')}"
            ) from None
        except BotoCoreError as error:
            raise BundleError(f"cannot reach S3 for s3://{self.bucket}/{key}: {error}") from None


_DENIED_HINT = {
    "AccessDenied": " (the key may be missing: the function's role has s3:GetObject only, and without "
    "s3:ListBucket S3 answers a missing key with AccessDenied, not NoSuchKey; or the role or a KMS key may "
    "not read it)"
}
"""What an operator must know to read S3's 403 on GetObject (template.yaml, DiagnosisFunctionRole)."""


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
    calibration: Calibration
    crop_detector: CropDetector | None = None

    @property
    def version(self) -> str:
        return str(self.manifest["bundle_version"])

    @property
    def input_size(self) -> int:
        return int(self.manifest["input"]["height"])

    @property
    def input_spec(self) -> InputSpec:
        """How an upload becomes this bundle's model input: its size and preprocessing version."""
        return InputSpec(self.input_size, str(self.manifest["preprocessing_version"]))

    @property
    def labels(self) -> tuple[str, ...]:
        return self.classifier.labels


def load_bundle(
    source: BundleSource, num_threads: int | None = None, expected_version: str = ""
) -> LoadedBundle:
    """Read manifest.json, then each served file, verifying sha256; raise BundleError on any problem.

    ``expected_version`` (when given) must be the manifest's ``bundle_version``: the stack names the
    version it serves, and anything else found at its location is not what was deployed.
    """
    manifest = parse_manifest(source.read(MANIFEST))
    if expected_version and str(manifest["bundle_version"]) != expected_version:
        raise BundleError(
            f"the bundle found is version {manifest['bundle_version']}, the function is configured to "
            f"serve {expected_version}"
        )
    if str(manifest["preprocessing_version"]) not in PREPROCESSING_VERSIONS:
        raise BundleError(
            f"bundle expects preprocessing version {manifest['preprocessing_version']}, "
            f"this code implements {', '.join(PREPROCESSING_VERSIONS)}"
        )
    model = verify_file(manifest, MODEL_TFLITE, source.read(MODEL_TFLITE))
    size = int(manifest["input"]["height"])
    classifier = _classifier(model, manifest["labels"], MODEL_TFLITE, size, num_threads)
    gate, gate_config = load_gate(source, manifest, num_threads)
    calibration = parse_calibration(manifest)
    return LoadedBundle(
        manifest=manifest,
        classifier=classifier,
        gate=gate,
        gate_config=gate_config,
        calibration=calibration,
        crop_detector=load_crop_detector(source, manifest, num_threads),
    )


def load_crop_detector(
    source: BundleSource, manifest: dict[str, Any], num_threads: int | None = None
) -> CropDetector | None:
    """The "cropped" note's detector when the manifest lists crop_note.json (older bundles have none)."""
    if CROP_NOTE not in manifest["files"]:
        return None
    try:
        config = json.loads(verify_file(manifest, CROP_NOTE, source.read(CROP_NOTE)))
        name, labels, threshold = config["model"], config["model_labels"], float(config["threshold"])
    except (ValueError, KeyError, TypeError) as error:
        raise BundleError(f"{CROP_NOTE} is malformed: {error}") from None
    _check_model_reference(CROP_NOTE, name, labels, CROPPED_LABEL)
    if not 0.0 < threshold <= 1.0:
        raise BundleError(f"{CROP_NOTE} threshold {threshold} is not in (0, 1]")
    content = verify_file(manifest, name, source.read(name))
    size = int(manifest["input"]["height"])
    return CropDetector(_classifier(content, labels, name, size, num_threads), threshold)


def parse_calibration(manifest: dict[str, Any]) -> Calibration:
    """The manifest's calibration (identity if absent); raises BundleError if its numbers make no sense."""
    try:
        calibration = Calibration.from_manifest(manifest)
    except (TypeError, ValueError, AttributeError) as error:
        raise BundleError(f"manifest.json has a malformed calibration: {error}") from None
    if not (np.isfinite(calibration.temperature) and calibration.temperature > 0):
        raise BundleError(f"manifest.json calibration temperature {calibration.temperature} is not > 0")
    if not 0.0 <= calibration.min_confidence <= 1.0:
        raise BundleError(
            f"manifest.json calibration min_confidence {calibration.min_confidence} not in [0, 1]"
        )
    for label, threshold in calibration.flag_thresholds.items():
        if label not in manifest["labels"] or not 0.0 < threshold <= 1.0:
            raise BundleError(
                f"manifest.json calibration flag threshold {label!r}: {threshold} is not a label's (0, 1]"
            )
    return calibration


def load_gate(
    source: BundleSource, manifest: dict[str, Any], num_threads: int | None = None
) -> tuple[Gate, dict[str, Any]]:
    """The consistency check from average.png, gate.json and, when gate.json names one, its stage-2 model
    (listed in the manifest and hash-verified like every other served file)."""
    size = int(manifest["input"]["height"])
    average_bytes = verify_file(manifest, AVERAGE_IMAGE, source.read(AVERAGE_IMAGE))
    gate_config = _parse_gate(verify_file(manifest, GATE, source.read(GATE)))
    try:
        average = average_input(average_bytes, size)
    except ImageError as error:
        raise BundleError(f"{AVERAGE_IMAGE} is not a readable image: {error}") from None
    frontal_model = None
    name = gate_config.get("model")
    if name is not None:
        content = verify_file(manifest, name, source.read(name))
        frontal_model = _classifier(content, gate_config["model_labels"], name, size, num_threads)
    gate = Gate(
        average=average[..., 0],
        threshold=float(gate_config["threshold"]),
        method=gate_config["method"],
        frontal_model=frontal_model,
        frontal_threshold=gate_config["model_threshold"] if frontal_model is not None else None,
    )
    return gate, gate_config


def _classifier(
    content: bytes, labels: list[str], name: str, size: int, num_threads: int | None
) -> Classifier:
    try:
        classifier = Classifier(content, labels, num_threads=num_threads)
    except (ValueError, RuntimeError) as error:
        raise BundleError(f"{name} cannot be loaded: {error}") from None
    if classifier.input_shape != (size, size, 1):
        raise BundleError(f"{name} takes {classifier.input_shape}, manifest says {size}x{size}x1")
    return classifier


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
    if config.get("model") is not None:
        _check_second_stage(config)
    return config


def _check_second_stage(config: dict[str, Any]) -> None:
    """Stage-2 fields: a plain file name, labels including FRONTAL_LABEL, a threshold in [0, 1]."""
    _check_model_reference(GATE, config["model"], config.get("model_labels"), FRONTAL_LABEL)
    try:
        threshold = float(config["model_threshold"])
    except (KeyError, TypeError, ValueError):
        raise BundleError(f"{GATE} names a stage-2 model but no numeric model_threshold") from None
    if not 0.0 <= threshold <= 1.0:
        raise BundleError(f"{GATE} model_threshold {threshold} is not in [0, 1]")
    config["model_threshold"] = threshold


def _check_model_reference(owner: str, name: Any, labels: Any, required_label: str) -> None:
    """A model named by ``owner`` (gate.json, crop_note.json): a plain bundle file name other than the
    manifest and the classifier, and a list of label names that includes ``required_label``."""
    if not isinstance(name, str) or not _PLAIN_NAME.fullmatch(name) or name in (MANIFEST, MODEL_TFLITE):
        raise BundleError(f"{owner} names a model {name!r} that is not a bundle file name")
    if not (
        isinstance(labels, list) and all(isinstance(x, str) for x in labels) and required_label in labels
    ):
        raise BundleError(f"{owner} model_labels must be a list of names including {required_label!r}")
