"""What a DICOM upload's own header says it is: a refusal the pixels do not have to argue.

The consistency check judges pixels, so it can be fooled by any image. A DICOM file also states what made
it, and two of its statements are reliable enough to refuse on (everywhere else the header is ignored and
the pixels decide, as for a PNG):

- ``Modality`` (0008,0060), set by the machine itself: anything but projection radiography (CT, MR, US,
  NM, PT, mammography, dental, angiography, fluoroscopy, ...) is no chest radiograph, whatever a slice of
  it looks like. ``OT`` (other) and ``SC`` (secondary capture, e.g. a scanned film) say nothing, so the
  pixels decide; so do a missing or empty value.
- ``ViewPosition`` (0018,5101) ``LL`` or ``RL``: a lateral view, which the model was never trained on.
  Frontal (``PA``, ``AP``), decubitus and missing values go on to the pixels.

``BodyPartExamined`` is not used: it is typed in by hand at the modality and is wrong often enough (about
one study in seven in a hospital archive, Gueld et al., SPIE Medical Imaging 2002) that it would refuse
real chest films.
"""

from __future__ import annotations

import io

from function.imaging import quiet_pydicom, sniff_format

PROJECTION_RADIOGRAPHY = frozenset({"CR", "DX", "RG", "DR", "OT", "SC"})
"""Modalities the pixels decide on. DR is not a DICOM term, but some digital radiography machines write it."""

LATERAL_VIEWS = frozenset({"LL", "RL", "LATERAL", "LAT"})
"""ViewPosition values of a lateral view (the two DICOM terms, and the spelled-out ones some machines use)."""


def header_refusal(data: bytes) -> str | None:
    """``"Modality CT"`` or ``"ViewPosition LL"`` when a DICOM upload's header says it is no frontal chest
    radiograph; None when it is not DICOM, says nothing, or says a frontal radiograph."""
    if sniff_format(data) != "DICOM":
        return None
    modality, view = _tags(data)
    if modality and modality not in PROJECTION_RADIOGRAPHY:
        return f"Modality {modality}"
    if view in LATERAL_VIEWS:
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
    return str(value or "").strip().upper()
