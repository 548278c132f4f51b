"""What a DICOM upload's own header says it is: a refusal the pixels do not have to argue.

The consistency check judges pixels, so it can be fooled by any image. A DICOM file also states what made
it, and two of its statements are reliable enough to refuse on (everywhere else the header is ignored and
the pixels decide, as for a PNG):

- ``Modality`` (0008,0060), set by the machine itself: anything but projection radiography (CT, MR, US,
  NM, PT, mammography, dental, angiography, fluoroscopy, ...) is no chest radiograph, whatever a slice of
  it looks like. ``OT`` (other) and ``SC`` (secondary capture, e.g. a scanned film) say nothing, so the
  pixels decide; so do a missing or empty value.
- ``ViewPosition`` (0018,5101) naming a lateral or oblique view (``LL``, ``RL``, ``RLO``, ``LLO``, and
  spellings machines use such as ``LATERAL``, ``XTABLE LATERAL``, ``LAO``, ``SWIMMERS``): views the
  model was never trained on. Frontal (``PA``, ``AP``), decubitus (``LLD``, ``RLD``, ``LATERAL
  DECUBITUS``: a frontal projection of a patient lying on one side) and missing values go on to the pixels.

A value is used only if it looks like a code (letters, digits, spaces, at most 16 characters, one value):
anything else says nothing, and nothing else of the header is ever echoed.

``BodyPartExamined`` is not used: it is typed in by hand at the modality and is wrong often enough (about
one study in seven in a hospital archive, Gueld et al., SPIE Medical Imaging 2002) that it would refuse
real chest films.
"""

from __future__ import annotations

import io
import re

from function.imaging import quiet_pydicom, sniff_format

PROJECTION_RADIOGRAPHY = frozenset({"CR", "DX", "RG", "DR", "OT", "SC"})
"""Modalities the pixels decide on. DR is not a DICOM term, but some digital radiography machines write it."""

NOT_FRONTAL_VIEWS = frozenset(
    {"LL", "RL", "LAT", "LATERAL", "RLO", "LLO", "LAO", "RAO", "LPO", "RPO", "OBLIQUE", "SWIMMER", "SWIMMERS"}
)
"""Words of a ViewPosition that name a lateral or oblique view (DICOM's terms and common spellings)."""

DECUBITUS_VIEWS = frozenset({"LLD", "RLD", "DECUBITUS", "DECUB"})
"""Words of a decubitus view: frontal despite "LATERAL" in "LATERAL DECUBITUS", so the pixels decide."""

CODE = re.compile(r"[A-Z0-9 _-]{1,16}")


def header_refusal(data: bytes) -> str | None:
    """``"Modality CT"`` or ``"ViewPosition LL"`` when a DICOM upload's header says it is no frontal chest
    radiograph; None when it is not DICOM, says nothing usable, or says a frontal radiograph."""
    if sniff_format(data) != "DICOM":
        return None
    modality, view = _tags(data)
    if modality and modality not in PROJECTION_RADIOGRAPHY:
        return f"Modality {modality}"
    words = set(re.split(r"[ _-]+", view))
    if words & NOT_FRONTAL_VIEWS and not words & DECUBITUS_VIEWS:
        return f"ViewPosition {view}"
    return None


def _tags(data: bytes) -> tuple[str, str]:
    """(Modality, ViewPosition), upper-case and stripped; "" for a missing or unreadable one. The upload
    was already decoded (function.imaging), so a file this cannot read says nothing, never a 500."""
    pydicom = quiet_pydicom()
    try:
        dataset = pydicom.dcmread(
            io.BytesIO(data), stop_before_pixels=True, specific_tags=["Modality", "ViewPosition"]
        )
        return _text(dataset.get("Modality")), _text(dataset.get("ViewPosition"))
    except Exception:  # damage past what the decode read: let the pixels decide
        return "", ""


def _text(value: object) -> str:
    """The value if it is one short code, upper-case; "" otherwise (several values, free text, none)."""
    if not isinstance(value, str):
        return ""
    text = value.strip().upper()
    return text if CODE.fullmatch(text) else ""
