"""The bundle held once per container, and what one upload's reading is.

Loading is lazy (first request, not import or lifespan: Mangum runs the lifespan on every invocation)
and guarded by a lock so concurrent first requests load it once. A failed load is not cached: the
request gets a 503 and the next request tries again, so a fixed S3 object is picked up without a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import partial

import cv2
import numpy as np

from function.bundle import LoadedBundle, load_bundle, source_for
from function.bundle_format import BundleError
from function.dicom_header import header_refusal
from function.error_answers import MODEL_UNAVAILABLE
from function.errors import number
from function.explain import occlusion_map
from function.framing import CropDetector, dark_bars
from function.imaging import Region, decode_upload
from function.schemas import (
    BLACK_BARS_NOTE,
    BLACK_BARS_NOTE_EN,
    CROPPED_NOTE,
    CROPPED_NOTE_EN,
    INDETERMINATE_MESSAGE,
    INDETERMINATE_MESSAGE_EN,
    NOT_CHEST_XRAY_MESSAGE,
    NOT_CHEST_XRAY_MESSAGE_EN,
    Consistency,
    DiagnosisResponse,
    HealthResponse,
    Heatmap,
    UploadNote,
)

log = logging.getLogger("cxr.service")

SPANISH_LABELS = {"Normal": "Normal", "COVID-19": "COVID-19", "Viral Pneumonia": "Neumonía viral"}


class BundleUnavailable(RuntimeError):
    """The bundle cannot be loaded right now (missing, unreachable, tampered).

    The text is the detailed reason, for the log only: it names S3 keys and hashes, so answers to clients
    get ``function.error_answers.MODEL_UNAVAILABLE`` instead (/diagnose alone, /health beside its fields).
    """


def _load_from_location(location: str, expected_version: str = "") -> LoadedBundle:
    return load_bundle(source_for(location), expected_version=expected_version)


class BundleHolder:
    """One verified bundle per container, loaded on first use; failures are retried on the next call."""

    def __init__(
        self,
        location: str,
        loader: Callable[[str], LoadedBundle] | None = None,
        expected_version: str = "",
    ) -> None:
        self.location = location
        self._loader = loader or partial(_load_from_location, expected_version=expected_version)
        self._lock = threading.Lock()
        self._bundle: LoadedBundle | None = None
        self.last_error: str | None = None

    @property
    def loaded(self) -> LoadedBundle | None:
        return self._bundle

    def get(self) -> LoadedBundle:
        """The loaded bundle, loading it now if needed; raises BundleUnavailable if that fails."""
        bundle = self._bundle
        if bundle is not None:
            return bundle
        with self._lock:
            if self._bundle is None:
                self._bundle = self._load()
            return self._bundle

    def _load(self) -> LoadedBundle:
        started = time.perf_counter()
        try:
            bundle = self._loader(self.location)
        except BundleError as error:
            self.last_error = str(error)
            log.error("bundle unavailable: %s", error)
            raise BundleUnavailable(self.last_error) from None
        except Exception as error:  # any other failure still means "no model": 503, retry next time
            self.last_error = f"unexpected {type(error).__name__} while loading the bundle"
            log.exception("bundle unavailable: %s", self.last_error)
            raise BundleUnavailable(self.last_error) from None
        self.last_error = None
        log.info(
            "bundle loaded version=%s labels=%s input=%d in %.3fs",
            bundle.version,
            ",".join(bundle.labels),
            bundle.input_size,
            time.perf_counter() - started,
        )
        return bundle

    def health(self) -> HealthResponse:
        """The health fields; without a bundle, the same generic error object as /diagnose's 503."""
        try:
            bundle = self.get()
        except BundleUnavailable:
            return HealthResponse(status="unavailable", loaded=False, error=MODEL_UNAVAILABLE.detail())
        return HealthResponse(status="ok", loaded=True, model_version=bundle.version)


