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

The codes come from the decode's own parse of the file (``function.dicom_decode.dicom_view``): a value is kept
only if it is one short code, so anything else says nothing. Short upper-case text passes for a code
("JOHN DOE"), so only DICOM's own terms are used and repeated in the answer: a ``Modality`` that is none
of them says nothing, and of a ``ViewPosition`` only its known words are named. Nothing else of the header
is ever echoed.

``BodyPartExamined`` is not used: it is typed in by hand at the modality and is wrong often enough (about
one study in seven in a hospital archive, Gueld et al., SPIE Medical Imaging 2002) that it would refuse
real chest films.
"""

from __future__ import annotations

import re

from function.dicom_decode import DicomView

PROJECTION_RADIOGRAPHY = frozenset({"CR", "DX", "RG", "DR", "OT", "SC"})
"""Modalities the pixels decide on. DR is not a DICOM term, but some digital radiography machines write it."""

NOT_FRONTAL_VIEWS = frozenset(
    {"LL", "RL", "LAT", "LATERAL", "RLO", "LLO", "LAO", "RAO", "LPO", "RPO", "OBLIQUE", "SWIMMER", "SWIMMERS"}
)
"""Words of a ViewPosition that name a lateral or oblique view (DICOM's terms and common spellings)."""

DECUBITUS_VIEWS = frozenset({"LLD", "RLD", "DECUBITUS", "DECUB"})
"""Words of a decubitus view: frontal despite "LATERAL" in "LATERAL DECUBITUS", so the pixels decide."""

_MODALITY_TERMS = """
    ANN AR ASMT AU BDUS BI BMD CFM CT CTPROTOCOL DG DMS DOC ECG EEG EMG EOG EPS ES FID GM HC HD IO IOL IVOCT
    IVUS KER KO LEN LS M3D MG MR NM OAM OCT OP OPM OPT OPTBSV OPTENF OPV OSS PA PLAN POS PR PT PX REG RESP
    RF RTDOSE RTIMAGE RTINTENT RTPLAN RTRAD RTRECORD RTSEGANN RTSTRUCT RWV SEG SM SMR SR SRF STAIN TEXTUREMAP
    TG US VA XA XAPROTOCOL XC AS CD CF CP CS DD DF DM DS EC FA FS LP MA MS OPR ST VF
"""
DICOM_MODALITIES = PROJECTION_RADIOGRAPHY | frozenset(_MODALITY_TERMS.split())
"""Modality's defined terms (PS3.3 C.7.3.1.1.1, with the retired ones): any other value says nothing."""
VIEW_WORDS = (
    NOT_FRONTAL_VIEWS | DECUBITUS_VIEWS | frozenset({"PA", "AP", "XTABLE", "CROSS", "TABLE", "ERECT"})
)
"""The words of a ViewPosition the answer may repeat."""


def header_refusal(view: DicomView | None) -> str | None:
    """``"Modality CT"`` or ``"ViewPosition LL"`` when a DICOM upload's header says it is no frontal chest
    radiograph; None for an upload that is not DICOM, or whose header says nothing usable or a frontal
    radiograph."""
    if view is None:
        return None
    if view.modality in DICOM_MODALITIES - PROJECTION_RADIOGRAPHY:
        return f"Modality {view.modality}"
    words = re.split(r"[ _-]+", view.view_position)
    if set(words) & NOT_FRONTAL_VIEWS and not set(words) & DECUBITUS_VIEWS:
        return "ViewPosition " + " ".join(word for word in words if word in VIEW_WORDS)
    return None
