"""A grayscale DICOM's stored values -> the values a viewer displays: the standard's display pipeline.

Modality LUT (rescale slope and intercept), then the VOI LUT (the file's first lookup table, else its
first window, LINEAR, LINEAR_EXACT or SIGMOID), then the presentation: MONOCHROME1, or a Presentation LUT
Shape of INVERSE, shows the lowest value white. ``function.dicom_decode`` scales the result to 8 bits.
Padding (PS3.3 C.7.5.1.1.2: the stored values from Pixel Padding Value (0028,0120) to Pixel Padding Range
Limit (0028,0121), or that value alone) is no part of the image: ``padded`` names it, and the decoder leaves
it out of its scaling and shows it black. A film framed by padding far outside its range (0 below a film
of 300..3500, -2000, 65535 for MONOCHROME1) was otherwise squeezed into a few gray levels or washed out.

A stored value is Bits Stored wide, its sign bit at the High Bit (PS3.5 8.1.1): the bits above it are no
part of it. The decoded cells and the two padding values are all read so (``over_bits_stored``), so a
signed file's padding written unsigned (US 63536 for -2000, as writers in the wild do) is still found, and
no codec's leftover bits reach the display. pydicom 3.0.2 reads native, RLE and JPEG baseline/extended data
so itself (its decoder runner's ``correct_unused_bits``, on for every transfer syntax but JPEG 2000 and
JPEG-LS). For the JPEG 2000 family (HTJ2K too) it only corrects the sign (``apply_j2k_sign_correction``),
by the codestream's precision and only when the codestream's signedness differs from the Pixel
Representation, so a codestream more precise than Bits Stored keeps the bits above it: a 12-bit file with a
16-bit codestream came back as its whole 16-bit cells (0..65535 unsigned, -32768..32767 signed; a signed
12-bit field 0x830 as 2096, not -2000), through both plugins installed (pylibjpeg, tried first, and
Pillow): ``bench.dicom_unused_bits``. JPEG-LS would keep them too (sign correction only, for signed
data), but neither it nor JPEG lossless is decoded here: no plugin for them is installed.

Its own module because three steps cannot be left to pydicom: that one; its VOI LUT lookup builds the
table's indices in the table's own type, so an 8-bit table indexed by 12-bit values wrapped them modulo 256
(the film came out as noise); and its pixel pipeline ignores the Presentation LUT Shape. A "FOR PROCESSING"
image (the detector's raw signal, before the vendor's processing makes it a film) has no display at all:
refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

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
Cells = TypeVar("Cells", int, np.ndarray)


@dataclass(frozen=True)
class GrayDisplay:
    """How a grayscale DICOM file's stored values become displayed ones (see the module docstring)."""

    dataset: Dataset
    voi_table: np.ndarray | None
    first_mapped: int
    inverted: bool
    padding: tuple[int, int] | None = None
    """The stored values (lowest, highest, inclusive) that are padding; None when the file declares none."""
    bits_stored: int = 0
    """A stored value's width (Bits Stored, 1..32); 0 when the file does not say: cells kept as decoded."""
    signed: bool = False
    """Pixel Representation 1: a stored value is two's complement over ``bits_stored``."""

    @classmethod
    def of(cls, dataset: Dataset) -> GrayDisplay:
        """The display the file's header describes."""
        photometric = str(dataset.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper()
        shape = str(dataset.get("PresentationLUTShape", "") or "").strip().upper()
        table, first = _first_voi_lut(dataset)
        inverted = photometric == "MONOCHROME1" or shape == "INVERSE"
        bits, signed = _stored_format(dataset)
        return cls(dataset, table, first, inverted, _padding_range(dataset), bits, signed)

    def stored(self, cells: np.ndarray) -> np.ndarray:
        """Decoded cells of some rows -> the stored values they hold (int64), what ``values`` and ``padded``
        take: a JPEG 2000 decoder can leave bits above Bits Stored in them (module docstring)."""
        if not self.bits_stored or cells.dtype.kind not in "iu" or cells.dtype.itemsize > 4 or not cells.size:
            return cells  # floats, or cells int64 cannot hold unsigned
        bits = self.bits_stored
        low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if self.signed else (0, 2**bits - 1)
        if low <= cells.min() and cells.max() <= high:
            return cells  # stored values already (as pydicom gives native and RLE data): no int64 copy
        return over_bits_stored(cells.astype(np.int64), bits, self.signed)

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


def over_bits_stored(values: Cells, bits: int, signed: bool) -> Cells:
    """Integers (an int, or an int64 array) read over ``bits`` (Bits Stored, 1..32): their low ``bits``
    bits, negative when ``signed`` and the top one is set. PS3.5 8.1.1: a stored value is Bits Stored wide,
    its sign bit at the High Bit, and the bits above it are not part of it. The one reading of the module:
    decoded cells (``GrayDisplay.stored``) and padding values (``_as_stored``) alike."""
    field = values & (2**bits - 1)
    return field - (field >= 2 ** (bits - 1)) * 2**bits if signed else field


def _stored_format(dataset: Dataset) -> tuple[int, bool]:
    """(Bits Stored, signed): the width of a stored value, 0 when Bits Stored is missing, unreadable or not
    1..32 (no integer cell is wider), and whether Pixel Representation says two's complement."""
    try:
        bits = int(dataset.get("BitsStored") or 0)
        signed = int(dataset.get("PixelRepresentation") or 0) == 1
    except Exception:
        return 0, False
    return (bits if 1 <= bits <= 32 else 0), signed


def _as_stored(dataset: Dataset, value: int) -> int:
    """A padding value or limit as the stored pixel value it names, whichever of US or SS it was written in.

    Both are stored pixel values (PS3.3 C.7.5.1.1.2: "valid values within the constraints defined by Bits
    Allocated, Bits Stored, and High Bit", corresponding to "a value in the original stored pixel data,
    before the Modality LUT"), so the value is read over Bits Stored, not Bits Allocated, as the decoded
    cells are (``over_bits_stored``): junk high bits are dropped alike, US 63536 (0xF830, a signed 16-bit
    -2000 read unsigned) and US 2096 (0x830, the 12-bit field alone) are both -2000 in a signed 12-bit
    file, as the pixels they pad are, and 65535 is 4095 in an unsigned 12-bit one. Without a Bits Stored of
    1..16 (past 16, no US or SS value reaches its sign bit) the value is kept as written."""
    bits, signed = _stored_format(dataset)
    return over_bits_stored(value, bits, signed) if 1 <= bits <= 16 else value


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
