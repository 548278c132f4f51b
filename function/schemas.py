"""Request and response shapes of the API; pydantic models so ``/docs`` documents exactly what is sent."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

NOT_CHEST_XRAY_MESSAGE = "La imagen no es una radiografía de tórax"
NOT_CHEST_XRAY_MESSAGE_EN = "The image is not a chest radiograph"
INDETERMINATE_MESSAGE = (
    "Resultado indeterminado: el modelo no tiene suficiente confianza para dar una lectura de esta imagen"
)
INDETERMINATE_MESSAGE_EN = "Indeterminate: the model is not confident enough to give a reading of this image"
DISCLAIMER = (
    "Herramienta de apoyo al cribado: no es un diagnóstico médico. "
    "Consulte a un médico para interpretar su radiografía."
)
DISCLAIMER_EN = (
    "A screening aid only, not a medical diagnosis. Consult a physician to interpret your radiograph."
)


class DiagnoseRequest(BaseModel):
    """What the page posts. Fields other than ``image`` are ignored."""

    model_config = ConfigDict(extra="ignore")

    image: str = Field(
        strict=True,
        description=(
            "The image file (PNG, JPEG, BMP, TIFF or DICOM) as base64, or as a data URL "
            "('data:image/png;base64,...'). At most 4.5 MB decoded by default."
        ),
        examples=["data:image/png;base64,iVBORw0KGgo..."],
    )


class Consistency(BaseModel):
    """The gate's score: SSIM against the bundle's average chest radiograph, and the threshold used."""

    ssim: float = Field(description="Similarity to the average frontal chest radiograph (higher: closer).")
    threshold: float = Field(description="Scores below this are answered 'not_chest_xray'.")


class DiagnosisResponse(BaseModel):
    """A reading of one upload: a diagnosis, a refusal (not a chest radiograph), or "indeterminate".

    "indeterminate" appears only with bundles whose manifest sets a calibration ``min_confidence``: the
    calibrated top probability fell below it, so no class is named but the probabilities are given.
    """

    result: Literal["diagnosis", "not_chest_xray", "indeterminate"]
    diagnosis: str | None = Field(
        description="The most probable class ('Normal', 'COVID-19' or 'Viral Pneumonia'); null unless "
        "result is 'diagnosis'.",
        examples=["COVID-19"],
    )
    probabilities: dict[str, float] | None = Field(
        description="Probability of each class (temperature-calibrated if the bundle says so), in the "
        "bundle's label order; null for 'not_chest_xray'.",
        examples=[{"Normal": 0.05, "COVID-19": 0.9, "Viral Pneumonia": 0.05}],
    )
    consistency: Consistency
    message: str = Field(description="What to show, in Spanish.")
    message_en: str = Field(description="The same message in English.")
    model_version: str = Field(description="bundle_version of the model bundle that answered.")
    disclaimer: str = Field(default=DISCLAIMER, description="Always shown: a screening aid, not a diagnosis.")
    disclaimer_en: str = Field(default=DISCLAIMER_EN, description="The disclaimer in English.")


class HealthResponse(BaseModel):
    """Whether this container holds a verified bundle (GET /health tries to load one if not)."""

    status: Literal["ok", "unavailable"]
    loaded: bool
    model_version: str | None = None
    error: str | None = Field(default=None, description="Why the bundle could not be loaded, if so.")


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, machine-readable reason, e.g. 'payload_too_large'.")
    message: str = Field(description="A sentence a person can act on. Never echoes the upload.")


class ErrorResponse(BaseModel):
    """Every non-2xx answer has this shape."""

    error: ErrorDetail
