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
BLACK_BARS_NOTE = (
    "La imagen tiene franjas negras a los lados (¿una captura de pantalla?). El modelo se entrenó con "
    "radiografías sin ellas y las lee peor: suba la radiografía sin franjas para una lectura más fiable."
)
BLACK_BARS_NOTE_EN = (
    "The image has black bars at its sides (a screenshot?). The model was trained on radiographs without "
    "them and reads such images less reliably: upload the radiograph without the bars for a better reading."
)
CROPPED_NOTE = (
    "La imagen parece recortada: le faltan bordes de la radiografía. El modelo se entrenó con radiografías "
    "completas y lee peor las recortadas: suba la radiografía entera para una lectura más fiable."
)
CROPPED_NOTE_EN = (
    "The image looks cropped: edges of the radiograph are missing. The model was trained on whole "
    "radiographs and reads cropped ones less reliably: upload the whole radiograph for a better reading."
)
MODEL_UNAVAILABLE_MESSAGE = "El modelo no está disponible en este momento; inténtelo de nuevo en breve."
MODEL_UNAVAILABLE_MESSAGE_EN = "The model is temporarily unavailable; try again shortly."
"""The only thing the public is told when the bundle cannot be loaded (by /diagnose and /health alike): the
reason (S3 keys, hashes) is logged for operators, never sent to the page or to /health."""
DISCLAIMER = (
    "Herramienta de apoyo al cribado: no es un diagnóstico médico. Aprendió la neumonía viral solo de "
    "radiografías de niños y la COVID-19 casi solo de adultos: en un adulto, otra neumonía puede leerse como "
    "COVID-19, y en un niño la COVID-19 a menudo pasa desapercibida. "
    "Consulte a un médico para interpretar su radiografía."
)
DISCLAIMER_EN = (
    "A screening aid only, not a medical diagnosis. It learned viral pneumonia from children's films only "
    "and COVID-19 almost only from adults': in an adult, another pneumonia may read as COVID-19, and in a "
    "child COVID-19 is often missed. Consult a physician to interpret your radiograph."
)


class DiagnoseRequest(BaseModel):
    """What the page posts. Fields other than ``image`` and ``explain`` are ignored."""

    model_config = ConfigDict(extra="ignore")

    image: str = Field(
        strict=True,
        description=(
            "The image file (PNG, JPEG, BMP, TIFF or DICOM) as base64, or as a data URL "
            "('data:image/png;base64,...'). At most 4.5 MB decoded by default."
        ),
        examples=["data:image/png;base64,iVBORw0KGgo..."],
    )
    explain: bool = Field(
        default=False,
        strict=True,
        description="true: also return a heatmap of where the model looked (adds roughly 0.1 s).",
    )


class Consistency(BaseModel):
    """The consistency check's scores: SSIM against the bundle's average chest radiograph and, for bundles
    with a learned second stage, that model's probability that the image is a frontal chest radiograph.
    An upload must pass both to get a reading, and a DICOM one must not say otherwise in its header."""

    ssim: float = Field(description="Similarity to the average frontal chest radiograph (higher: closer).")
    threshold: float = Field(description="SSIM scores below this are answered 'not_chest_xray'.")
    frontal_probability: float | None = Field(
        default=None,
        description="The second stage's probability that the image is a frontal chest radiograph; null "
        "when the bundle has no second stage.",
    )
    frontal_threshold: float | None = Field(
        default=None,
        description="frontal_probability below this is answered 'not_chest_xray'; null without a second "
        "stage.",
    )
    dicom_header: str | None = Field(
        default=None,
        description="For a DICOM upload whose own header says it is no frontal chest radiograph, what it "
        "says ('Modality CT', 'ViewPosition LL'): answered 'not_chest_xray' whatever the scores. Null "
        "otherwise. See function/dicom_header.py.",
        examples=[None],
    )


class UploadNote(BaseModel):
    """Something about the upload itself that makes the answer less reliable, and how to fix it."""

    code: Literal["black_bars", "cropped"] = Field(
        description="'black_bars': dark bars on two opposite sides, as a screenshot of a viewer has; "
        "'cropped': the bundle's crop detector finds the film cut tight (bundles with crop_note.json). "
        "See function/framing.py."
    )
    message: str = Field(description="What to tell the person, in Spanish.")
    message_en: str = Field(description="The same in English.")


