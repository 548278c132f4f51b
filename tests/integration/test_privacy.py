"""Privacy and HTTP hygiene of the running service: `python -m infra.local_stack` in a process of its own.

The server runs with every logger at DEBUG (root, uvicorn, the app's own) and its stdout and stderr
captured, a Python audit hook reporting every file it opens for writing, and empty directories as its
working directory, TMPDIR and HOME. After a run of real uploads (radiographs, a photo, a DICOM, a PDF,
damaged and oversized files, a heatmap request) the test proves:

- no slice of any upload (raw bytes, their Python repr, hex or base64) is in the logs or in an answer;
- nothing was written to disk: no write-open after the first upload, the three directories still empty,
  and no file under the repo or the temporary directories changed since then holds a slice of an upload;
- no response has a ``server`` header or names the software behind it;
- CORS answers only the configured origin (a preflight from another origin gets no
  Access-Control-Allow-Origin).

Each check is shown to be able to fail: the audit hook must report a canary file the wrapper writes at
startup, and the disk scan must find a planted copy of an upload slice.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import numpy as np
import pytest
from PIL import Image

from infra.locations import REPO_ROOT
from infra.ports import free_port
from tests.upload_samples import COVID_RADIOGRAPH, NORMAL_RADIOGRAPH, PHOTO, dicom, encode, gray_of, png_16bit

ALLOWED_ORIGIN = "https://screening.example.org"
OTHER_ORIGIN = "https://attacker.example.com"
SCANNED_ROOTS = (REPO_ROOT, Path(tempfile.gettempdir()), Path("/var/tmp"), Path("/dev/shm"))
LARGEST_SCANNED_FILE = 64 * 1024 * 1024

WRAPPER = r"""
import logging, os, sys, time

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

def report_writes(event, args):
    # Every file this process opens for writing (Python-level opens: Pillow, pydicom, tempfile...).
    if event == "open" and len(args) >= 3:
        path, mode, flags = args[0], args[1], args[2]
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & WRITE_FLAGS
        )
        if writing and path is not None:
            sys.stderr.write(f"AUDIT-WRITE {time.time():.6f} {path!r}\n")
    elif event in ("os.mkdir", "os.rename", "os.replace", "os.remove", "os.truncate"):
        sys.stderr.write(f"AUDIT-WRITE {time.time():.6f} {event} {args[0]!r}\n")

sys.addaudithook(report_writes)
with open(os.path.join(os.environ["TMPDIR"], "canary"), "w") as canary:  # proves the hook reports
    canary.write("x")
