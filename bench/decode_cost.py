"""Time and peak memory of decoding hostile uploads, each in a fresh process: the figures behind
docs/reliability.md's "found by review" table, for this checkout's decoder or another's.

    .venv/bin/python -m bench.decode_cost                      # this checkout's function/imaging.py
    .venv/bin/python -m bench.decode_cost --code /tmp/before   # the decoder of another checkout

The uploads are cases of tests/hostile_inputs.py (built from this checkout); only ``function`` is imported
from ``--code``, so an older decoder meets the same files. Each run gets up to ``--timeout`` seconds.
"""

from __future__ import annotations

import argparse
import base64
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.bench_cold_start import machine
from infra.locations import REPO_ROOT
from tests.hostile_inputs import CASES

DEFAULT_CASES = (
    "jpeg-scan-bomb",
    "tiff-60000-pages",
    "dicom-rgb-16-bit-at-frame-limit",
    "dicom-rgb-16-bit-over-frame-limit",
    "dicom-rle-at-limit",
)

CHILD = """
import sys, time
sys.path.insert(0, sys.argv[1])
from tests.process_memory import PeakRise
from function.imaging import ImageError, decode_grayscale
data = open(sys.argv[2], "rb").read()
with PeakRise() as peak:
    started = time.perf_counter()
    try:
        outcome = "read %dx%d" % decode_grayscale(data).shape[::-1]
    except ImageError as error:
        outcome = "%d %s" % (error.status, error.code)
    seconds = time.perf_counter() - started
print("%.3f\\t%.0f\\t%s" % (seconds, peak.mib, outcome))
"""


def upload_of_case(name: str) -> bytes:
    (case,) = [case for case in CASES if case.name == name]
    return base64.b64decode(json.loads(case.build())["image"])


def measure(code: Path, upload: bytes, timeout: float) -> tuple[str, str, str]:
    """(seconds, peak RSS rise in MiB, outcome) of one decode in a fresh interpreter."""
    with tempfile.NamedTemporaryFile(suffix=".upload") as file:
        file.write(upload)
        file.flush()
        started = time.perf_counter()
        try:
            done = subprocess.run(
                [sys.executable, "-c", CHILD, str(code), file.name],
                cwd=REPO_ROOT,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=True,
            )
        except subprocess.TimeoutExpired:
            return f"> {time.perf_counter() - started:.0f}", "-", "still decoding (stopped)"
    seconds, mib, outcome = done.stdout.strip().splitlines()[-1].split("\t")
    return seconds, mib, outcome


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.decode_cost", description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=REPO_ROOT, help="checkout whose function/ decodes")
    parser.add_argument("--case", action="append", help="a case of tests/hostile_inputs.py (repeatable)")
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    print(f"decoder: {args.code.resolve()}; {machine()}")
    print("| case | upload | seconds | peak RSS rise | outcome |\n|---|---|---|---|---|")
    for name in args.case or DEFAULT_CASES:
        upload = upload_of_case(name)
        seconds, mib, outcome = measure(args.code.resolve(), upload, args.timeout)
        print(f"| `{name}` | {len(upload) / 1e6:.2f} MB | {seconds} | {mib} MiB | {outcome} |", flush=True)


if __name__ == "__main__":
    main()
