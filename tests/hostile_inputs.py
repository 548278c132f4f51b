"""The table of hostile and malformed uploads: each case's request body and the answer it must get.

One list, ``CASES``, used three ways: ``tests/unit/test_hostile_inputs.py`` posts every body to the app
and checks status, error code, message and memory; ``bench/reliability_table.py`` writes it into
docs/reliability.md as a table; the test checks that the document still shows this table.

Bodies are built at test time from a real radiograph of the shared data and pydicom's bundled test
files; nothing here is a stored binary fixture. Builders are cached: a few bodies take a second to make.
"""

from __future__ import annotations

import base64
import io
import json
import random
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

from function.settings import DEFAULT_MAX_UPLOAD_BYTES
from tests.upload_samples import (
    COVID_RADIOGRAPH,
    b64,
    data_url,
    dicom,
    dicom_palette,
    encode,
    gray_of,
    jpeg_cmyk,
    jpeg_exif_rotated,
    jpeg_plain,
    png_16bit,
    png_claiming,
    png_palette,
    png_rgba,
)

READING = "reading"
"""The expected ``code`` of a case that must be read: 200 with a result (diagnosis, not_chest_xray...)."""
AT_PIXEL_LIMIT = 7071
"""Side of the largest square image accepted (7071^2 is just under image_limits.MAX_PIXELS, 50 megapixels)."""

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"<!doctype html><html><body><script>fetch('/steal?c='+document.cookie)</script></body></html>"
TEXT = b"hello world, this is text and not an image\n" * 20


@dataclass(frozen=True)
class Case:
    """One hostile upload: how its body is made and what the service must answer."""

    name: str
    body: str
    """How the request body is built, for people (the docs table)."""
    build: Callable[[], bytes]
    status: int
    code: str
    """The error code expected, or ``READING`` for a 200 with a reading."""
    fragment: str = ""
    """Text the error message must contain (empty: only the code is checked)."""


# ---------------------------------------------------------------- body builders


def json_body(payload: object) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def image_field(value: object) -> Callable[[], bytes]:
    return lambda: json_body({"image": value() if callable(value) else value})


def upload_of(make_file: Callable[[], bytes]) -> Callable[[], bytes]:
    """A body carrying the file made by ``make_file``, base64-encoded in ``image``."""
    return lambda: json_body({"image": b64(make_file())})


@cache
def radiograph() -> bytes:
    return COVID_RADIOGRAPH.read_bytes()


@cache
def gray() -> np.ndarray:
    return gray_of(COVID_RADIOGRAPH)


def pydicom_file(name: str) -> Callable[[], bytes]:
    def read() -> bytes:
        from pydicom.data import get_testdata_file

        path = get_testdata_file(name)  # bundled with pydicom: no download
        assert path is not None, f"{name} is not among pydicom's bundled test files"
        return Path(path).read_bytes()

    return read


def seeded_bytes(count: int, seed: int = 5) -> bytes:
    return random.Random(seed).randbytes(count)


def zip_file() -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("radiograph.png", radiograph())
    return buffer.getvalue()