os.remove(os.path.join(os.environ["TMPDIR"], "canary"))
logging.basicConfig(
    level=logging.DEBUG, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s %(message)s"
)
from infra.local_stack import main
sys.exit(main(sys.argv[1:]))
"""


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    directories: dict[str, Path]
    output: bytearray = field(default_factory=bytearray)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def read_output(self, stream: object) -> None:
        for line in iter(stream.readline, b""):  # type: ignore[attr-defined]
            with self._lock:
                self.output += line

    def log(self) -> bytes:
        with self._lock:
            return bytes(self.output)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[Server]:
    directories = {name: tmp_path_factory.mktemp(name) for name in ("cwd", "tmpdir", "home")}
    port = free_port()
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "CXR_", "PYTHON"))
    }
    environment.update(
        PYTHONPATH=str(REPO_ROOT),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        TMPDIR=str(directories["tmpdir"]),
        HOME=str(directories["home"]),
        CXR_LOG_LEVEL="DEBUG",
        CXR_ALLOWED_ORIGINS=ALLOWED_ORIGIN,
    )
    process = subprocess.Popen(
        [sys.executable, "-c", WRAPPER, "--port", str(port), "--log-level", "debug"],
        cwd=directories["cwd"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    running = Server(f"http://127.0.0.1:{port}", process, directories)
    reader = threading.Thread(target=running.read_output, args=(process.stdout,), daemon=True)
    reader.start()
    try:
        for _ in range(600):
            if process.poll() is not None:
                pytest.fail(f"the server exited: {running.log()[-3000:].decode(errors='replace')}")
            try:
                if httpx2.get(f"{running.url}/health", timeout=5).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            time.sleep(0.1)
        else:
            pytest.fail("the server did not become healthy within 60 s")
        yield running
    finally:
        process.terminate()  # SIGTERM: uvicorn shuts down, then the S3 server
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=10)


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes
    body: bytes

    def fingerprints(self) -> list[bytes]:
        """Slices that would betray the upload in a log or a file, in every form it could be written."""
        middle = len(self.data) // 2
        raw = self.data[middle : middle + 32]
        encoded = base64.b64encode(self.data).decode("ascii")
        centre = len(encoded) // 2
        prints = [
            raw,
            repr(raw)[2:34].encode(),  # a logged bytes object
            raw.hex().encode()[:48],
            encoded[centre : centre + 32].encode(),
            encoded[40:72].encode(),
        ]
        return [p for p in prints if len(p) >= 16 and p.strip(b"\x00 A") != b""]


def _unique(gray: np.ndarray) -> np.ndarray:
    """The picture with random least significant bits: the same reading, bytes found nowhere else."""
    return gray ^ np.random.default_rng().integers(0, 2, gray.shape, dtype=np.uint8)


def _dicom_with_text(gray: np.ndarray) -> bytes:
    """A DICOM whose header holds a name and an unknown character set: pydicom warns about the latter by
    quoting it, so the text would reach the log if warnings were printed as they come."""
    import io

    import pydicom

    dataset = pydicom.dcmread(io.BytesIO(dicom(gray)))
    dataset.PatientName = "SECRET^DICOM^NAME"
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # this (test) process's own warnings about the value
        warnings.simplefilter("ignore")
        dataset.SpecificCharacterSet = "SECRET-CHARSET-1618"
        dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _uploads() -> list[Upload]:
    """Real pictures made unique to this run, so a fingerprint found on disk can only come from here."""
    covid, normal = _unique(gray_of(COVID_RADIOGRAPH)), _unique(gray_of(NORMAL_RADIOGRAPH))
    radiograph = encode(Image.fromarray(covid), "PNG")
    with Image.open(PHOTO) as photo:
        photo_jpeg = encode(Image.fromarray(_unique(np.asarray(photo.convert("RGB")))), "JPEG", quality=95)
    pdf = b"%PDF-1.4\n% patient: SECRET-PATIENT-NAME-31415\n" + os.urandom(2000)
    files = {
        "radiograph": (radiograph, {}),
        "radiograph-explained": (encode(Image.fromarray(normal), "PNG"), {"explain": True}),
        "photo": (photo_jpeg, {}),
        "dicom": (dicom(normal), {}),
        "dicom-with-text": (_dicom_with_text(normal), {}),
        "png-16-bit": (png_16bit(normal), {}),
        "pdf": (pdf, {}),
        "truncated": (radiograph[: len(radiograph) // 2], {}),
        "random": (os.urandom(5000), {}),
    }
    uploads = [
        Upload(name, data, json.dumps({"image": base64.b64encode(data).decode(), **extra}).encode())
        for name, (data, extra) in files.items()
    ]
    secret_text = b"SECRET-FREE-TEXT-2718281828, not base64 at all! " * 3
    uploads.append(Upload("not-base64", secret_text, json.dumps({"image": secret_text.decode()}).encode()))
    oversized = os.urandom(4_600_000)
    uploads.append(
        Upload("oversized", oversized, json.dumps({"image": base64.b64encode(oversized).decode()}).encode())
    )
    return uploads


@pytest.fixture(scope="module")
def run(server: Server) -> tuple[float, list[Upload], list[httpx2.Response]]:
    """Post every upload once; returns when the first upload was sent, the uploads and the answers."""
    uploads = _uploads()
    started = time.time()
    answers = []
    with httpx2.Client(base_url=server.url, timeout=60) as client:
        for upload in uploads:
            answers.append(
                client.post("/diagnose", content=upload.body, headers={"content-type": "application/json"})
            )
    time.sleep(0.5)  # let the last log lines reach the pipe
    return started, uploads, answers


def test_the_uploads_were_answered(run: tuple[float, list[Upload], list[httpx2.Response]]) -> None:
    _, uploads, answers = run
    statuses = {upload.name: answer.status_code for upload, answer in zip(uploads, answers, strict=True)}
    assert statuses == {
        "radiograph": 200,
        "radiograph-explained": 200,
        "photo": 200,
        "dicom": 200,
        "dicom-with-text": 200,
        "png-16-bit": 200,
        "pdf": 415,
        "truncated": 400,
        "random": 415,
        "not-base64": 400,
        "oversized": 413,
    }


def test_no_upload_reaches_the_logs(
    server: Server, run: tuple[float, list[Upload], list[httpx2.Response]]
) -> None:
    _, uploads, answers = run
    log = server.log()
    # The capture works: DEBUG lines of several loggers and one access line per upload are there.
    assert b" DEBUG botocore" in log and b"Uvicorn running on" in log
    assert log.count(b"cxr.access method=POST path=/diagnose") >= len(uploads)
    for upload in uploads:
        for fingerprint in upload.fingerprints():
            assert fingerprint not in log, f"a slice of {upload.name} is in the server's output"
    for marker in (b"SECRET-PATIENT-NAME", b"SECRET-FREE-TEXT", b"SECRET-CHARSET", b"SECRET^DICOM"):
        assert marker not in log
    for upload, answer in zip(uploads, answers, strict=True):
        for fingerprint in upload.fingerprints():
            assert fingerprint not in answer.content, f"the answer to {upload.name} echoes it"


def _write_opens_since(log: bytes, since: float) -> list[str]:
    lines = [line.decode(errors="replace") for line in log.splitlines() if line.startswith(b"AUDIT-WRITE ")]
    return [line for line in lines if float(line.split()[1]) >= since]


def _files_holding(
    fingerprints: list[bytes], since: float, roots: tuple[Path, ...] = SCANNED_ROOTS
) -> list[str]:
    """Regular files under ``roots`` modified at or after ``since`` that contain any fingerprint."""
    found = []
    for root in roots:
        for directory, _, names in os.walk(root, onerror=lambda error: None):
            for name in names:
                path = Path(directory) / name
                try:
                    status = path.lstat()
                    if not path.is_file() or status.st_mtime < since or status.st_size > LARGEST_SCANNED_FILE:
                        continue
                    content = path.read_bytes()
                except OSError:
                    continue
                if any(fingerprint in content for fingerprint in fingerprints):
                    found.append(str(path))
    return found


def test_nothing_is_written_to_disk(
    server: Server, run: tuple[float, list[Upload], list[httpx2.Response]]
) -> None:
    started, uploads, _ = run
    log = server.log()
    assert any(b"canary" in line for line in log.splitlines() if line.startswith(b"AUDIT-WRITE")), (
        "the audit hook reported nothing: it would not see a write either"
    )
    assert _write_opens_since(log, started) == []
    for name, directory in server.directories.items():
        assert list(directory.iterdir()) == [], f"the server left files in its {name}"
    fingerprints = [fingerprint for upload in uploads for fingerprint in upload.fingerprints()]
    assert _files_holding(fingerprints, started - 1) == []


def test_the_disk_scan_finds_a_planted_slice(tmp_path: Path) -> None:
    """Guards the check above: a file holding an upload's slice is found."""
    upload = _uploads()[0]
    since = time.time() - 1
    (tmp_path / "leak.bin").write_bytes(b"..." + upload.fingerprints()[3] + b"...")
    assert _files_holding(upload.fingerprints(), since, roots=(tmp_path,)) == [str(tmp_path / "leak.bin")]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/", None, 200),
        ("GET", "/health", None, 200),
        ("GET", "/openapi.json", None, 200),
        ("POST", "/diagnose", b'{"image": "!!!!"}', 400),
        ("POST", "/diagnose", b"{}", 422),
        ("GET", "/diagnose", None, 405),
        ("GET", "/no/such/page", None, 404),
    ],
)
def test_no_response_names_the_server(
    server: Server, method: str, path: str, body: bytes | None, status: int
) -> None:
    response = httpx2.request(method, server.url + path, content=body, timeout=30)
    assert response.status_code == status
    assert "server" not in response.headers and "x-powered-by" not in response.headers
    for name, value in response.headers.items():
        assert not any(word in value.lower() for word in ("uvicorn", "python", "starlette", "fastapi")), name


def test_the_page_ships_a_csp_without_inline_code(server: Server) -> None:
    response = httpx2.get(f"{server.url}/", timeout=30)
    csp = response.headers["content-security-policy"]
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert directives["script-src"] == ["'self'"] and directives["frame-ancestors"] == ["'none'"]


def test_cors_answers_only_the_configured_origin(server: Server) -> None:
    def preflight(origin: str) -> httpx2.Response:
        headers = {
            "origin": origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        }
        return httpx2.options(f"{server.url}/diagnose", headers=headers, timeout=30)

    allowed = preflight(ALLOWED_ORIGIN)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN

    refused = preflight(OTHER_ORIGIN)
    assert refused.status_code >= 400
    assert "access-control-allow-origin" not in refused.headers

    for origin, expected in ((ALLOWED_ORIGIN, ALLOWED_ORIGIN), (OTHER_ORIGIN, None)):
        response = httpx2.post(
            f"{server.url}/diagnose", content=b"{}", headers={"origin": origin}, timeout=30
        )
        assert response.headers.get("access-control-allow-origin") == expected
