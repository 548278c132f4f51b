"""A grayscale DICOM's stored values -> the values a viewer displays: the standard's display pipeline.

Modality LUT (rescale slope and intercept), then the VOI LUT (the file's first lookup table, else its
first window, LINEAR, LINEAR_EXACT or SIGMOID), then the presentation: MONOCHROME1, or a Presentation LUT
Shape of INVERSE, shows the lowest value white. ``function.dicom_decode`` scales the result to 8 bits.
Padding (PS3.3 C.7.5.1.1.2: the stored values from Pixel Padding Value (0028,0120) to Pixel Padding Range
Limit (0028,0121), or that value alone) is no part of the image: ``padded`` names it, and the decoder leaves
it out of its scaling and shows it black. A film framed by padding far outside its range (0 below a film
of 300..3500, -2000, 65535 for MONOCHROME1) was otherwise squeezed into a few gray levels or washed out.
The two values are read as the pixels are, over Bits Stored in the Pixel Representation's sense, so a
signed file's padding written unsigned (US 63536 for -2000, as writers in the wild do) is still found.

Its own module because two steps cannot be left to pydicom: its VOI LUT lookup builds the table's indices
in the table's own type, so an 8-bit table indexed by 12-bit values wrapped them modulo 256 (the film came
out as noise), and its pixel pipeline ignores the Presentation LUT Shape. A "FOR PROCESSING" image (the
detector's raw signal, before the vendor's processing makes it a film) has no display at all: refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from function.image_errors import UnsupportedImageType

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

FOR_PROCESSING_CLASSES = frozenset(
    {
        "1.2.840.10008.5.1.4.1.1.1.1.1",  # Digital X-Ray Image Storage - For Processing
        "1.2.840.10008.5.1.4.1.1.1.2.1",  # Digital Mammography X-Ray Image Storage - For Processing
        "1.2.840.10008.5.1.4.1.1.1.3.1",  # Digital Intra-Oral X-Ray Image Storage - For Processing
    }
)
"""SOP classes whose images are raw detector data (PS3.4 B.5), whatever their Presentation Intent Type."""


@dataclass(frozen=True)
class GrayDisplay:
    """How a grayscale DICOM file's stored values become displayed ones (see the module docstring)."""

    dataset: Dataset
    voi_table: np.ndarray | None
    first_mapped: int
    inverted: bool
    padding: tuple[int, int] | None = None
    """The stored values (lowest, highest, inclusive) that are padding; None when the file declares none."""

    @classmethod
    def of(cls, dataset: Dataset) -> GrayDisplay:
        """The display the file's header describes."""
        photometric = str(dataset.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper()
        shape = str(dataset.get("PresentationLUTShape", "") or "").strip().upper()
        table, first = _first_voi_lut(dataset)
        inverted = photometric == "MONOCHROME1" or shape == "INVERSE"
        return cls(dataset, table, first, inverted, _padding_range(dataset))

    def values(self, stored: np.ndarray) -> np.ndarray:
        """Stored values of some rows -> their VOI output as float64 (larger is brighter only once
        ``inverted`` is applied by the caller)."""
        from pydicom.pixels import apply_modality_lut, apply_voi_lut

        modality = np.asarray(apply_modality_lut(stored, self.dataset), dtype=np.float64)
        if self.voi_table is None:
            return np.asarray(apply_voi_lut(modality, self.dataset, index=0), dtype=np.float64)
        index = np.clip(np.round(modality) - self.first_mapped, 0, self.voi_table.size - 1)
        return self.voi_table[index.astype(np.intp)]

    def padded(self, stored: np.ndarray) -> np.ndarray | None:
        """Which of these stored values are padding (compared before any LUT, as the standard says), or
        None when the file declares none."""
        if self.padding is None:
            return None
        lowest, highest = self.padding
        return (stored >= lowest) & (stored <= highest)


def refuse_raw_detector_data(dataset: Dataset) -> None:
    """Refuse a "FOR PROCESSING" image by its Presentation Intent Type (0008,0068) or its SOP class."""
    intent = str(dataset.get("PresentationIntentType", "") or "").strip().upper()
    sop_class = str(dataset.get("SOPClassUID", "") or "").strip()
    if intent == "FOR PROCESSING" or sop_class in FOR_PROCESSING_CLASSES:
        raise UnsupportedImageType(
            es="Este DICOM contiene los datos brutos del detector («FOR PROCESSING»), no la imagen que "
            "lee un radiólogo: envíe la imagen «FOR PRESENTATION» del mismo estudio, o expórtela como PNG "
            "o JPEG.",
            en='This DICOM holds the raw detector data ("FOR PROCESSING"), not the image a radiologist '
            'reads: send the study\'s "FOR PRESENTATION" image, or export it as PNG or JPEG.',
        )


def _padding_range(dataset: Dataset) -> tuple[int, int] | None:
    """Pixel Padding Value (0028,0120) to Pixel Padding Range Limit (0028,0121) (either order), or the value
    alone, as stored values (``_as_stored``); None when the value is missing, multi-valued or unreadable (a
    damaged optional element must not cost the film its reading: it is then decoded as before), and a range
    limit without a value is ignored, as the standard requires the value with it."""
    try:
        value = dataset.get("PixelPaddingValue")
        if value is None:
            return None
        limit = dataset.get("PixelPaddingRangeLimit")
        first = int(value)
        last = first if limit is None else int(limit)
        first, last = (_as_stored(dataset, number) for number in (first, last))
    except Exception:
        return None
    return min(first, last), max(first, last)


def _as_stored(dataset: Dataset, value: int) -> int:
    """A padding value or limit as the stored pixel value it names, whichever of US or SS it was written in.

    Both are stored pixel values (PS3.3 C.7.5.1.1.2: "valid values within the constraints defined by Bits
    Allocated, Bits Stored, and High Bit", corresponding to "a value in the original stored pixel data,
    before the Modality LUT"), and a stored value is Bits Stored wide with its sign bit at the High Bit
    (PS3.5 8.1.1), so the value is read over Bits Stored, not Bits Allocated: its low Bits Stored bits,
    negative when Pixel Representation is 1 and the top one is set. That is how the decoder reads the
    pixels (pydicom drops the bits above Bits Stored and sign-extends from its top one), so junk high bits
    are dropped alike: US 63536 (0xF830, a signed 16-bit -2000 read unsigned) and US 2096 (0x830, the
    12-bit field alone) are both -2000 in a signed 12-bit file, as the pixels they pad are, and 65535 is
    4095 in an unsigned 12-bit one. Without a Bits Stored of 1..16 (past 16, no US or SS value reaches its
    sign bit) the value is kept as written."""
    bits = int(dataset.get("BitsStored") or 0)
    if not 1 <= bits <= 16:
        return value
    field = value & (2**bits - 1)
    signed = int(dataset.get("PixelRepresentation") or 0) == 1
    return field - 2**bits if signed and field >= 2 ** (bits - 1) else field


def _first_voi_lut(dataset: Dataset) -> tuple[np.ndarray | None, int]:
    """The first VOI LUT (0028,3010) as float64 display values and its first mapped value, or (None, 0)
    when the file has none (then its window, if any, is the VOI)."""
    sequence = dataset.get("VOILUTSequence")
    if not sequence:
        return None, 0
    item = sequence[0]
    if item.get("LUTDescriptor") is None or item.get("LUTData") is None:
        return None, 0
    entries, first_mapped = (int(value) for value in item.LUTDescriptor[:2])
    entries = entries or 2**16
    if first_mapped + entries > 2**16:  # no unsigned table reaches past 65535: a negative value read as US
        first_mapped -= 2**16
    data = item["LUTData"].value
    if isinstance(data, bytes | bytearray):  # OW: 16-bit words in the file's byte order
        little_endian = dataset.original_encoding[1] is not False
        table = np.frombuffer(data, dtype="<u2" if little_endian else ">u2")
    else:
        table = np.atleast_1d(np.asarray(data))
    return table[:entries].astype(np.float64), first_mapped