def animated_gif() -> bytes:
    frames = [Image.fromarray(np.roll(gray(), shift, axis=1)) for shift in (0, 20, 40)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buffer.getvalue()


def multipage_tiff() -> bytes:
    buffer = io.BytesIO()
    pages = [Image.fromarray(gray()), Image.fromarray(255 - gray())]
    pages[0].save(buffer, format="TIFF", save_all=True, append_images=pages[1:])
    return buffer.getvalue()


def jpeg_progressive() -> bytes:
    return encode(Image.fromarray(gray()), "JPEG", quality=90, progressive=True)


def jpeg_scan_bomb(side: int = 7000, scans: int = 20_000) -> bytes:
    """A real progressive ``side`` x ``side`` JPEG followed by ``scans`` more, each a valid AC scan that
    codes every block as empty (end-of-band runs): tiny on the wire, but libjpeg walks all 766,000 blocks
    of a 7000x7000 image on every one (about 3.3 ms a scan here, unrefused)."""
    buffer = io.BytesIO()
    Image.new("L", (side, side)).save(buffer, "JPEG", progressive=True)
    image = buffer.getvalue()[:-2]  # without its end-of-image marker
    huffman = b"\xff\xc4\x00\x14\x10" + bytes([1] + [0] * 15) + b"\xe0"  # one code: EOBRUN of 2^14
    scan_header = b"\xff\xda\x00\x08\x01\x01\x00\x01\x3f\x00"  # component 1, coefficients 1-63
    blocks = ((side + 7) // 8) ** 2
    bits = ("0" + "1" * 14) * -(-blocks // 32767)  # each code, then 14 bits: a run of 32767 blocks
    bits += "1" * (-len(bits) % 8)
    coded = b"".join(
        bytes([value]) + (b"\x00" if value == 0xFF else b"")  # a 0xFF byte is stuffed with 0x00
        for value in (int(bits[i : i + 8], 2) for i in range(0, len(bits), 8))
    )
    return image + huffman + (scan_header + coded) * scans + b"\xff\xd9"


def tiff_of_radiograph() -> bytes:
    return encode(Image.fromarray(gray()), "TIFF")


def _first_ifd_next_pointer(tiff: bytes) -> int:
    """Where a little-endian TIFF's first page says where the next page is."""
    first = struct.unpack("<I", tiff[4:8])[0]
    entries = struct.unpack("<H", tiff[first : first + 2])[0]
    return first + 2 + 12 * entries


def tiff_next_page_beyond_the_end() -> bytes:
    """The radiograph as a TIFF whose first page points to a second page past the end of the file."""
    tiff = bytearray(tiff_of_radiograph())
    pointer = _first_ifd_next_pointer(bytes(tiff))
    tiff[pointer : pointer + 4] = struct.pack("<I", len(tiff) + 4096)
    return bytes(tiff)


def tiff_chained_pages(pages: int) -> bytes:
    """The radiograph as a TIFF followed by ``pages`` more pages of 5 tags each, chained one to the next."""
    tiff = bytearray(tiff_of_radiograph())
    pointer = _first_ifd_next_pointer(bytes(tiff))
    tags = [(256, 4, 1, 8), (257, 4, 1, 8), (258, 3, 1, 8), (262, 3, 1, 1), (273, 4, 1, 8)]
    page = struct.pack("<H", len(tags)) + b"".join(struct.pack("<HHII", *tag) for tag in tags)
    tiff[pointer : pointer + 4] = struct.pack("<I", len(tiff))
    for number in range(pages):
        following = len(tiff) + len(page) + 4 if number < pages - 1 else 0
        tiff += page + struct.pack("<I", following)
    return bytes(tiff)


def dicom_with_syntax_text(text: bytes) -> bytes:
    """A DICOM of the radiograph whose file meta names ``text`` (20 bytes) as its transfer syntax UID."""
    written = dicom(gray())
    explicit_little_endian = b"1.2.840.10008.1.2.1\x00"
    assert len(text) == len(explicit_little_endian) and explicit_little_endian in written
    return written.replace(explicit_little_endian, text, 1)


def png_with_broken_crc() -> bytes:
    data = bytearray(radiograph())
    start = data.index(b"IDAT") + 4
    data[start + 10] ^= 0xFF  # one flipped byte inside the compressed pixels: the chunk's CRC fails
    return bytes(data)


def png_blank(width: int, height: int, mode: str = "L") -> bytes:
    """A real, valid PNG of a black image (compresses to almost nothing whatever its size)."""
    return encode(Image.new(mode, (width, height)), "PNG", compress_level=1)


@cache
def dicom_rle_blank(side: int, samples: int = 1) -> bytes:
    """A valid 16-bit RLE Lossless DICOM of a black ``side`` x ``side`` image (about 1.6 MB at 7071),
    gray or, with ``samples=3``, RGB.

    Written by hand (each row is PackBits runs of zeros) because pydicom's encoder takes seconds here.
    """
    from pydicom.encaps import encapsulate
    from pydicom.filereader import dcmread
    from pydicom.uid import RLELossless

    runs = [128] * (side // 128) + ([side % 128] if side % 128 else [])
    row = b"".join(bytes([257 - run, 0]) if run > 1 else b"\x00\x00" for run in runs)
    segment = row * side
    segment += b"\x00" * (len(segment) % 2)
    count = 2 * samples  # one segment per byte of each sample
    offsets = [64 + number * len(segment) for number in range(count)]
    header = struct.pack("<16I", count, *offsets, *([0] * (15 - count)))
    dataset = dcmread(io.BytesIO(dicom(np.zeros((8, 8), np.uint8))))  # the DX dataset of every DICOM here
    if samples == 3:
        dataset.SamplesPerPixel, dataset.PlanarConfiguration = 3, 0
        dataset.PhotometricInterpretation = "RGB"
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return _with_pixel_data(buffer.getvalue(), side, encapsulate([header + segment * count]), RLELossless)


def dicom_jpeg2000_claiming(side: int) -> bytes:
    """A 64x64 JPEG 2000 DICOM whose codestream header (SIZ) is edited to claim ``side`` x ``side``."""
    from pydicom.encaps import encapsulate, generate_frames
    from pydicom.filereader import dcmread
    from pydicom.uid import JPEG2000Lossless

    small = dcmread(io.BytesIO(pydicom_file("MR_small_jp2klossless.dcm")()))
    frame = bytearray(next(generate_frames(small.PixelData, number_of_frames=1)))
    siz = frame.index(b"\xff\x51")
    frame[siz + 6 : siz + 14] = struct.pack(">II", side, side)  # Xsiz, Ysiz
    template = dicom(np.zeros((64, 64), np.uint8))
    return _with_pixel_data(template, 64, encapsulate([bytes(frame)]), JPEG2000Lossless)


def _with_pixel_data(template: bytes, side: int, pixel_data: bytes, syntax: str) -> bytes:
    from pydicom.filereader import dcmread

    dataset = dcmread(io.BytesIO(template))
    dataset.file_meta.TransferSyntaxUID = syntax
    dataset.Rows = dataset.Columns = side
    dataset.PixelData = pixel_data
    dataset["PixelData"].VR = "OB"
    dataset["PixelData"].is_undefined_length = True
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def dicom_deflate_bomb(inflated_mib: int = 512) -> bytes:
    """A DICOM whose deflated dataset (transfer syntax ...1.2.1.99) inflates to ``inflated_mib`` of zeros."""
    from pydicom.filereader import dcmread
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    dataset = dcmread(io.BytesIO(dicom(np.zeros((8, 8), np.uint8))))
    dataset.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    written = buffer.getvalue()
    meta_end = 144 + struct.unpack("<I", written[140:144])[0]  # (0002,0000) group length
    meta = written[:meta_end]  # the file meta, then our deflate stream instead of the real dataset
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = bytes(1 << 20)
    return meta + b"".join(compressor.compress(block) for _ in range(inflated_mib)) + compressor.flush()


def dicom_damaged_after_preamble() -> bytes:
    return bytes(128) + b"DICM" + seeded_bytes(4000)


def base64_with_line_breaks() -> bytes:
    encoded = base64.encodebytes(radiograph()).decode("ascii")  # MIME style: a line break every 76
    return json_body({"image": encoded})


def base64_urlsafe_unpadded() -> bytes:
    return json_body({"image": base64.urlsafe_b64encode(radiograph()).decode("ascii").rstrip("=")})


def with_other_fields(**fields: object) -> Callable[[], bytes]:
    return lambda: json_body({"image": b64(radiograph()), **fields})


def huge_other_field(characters: int) -> Callable[[], bytes]:
    return lambda: json_body({"image": b64(radiograph()), "comment": "x" * characters})


# ---------------------------------------------------------------- the table

RADIOGRAPH = "a real 128x128 radiograph (PNG)"

CASES: tuple[Case, ...] = (
    # --- the request body
    Case("empty-body", "no bytes at all", lambda: b"", 400, "empty_body", "body is empty"),
    Case("blank-body", "spaces and a newline", lambda: b"   \n", 400, "empty_body", "body is empty"),
    Case("not-json", "the text `not json`", lambda: b"not json", 400, "invalid_json", "not valid JSON"),
    Case(
        "truncated-json",
        '`{"image": "abc"` (no closing brace)',
        lambda: b'{"image": "abc"',
        400,
        "invalid_json",
    ),
    Case("not-utf8", "bytes that are not UTF-8", lambda: b"\xff\xfe\x00garbage", 400, "invalid_json"),
    Case(
        "deep-nesting",
        "100,000 `[`: nesting past the parser's recursion limit",
        lambda: b"[" * 100_000,
        400,
        "invalid_json",
    ),
    Case(
        "huge-number",
        "a 5,000-digit integer in another field (over Python's int parsing limit)",
        lambda: b'{"image": "", "n": ' + b"9" * 5000 + b"}",
        400,
        "invalid_json",
    ),
    Case("json-null", "`null`", lambda: b"null", 422, "invalid_request", "must be a JSON object"),
    Case("json-array", "`[]`", lambda: b"[]", 422, "invalid_request", "must be a JSON object"),
    Case(
        "json-string", '`"just a string"`', lambda: b'"just a string"', 422, "invalid_request", "JSON object"
    ),
    Case("no-image", "`{}`", lambda: b"{}", 422, "invalid_request", "'image' is missing"),
    Case(
        "wrong-key",
        f'`{{"picture": ...}}` holding {RADIOGRAPH}',
        lambda: json_body({"picture": b64(radiograph())}),
        422,
        "invalid_request",
        "'image' is missing",
    ),
    Case("image-number", "`image` is 12345", image_field(12345), 422, "invalid_request", "must be a string"),
    Case("image-null", "`image` is null", image_field(None), 422, "invalid_request", "must be a string"),
    Case(
        "image-list",
        "`image` is a list of strings",
        image_field(["a", "b"]),
        422,
        "invalid_request",
        "must be a string",
    ),
    Case(
        "image-object",
        "`image` is an object",
        image_field({"data": "x"}),
        422,
        "invalid_request",
        "must be a string",
    ),
    Case("image-bool", "`image` is true", image_field(True), 422, "invalid_request", "must be a string"),
    Case(
        "explain-not-bool",
        f'{RADIOGRAPH} with `"explain": "yes"`',
        lambda: json_body({"image": b64(radiograph()), "explain": "yes"}),
        422,
        "invalid_request",
    ),
    # --- the image field: base64 and data URLs
    Case("image-empty", '`image` is ""', image_field(""), 400, "undecodable_image", "empty"),
    Case(
        "base64-symbols", '`image` is "!!!!"', image_field("!!!!"), 400, "invalid_base64", "not valid base64"
    ),
    Case(
        "base64-length",
        '`image` is "abcde" (a length no base64 has)',
        image_field("abcde"),
        400,
        "invalid_base64",
        "length is impossible",
    ),
    Case(
        "base64-unicode",
        '`image` is "ñandú"',
        image_field("ñandú"),
        400,
        "invalid_base64",
        "a character other than",
    ),
    Case(
        "base64-no-break-space",
        "the radiograph's base64 with a no-break space (U+00A0) in the middle, as a copy from a web page has",
        image_field(lambda: b64(radiograph())[:100] + "\u00a0" + b64(radiograph())[100:]),
        400,
        "invalid_base64",
        "a character other than",
    ),
    Case(
        "base64-inner-junk",
        "base64 with an `@` in the middle",
        image_field("aGVsbG8@d29ybGQ="),
        400,
        "invalid_base64",
    ),
    Case(
        "data-url-no-comma",
        "`data:image/png;base64` (no comma, no data)",
        image_field("data:image/png;base64"),
        400,
        "invalid_data_url",
        "malformed",
    ),
    Case(
        "data-url-not-base64",
        "`data:image/png,...` (not base64-encoded)",
        image_field("data:image/png,iVBORw0KGgo="),
        400,
        "invalid_data_url",
        "must be base64",
    ),
    Case(
        "data-url-long-header",
        "a data URL whose header is 300 characters",
        image_field("data:" + "a" * 300 + ";base64,AAAA"),
        400,
        "invalid_data_url",
    ),
    Case(
        "data-url-html",
        "an HTML page with a script as `data:text/html;base64,...`",
        image_field(lambda: data_url(HTML, "text/html")),
        415,
        "unsupported_media_type",
        "(text/html)",
    ),
    Case(
        "data-url-pdf",
        "a PDF as `data:application/pdf;base64,...`",
        image_field(lambda: data_url(PDF, "application/pdf")),
        415,
        "unsupported_media_type",
    ),
    Case(
        "data-url-wrong-mime",
        f"{RADIOGRAPH} declared as `data:text/plain`",
        image_field(lambda: data_url(radiograph(), "text/plain")),
        415,
        "unsupported_media_type",
        "declared as something other than an image",
    ),
    Case(
        "data-url-script-mime",
        "a data URL whose type is `<script>alert(1)</script>` (not echoed)",
        image_field(lambda: data_url(radiograph(), "<script>alert(1)</script>")),
        415,
        "unsupported_media_type",
        "declared as something other than an image.",
    ),
    Case(
        "data-url-svg",
        "an SVG with a script as `data:image/svg+xml` (the content decides)",
        image_field(lambda: data_url(SVG, "image/svg+xml")),
        415,
        "unsupported_media_type",
        "not an image we can read",
    ),
    Case(
        "data-url-image-no-subtype",
        f"{RADIOGRAPH} declared as `data:image` (no subtype: the content decides)",
        image_field(lambda: data_url(radiograph(), "image")),
        200,
        READING,
    ),
    Case(
        "data-url-jpeg-holding-png",
        f"{RADIOGRAPH} declared as `data:image/jpeg`",
        image_field(lambda: data_url(radiograph(), "image/jpeg")),
        200,
        READING,
    ),
    Case(
        "base64-line-breaks",
        f"{RADIOGRAPH}, MIME base64 with a line break every 76 characters",
        base64_with_line_breaks,
        200,
        READING,
    ),
    Case(
        "base64-urlsafe",
        f"{RADIOGRAPH}, URL-safe base64 without padding",
        base64_urlsafe_unpadded,
        200,
        READING,
    ),
    # --- files that are not images we read
    Case(
        "random-bytes",
        "2,048 random bytes",
        upload_of(lambda: seeded_bytes(2048)),
        415,
        "unsupported_media_type",
        "not an image we can read",
    ),
    Case("text", "plain text", upload_of(lambda: TEXT), 415, "unsupported_media_type"),
    Case("html-script", "an HTML page with a script", upload_of(lambda: HTML), 415, "unsupported_media_type"),
    Case("svg-script", "an SVG with a script", upload_of(lambda: SVG), 415, "unsupported_media_type"),
    Case("pdf", "a PDF", upload_of(lambda: PDF), 415, "unsupported_media_type", "PDF files are not accepted"),
    Case(
        "zip",
        "a ZIP holding the radiograph",
        upload_of(zip_file),
        415,
        "unsupported_media_type",
        "ZIP files are not accepted",
    ),
    Case(
        "elf",
        "the start of a Linux executable",
        upload_of(lambda: b"\x7fELF\x02\x01\x01" + bytes(500)),
        415,
        "unsupported_media_type",
    ),
    Case(
        "gif-animated",
        "an animated GIF (3 frames of the radiograph)",
        upload_of(animated_gif),
        415,
        "unsupported_media_type",
        "GIF files are not accepted",
    ),
    Case(
        "webp",
        "the radiograph as WebP",
        upload_of(lambda: encode(Image.fromarray(gray()), "WEBP")),
        415,
        "unsupported_media_type",
        "WEBP files are not accepted",
    ),
    # --- damaged images
    Case(
        "png-truncated",
        "the radiograph's PNG cut in half",
        upload_of(lambda: radiograph()[: len(radiograph()) // 2]),
        400,
        "undecodable_image",
        "damaged or incomplete",
    ),
    Case(
        "jpeg-truncated",
        "the first 300 bytes of a JPEG",
        upload_of(lambda: jpeg_plain(gray())[:300]),
        400,
        "undecodable_image",
        "damaged or incomplete",
    ),
    Case(
        "png-bad-crc",
        "the radiograph's PNG with one byte of pixel data flipped",
        upload_of(png_with_broken_crc),
        400,
        "undecodable_image",
    ),
    Case(
        "bmp-header-only", "`BM` and zeros", upload_of(lambda: b"BM" + bytes(300)), 400, "undecodable_image"
    ),
    Case(
        "tiff-header-only",
        "`II*\\0` and zeros",
        upload_of(lambda: b"II*\x00" + bytes(300)),
        400,
        "undecodable_image",
    ),
    # --- sizes
    Case(
        "png-claims-30000",
        "a 101-byte PNG whose header claims 30000x30000 (refused before decoding)",
        upload_of(lambda: png_claiming(30_000, 30_000)),
        413,
        "image_too_large",
        "too large",
    ),
    Case(
        "png-claims-9000",
        "a 101-byte PNG whose header claims 9000x9000 (81 megapixels)",
        upload_of(lambda: png_claiming(9_000, 9_000)),
        413,
        "image_too_large",
        "megapixels",
    ),
    Case(
        "png-over-pixel-limit",
        "a valid 8000x8000 black PNG (64 megapixels in 60 KB)",
        upload_of(lambda: png_blank(8000, 8000)),
        413,
        "image_too_large",
    ),
    Case(
        "png-too-wide",
        "a valid 17000x8 PNG (wider than 16,384)",
        upload_of(lambda: png_blank(17_000, 8)),
        413,
        "image_too_large",
    ),
    Case("png-1x1", "a 1x1 PNG", upload_of(lambda: png_blank(1, 1)), 400, "image_too_small", "1x1"),
    Case(
        "png-7x7",
        "a 7x7 PNG (the gate's SSIM window is 7)",
        upload_of(lambda: png_blank(7, 7)),
        400,
        "image_too_small",
    ),
    Case(
        "over-upload-limit",
        "PNG magic and random bytes, 1 byte over the 4.5 MB limit",
        upload_of(lambda: b"\x89PNG\r\n\x1a\n" + seeded_bytes(DEFAULT_MAX_UPLOAD_BYTES - 7)),
        413,
        "payload_too_large",
        "4.5 MB",
    ),
    Case(
        "image-10mb-string",
        "`image` is 10,000,000 `A`s",
        image_field(lambda: "A" * 10_000_000),
        413,
        "payload_too_large",
    ),
    # --- storage variants that must be read
    Case(
        "png-16-bit",
        "the radiograph as a 16-bit grayscale PNG",
        upload_of(lambda: png_16bit(gray())),
        200,
        READING,
    ),
    Case("png-rgba", "the radiograph as RGBA", upload_of(lambda: png_rgba(gray())), 200, READING),
    Case(
        "png-palette", "the radiograph as a palette PNG", upload_of(lambda: png_palette(gray())), 200, READING
    ),
    Case("jpeg-cmyk", "the radiograph as a CMYK JPEG", upload_of(lambda: jpeg_cmyk(gray())), 200, READING),
    Case(
        "jpeg-progressive", "the radiograph as a progressive JPEG", upload_of(jpeg_progressive), 200, READING
    ),
    Case(
        "jpeg-scan-bomb",
        "a progressive 7000x7000 JPEG with 20000 more empty scans (1.7 MB; each scan walks every block)",
        upload_of(jpeg_scan_bomb),
        400,
        "undecodable_image",
        "20,006 scans",
    ),
    Case(
        "jpeg-exif-rotated",
        "the radiograph stored on its side with EXIF Orientation 6",
        upload_of(lambda: jpeg_exif_rotated(gray())),
        200,
        READING,
    ),
    Case("tiff-multipage", "a 2-page TIFF (the first page is read)", upload_of(multipage_tiff), 200, READING),
    Case(
        "tiff-next-page-beyond-end",
        "the radiograph as a TIFF whose next-page pointer leads past the end of the file (only the first "
        "page is read, the others not even counted)",
        upload_of(tiff_next_page_beyond_the_end),
        200,
        READING,
    ),
    Case(
        "tiff-60000-pages",
        "the radiograph as a TIFF chained to 60000 more 5-tag pages (4 MB; counting them took 20 s)",
        upload_of(lambda: tiff_chained_pages(60_000)),
        200,
        READING,
    ),
    Case(
        "png-16-bit-at-limit",
        "a black 7071x7071 16-bit PNG (50 megapixels: the memory worst case)",
        upload_of(lambda: png_blank(AT_PIXEL_LIMIT, AT_PIXEL_LIMIT, "I;16")),
        200,
        READING,
    ),
    Case(
        "png-rgba-at-limit",
        "a black 7071x7071 RGBA PNG (200 MB decoded)",
        upload_of(lambda: png_blank(AT_PIXEL_LIMIT, AT_PIXEL_LIMIT, "RGBA")),
        200,
        READING,
    ),
    Case(
        "tiff-32-bit-at-limit",
        "a black 7071x7071 32-bit integer TIFF (deflate)",
        upload_of(
            lambda: encode(
                Image.new("I", (AT_PIXEL_LIMIT, AT_PIXEL_LIMIT)), "TIFF", compression="tiff_adobe_deflate"
            )
        ),
        200,
        READING,
    ),
    # --- DICOM
    Case(
        "dicom-no-pixel-data",
        "pydicom's `rtplan.dcm` (a DICOM without an image)",
        upload_of(pydicom_file("rtplan.dcm")),
        400,
        "undecodable_image",
        "no pixel data",
    ),
    Case(
        "dicom-truncated",
        "pydicom's `MR_truncated.dcm`",
        upload_of(pydicom_file("MR_truncated.dcm")),
        400,
        "undecodable_image",
    ),
    Case(
        "dicom-garbage",
        "a DICOM preamble and `DICM`, then random bytes",
        upload_of(dicom_damaged_after_preamble),
        400,
        "undecodable_image",
    ),
    Case(
        "dicom-tiff-preamble",
        "pydicom's `CT_small.dcm` (its preamble looks like a TIFF)",
        upload_of(pydicom_file("CT_small.dcm")),
        200,
        READING,
    ),
    Case(
        "dicom-rle",
        "pydicom's `MR_small_RLE.dcm` (RLE Lossless)",
        upload_of(pydicom_file("MR_small_RLE.dcm")),
        200,
        READING,
    ),
    Case(
        "dicom-jpeg2000",
        "pydicom's `MR_small_jp2klossless.dcm` (JPEG 2000, via pylibjpeg-openjpeg)",
        upload_of(pydicom_file("MR_small_jp2klossless.dcm")),
        200,
        READING,
    ),
    Case(
        "dicom-jpeg-rgb",
        "pydicom's `SC_rgb_jpeg.dcm` (JPEG baseline, RGB)",
        upload_of(pydicom_file("SC_rgb_jpeg.dcm")),
        200,
        READING,
    ),
    Case(
        "dicom-jpeg-ls",
        "pydicom's `MR_small_jpeg_ls_lossless.dcm` (JPEG-LS: no decoder installed)",
        upload_of(pydicom_file("MR_small_jpeg_ls_lossless.dcm")),
        415,
        "unsupported_media_type",
        "(JPEG-LS Lossless Image Compression) is not supported",
    ),
    Case(
        "dicom-syntax-markup",
        "a DICOM whose transfer syntax UID is `<script>1</script>` (never echoed or logged)",
        upload_of(lambda: dicom_with_syntax_text(b"<script>1</script>\x00\x00")),
        415,
        "unsupported_media_type",
        "an unknown transfer syntax",
    ),
    Case(
        "dicom-deflated",
        "pydicom's `image_dfl.dcm` (Deflated Explicit VR Little Endian)",
        upload_of(pydicom_file("image_dfl.dcm")),
        415,
        "unsupported_media_type",
        "Deflate-compressed",
    ),
    Case(
        "dicom-deflate-bomb",
        "a 0.5 MB deflated DICOM that would inflate to 512 MB",
        upload_of(dicom_deflate_bomb),
        415,
        "unsupported_media_type",
        "Deflate-compressed",
    ),
    Case(
        "dicom-jpeg2000-size-lie",
        "a 64x64 JPEG 2000 DICOM whose codestream claims 12000x12000",
        upload_of(lambda: dicom_jpeg2000_claiming(12_000)),
        400,
        "undecodable_image",
        "its header says 64x64",
    ),
    Case(
        "dicom-monochrome1",
        "the radiograph as an inverted (MONOCHROME1) 12-bit DICOM",
        upload_of(lambda: dicom(gray(), photometric="MONOCHROME1", window=(2048, 4096))),
        200,
        READING,
    ),
    Case(
        "dicom-palette-color",
        "the radiograph as an 8-bit PALETTE COLOR DICOM (gray lookup tables)",
        upload_of(lambda: dicom_palette(gray())),
        200,
        READING,
    ),
    Case(
        "dicom-palette-short-table",
        "a PALETTE COLOR DICOM whose lookup tables hold 16 of the 256 entries they declare",
        upload_of(lambda: dicom_palette(gray(), stored_entries=16)),
        400,
        "undecodable_image",
        "palette cannot be read",
    ),
    Case(
        "dicom-rle-at-limit",
        "a black 7071x7071 16-bit RLE DICOM (1.6 MB, 100 MB decoded)",
        upload_of(lambda: dicom_rle_blank(AT_PIXEL_LIMIT)),
        200,
        READING,
    ),
    Case(
        "dicom-rgb-16-bit-at-frame-limit",
        "a black 5000x5000 16-bit RGB RLE DICOM (2.3 MB, 150 MB decoded: the frame limit)",
        upload_of(lambda: dicom_rle_blank(5000, samples=3)),
        200,
        READING,
    ),
    Case(
        "dicom-rgb-16-bit-over-frame-limit",
        "a black 6500x6500 16-bit RGB RLE DICOM (4 MB; 254 MB decoded raised the peak memory by 525 MiB)",
        upload_of(lambda: dicom_rle_blank(6500, samples=3)),
        413,
        "image_too_large",
        "254 MB decoded",
    ),
    # --- other fields
    Case(
        "unicode-fields",
        f"{RADIOGRAPH} plus fields with emoji, right-to-left marks, NUL and CJK names",
        with_other_fields(nota="ñandú 🫁 \u202egnp.exe\u0000", 名前="レントゲン", **{"\u202e": "\ud7ff"}),
        200,
        READING,
    ),
    Case(
        "1mb-other-field",
        f"{RADIOGRAPH} plus a 1,000,000-character `comment`",
        huge_other_field(1_000_000),
        200,
        READING,
    ),
    Case(
        "10mb-other-field",
        f"{RADIOGRAPH} plus a 10,000,000-character `comment`",
        huge_other_field(10_000_000),
        413,
        "payload_too_large",
    ),
    Case(
        "10mb-unicode-field",
        f"{RADIOGRAPH} plus 2,500,000 `🫁` (10 MB of UTF-8) in `comment`",
        with_other_fields(comment="🫁" * 2_500_000),
        413,
        "payload_too_large",
    ),
)
