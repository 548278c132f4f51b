"""What pydicom gives back for DICOM cells that carry bits above Bits Stored, per transfer syntax, and what
the decoder reads from them (function/dicom_display.py's docstring cites these figures).

    .venv/bin/python -m bench.dicom_unused_bits

12-bit fields (0x000, 0x123, 0x7FF, 0x800, 0x830, 0xFFF) under a top nibble (none, 0x5, 0xF) in 16-bit
cells, Bits Stored 12, unsigned and signed, stored uncompressed, RLE (pydicom's encoder) or in the JPEG 2000
family as one 16-bit precision codestream (``tests.upload_samples.compressed_as_is``), then JPEG baseline
(Pillow) with Bits Stored 6 of 8. Each line: the values ``pixel_array`` gives (its default plugin, or the
one named), those ``GrayDisplay.stored`` reads from them, and "OUT" where any is outside Bits Stored's range.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from tests.upload_samples import compressed_as_is, dicom

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

FIELDS = (0x000, 0x123, 0x7FF, 0x800, 0x830, 0xFFF)
NIBBLES = (0x0, 0x5, 0xF)
SIDE = 64
SYNTAXES = {
    "uncompressed": None,
    "RLE lossless": "1.2.840.10008.1.2.5",
    "JPEG 2000 lossless": "1.2.840.10008.1.2.4.90",
    "JPEG 2000": "1.2.840.10008.1.2.4.91",
    "HTJ2K lossless": "1.2.840.10008.1.2.4.201",
    "HTJ2K lossless RPCL": "1.2.840.10008.1.2.4.202",
    "HTJ2K": "1.2.840.10008.1.2.4.203",
}


def _dataset(cells: np.ndarray, bits: int, allocated: int, signed: bool) -> Dataset:
    """A DX dataset of these cells, as written (no bit of them dropped)."""
    from pydicom.filereader import dcmread

    dataset = dcmread(io.BytesIO(dicom(np.zeros(cells.shape, np.uint8))))
    dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit = allocated, bits, bits - 1
    dataset.PixelRepresentation = int(signed)
    dataset.PixelData = cells.tobytes()
    return dataset


def _line(label: str, dataset: Dataset, bits: int, signed: bool, plugin: str = "") -> str:
    """What pydicom gives for the first row and what the decoder reads from it."""
    from function.dicom_display import GrayDisplay

    dataset.pixel_array_options(index=0, decoding_plugin=plugin)
    given = np.asarray(dataset.pixel_array)
    read = GrayDisplay.of(dataset).stored(given)
    low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)

    def shown(values: np.ndarray) -> str:
        distinct = sorted({int(value) for value in values[0]})
        out = " OUT" if distinct[0] < low or distinct[-1] > high else ""
        return f"{distinct}{out}"

    return f"  {label:36} pydicom {shown(given):44} read {shown(read)}"


def main() -> None:
    import warnings

    import pydicom

    warnings.simplefilter("ignore")  # pydicom's notes on the crafted files
    print(f"pydicom {pydicom.__version__}; Bits Stored 12 in 16-bit cells, fields {list(FIELDS)}")
    columns = np.repeat(np.array(FIELDS, dtype=np.uint16), -(-SIDE // len(FIELDS)))[:SIDE]
    fields = np.tile(columns, (SIDE, 1))
    for signed in (False, True):
        expected = sorted(field - 4096 if signed and field >= 0x800 else field for field in FIELDS)
        print(f"\n{'signed' if signed else 'unsigned'}: the fields read as {expected}")
        for nibble in NIBBLES:
            cells = fields | np.uint16(nibble << 12)
            print(f" top nibble 0x{nibble:X}")
            for name, syntax in SYNTAXES.items():
                dataset = _dataset(cells, 12, 16, signed)
                if syntax is not None:
                    compressed_as_is(dataset, syntax)
                plugins = ("pylibjpeg", "pillow") if name.startswith("JPEG 2000") else ("",)
                for plugin in plugins:
                    label = f"{name} ({plugin})" if plugin else name
                    print(_line(label, dataset, 12, signed, plugin))
    print("\nJPEG baseline (Pillow, quality 100), Bits Stored 6 of 8, cells [0, 63, 64, 200, 255]")
    from pydicom.encaps import encapsulate

    cells = np.tile(np.repeat(np.array([0, 63, 64, 200, 255], np.uint8), 13)[:SIDE], (SIDE, 1))
    buffer = io.BytesIO()
    Image.fromarray(cells).save(buffer, "JPEG", quality=100, subsampling=0)
    dataset = _dataset(cells, 6, 8, False)
    dataset.PixelData = encapsulate([buffer.getvalue()])
    dataset["PixelData"].VR = "OB"
    dataset.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.50"
    print(_line("JPEG baseline", dataset, 6, False))


if __name__ == "__main__":
    main()