class Heatmap(BaseModel):
    """Occlusion sensitivity at the model's input resolution: a square resize of ``region`` of the upload
    (the whole image, or for a bundle of preprocessing version 2 the picture inside its dark margins).

    values[row][column], row 0 at the top: 1 where hiding that region lowers the predicted class's
    probability most, 0 where hiding it does not lower it. An approximation of what the model relies
    on, not the location of a finding.
    """

    width: int = Field(description="Columns (the model's input width).", examples=[64])
    height: int = Field(description="Rows (the model's input height).", examples=[64])
    values: list[list[float]] = Field(description="height rows of width values in [0, 1].")
    region: list[float] = Field(
        description="[left, top, right, bottom]: the part of the upload the map covers, as fractions of "
        "its width and height; [0, 0, 1, 1] is the whole upload (always, for preprocessing version 1).",
        examples=[[0.0, 0.0, 1.0, 1.0]],
    )


class DiagnosisResponse(BaseModel):
    """A reading of one upload: a diagnosis, a refusal (not a chest radiograph), or "indeterminate".

    "indeterminate" appears only with bundles whose manifest sets a calibration ``min_confidence``: the
    calibrated top probability fell below it, so no class is named but the probabilities are given.
    """

    result: Literal["diagnosis", "not_chest_xray", "indeterminate"]
    diagnosis: str | None = Field(
        description="The class read ('Normal', 'COVID-19' or 'Viral Pneumonia'); null unless result is "
        "'diagnosis'. Usually the most probable class; see 'decision'.",
        examples=["COVID-19"],
    )
    decision: Literal["most_probable", "screening_threshold"] | None = Field(
        default=None,
        description="How 'diagnosis' was chosen: 'most_probable', or 'screening_threshold' when the class's "
        "probability reached the bundle's screening threshold for it (an operating point chosen for "
        "sensitivity; the manifest's calibration.flag_thresholds) and the plain rule would have answered "
        "otherwise (another class, or 'indeterminate'). Null unless result is 'diagnosis'.",
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
    heatmap: Heatmap | None = Field(
        default=None,
        description='Where the model looked, when the request has "explain": true and the result is '
        "'diagnosis' or 'indeterminate'; null otherwise.",
    )
    notes: list[UploadNote] = Field(
        default_factory=list,
        description="Notes on the upload that make this answer less reliable (any result); empty when none.",
    )
    disclaimer: str = Field(default=DISCLAIMER, description="Always shown: a screening aid, not a diagnosis.")
    disclaimer_en: str = Field(default=DISCLAIMER_EN, description="The disclaimer in English.")


class ErrorDetail(BaseModel):
    """What went wrong, in both languages of the answers: ``message`` is Spanish, as in a reading."""

    code: str = Field(description="Stable, machine-readable reason, e.g. 'payload_too_large'.")
    message: str = Field(description="A sentence a person can act on, in Spanish. Never echoes the upload.")
    message_en: str = Field(description="The same sentence in English.")


class ErrorResponse(BaseModel):
    """Every non-2xx answer has this ``error`` (/health's 503 has it beside the health fields): the app
    builds it in ``function.errors.ErrorAnswer`` only, and the WAF's 429 (infra/waf.yaml) is written to
    match it."""

    error: ErrorDetail


class HealthResponse(BaseModel):
    """Whether this container holds a verified bundle (GET /health tries to load one if not).

    The 503 keeps these fields, which the deploy's check reads (infra/bundle_versions.py), and carries the
    same ``error`` object as every other error answer, so a client reads any failure one way."""

    status: Literal["ok", "unavailable"]
    loaded: bool
    model_version: str | None = None
    error: ErrorDetail | None = Field(
        default=None,
        description="Null when a bundle is loaded; otherwise code 'bundle_unavailable' and a generic "
        "sentence in Spanish and English (the detailed reason is in the server log only).",
    )