def read_image(bundle: LoadedBundle, data: bytes, explain: bool = False) -> DiagnosisResponse:
    """Decode, gate, classify one upload; with ``explain``, add the occlusion heatmap to a reading. A DICOM
    file whose header says it is no frontal chest radiograph is refused as the gate refuses one.

    Raises ``function.imaging.ImageError`` for unreadable files.
    """
    upload = decode_upload(data)
    model_input, region = bundle.input_spec.read(upload.gray)
    notes = upload_notes(model_input, bundle.crop_detector)
    verdict = bundle.gate.check(model_input)
    header_says = header_refusal(upload.dicom_view)
    consistency = Consistency(
        ssim=verdict.ssim,
        threshold=bundle.gate.threshold,
        frontal_probability=verdict.frontal_probability,
        frontal_threshold=bundle.gate.frontal_threshold,
        dicom_header=header_says,
    )
    if header_says is not None or not verdict.accepted:
        return DiagnosisResponse(
            result="not_chest_xray",
            diagnosis=None,
            probabilities=None,
            consistency=consistency,
            message=NOT_CHEST_XRAY_MESSAGE,
            message_en=NOT_CHEST_XRAY_MESSAGE_EN,
            model_version=bundle.version,
            notes=notes,
        )
    raw = bundle.classifier.predict_one(model_input)
    calibration = bundle.calibration
    calibrated = calibration.calibrate(np.array([raw[label] for label in bundle.labels], dtype=np.float64))
    probabilities = {label: float(p) for label, p in zip(bundle.labels, calibrated, strict=True)}
    most_probable = max(probabilities, key=probabilities.__getitem__)
    flagged = calibration.flagged(probabilities)
    diagnosis = flagged or most_probable
    confident = calibration.is_confident(calibrated)
    # the threshold decided only if the plain rule would have answered otherwise (another class, or
    # "indeterminate"); a flagged class is never hidden as "indeterminate"
    by_threshold = flagged is not None and (flagged != most_probable or not confident)
    heatmap = heatmap_of(bundle, model_input, bundle.labels.index(diagnosis), region) if explain else None
    if flagged is None and not confident:
        return DiagnosisResponse(
            result="indeterminate",
            diagnosis=None,
            probabilities=probabilities,
            consistency=consistency,
            message=INDETERMINATE_MESSAGE,
            message_en=INDETERMINATE_MESSAGE_EN,
            model_version=bundle.version,
            heatmap=heatmap,
            notes=notes,
        )
    share = probabilities[diagnosis]
    spanish = f"Lectura del modelo: {SPANISH_LABELS.get(diagnosis, diagnosis)} ({percent(share, 'es')})"
    english = f"Model reading: {diagnosis} ({percent(share, 'en')})"
    if by_threshold:
        threshold = calibration.flag_thresholds[flagged]
        spanish += f"; señalado por el umbral de cribado ({percent(threshold, 'es')})"
        english += f"; flagged by the screening threshold ({percent(threshold, 'en')})"
    return DiagnosisResponse(
        result="diagnosis",
        diagnosis=diagnosis,
        probabilities=probabilities,
        consistency=consistency,
        message=spanish,
        message_en=english,
        model_version=bundle.version,
        heatmap=heatmap,
        decision="screening_threshold" if by_threshold else "most_probable",
        notes=notes,
    )


def upload_notes(model_input: np.ndarray, crop_detector: CropDetector | None = None) -> list[UploadNote]:
    """What the person should know about the upload itself (function/framing.py); changes no reading.
    A letterboxed upload gets the bars' note only: the crop detector was not trained on bars."""
    if dark_bars(model_input).letterboxed:
        return [UploadNote(code="black_bars", message=BLACK_BARS_NOTE, message_en=BLACK_BARS_NOTE_EN)]
    if crop_detector is not None and crop_detector.cropped(model_input):
        return [UploadNote(code="cropped", message=CROPPED_NOTE, message_en=CROPPED_NOTE_EN)]
    return []


HEATMAP_MAX_SIDE = 64
"""The map's patches are 1/8 of the side, so 64 cells a side show all it knows; more only adds bytes."""


def heatmap_of(bundle: LoadedBundle, model_input: np.ndarray, class_index: int, region: Region) -> Heatmap:
    """Occlusion sensitivity for the predicted class with the served model, at most 64x64, 3 decimals,
    over ``region`` of the upload (the part the model input shows)."""
    values = occlusion_map(bundle.classifier, model_input, class_index)
    if max(values.shape) > HEATMAP_MAX_SIDE:
        values = cv2.resize(values, (HEATMAP_MAX_SIDE, HEATMAP_MAX_SIDE), interpolation=cv2.INTER_AREA)
    height, width = values.shape
    return Heatmap(
        width=width, height=height, values=np.round(values, 3).tolist(), region=[round(v, 4) for v in region]
    )


def percent(probability: float, language: str) -> str:
    """One decimal, as the page writes it: "93,1 %" / "93.1%"; the ends read "> 99,9 %" and "< 0,1 %",
    because a model's 0.99996 is not a certainty and must not read as 100 %."""
    value, prefix = probability * 100, ""
    if value > 99.9:
        value, prefix = 99.9, "> "
    elif value < 0.1:
        value, prefix = 0.1, "< "
    text = number(value, "es" if language == "es" else "en", digits=1)
    return prefix + (text + "\u00a0%" if language == "es" else text + "%")
