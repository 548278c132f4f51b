"""Load on the local stack: `wrk` for 60 s with real uploads, then 10,000 requests in a row watching memory.

    .venv/bin/python -m bench.load_test [--duration 60] [--threads 2] [--connections 8] [--sequential 10000]

1. Starts ``python -m infra.local_stack`` (uvicorn, the page and the API; the bundle on the loopback S3
   server) on a free 127.0.0.1 port, exactly what `make run` starts, and waits for /health.
2. Builds JSON bodies from real files at their real sizes: radiographs of the three classes and
   negatives (CT, MRI, other X-rays, photos, lateral chests) from ../shared/data, written to a temporary
   folder (not the repo); a Lua script makes wrk post them in rotation.
3. Runs wrk (Debian package ``wrk``) for ``--duration`` seconds: requests/s, latency percentiles, errors.
4. Posts ``--sequential`` bodies one after another on one keep-alive connection, reading the server
   process's RSS (VmRSS in /proc/PID/status) every 500 requests: memory must stay flat.
Only 127.0.0.1 is used; every loop is bounded in count and time. Exit status 1 on any error.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2

from bench.bench_cold_start import machine
from infra.locations import REPO_ROOT, SHARED_DATA
from infra.ports import free_port
from tests.process_memory import rss_mib

RADIOGRAPHS = [
    SHARED_DATA / "covid19-radiography-128" / c / "images" for c in ("COVID", "Normal", "Viral Pneumonia")
]
NEGATIVES = [
    SHARED_DATA / "not-chest-xray" / kind for kind in ("ct", "mri", "other-xray", "photo", "lateral-chest")
]
SEQUENTIAL_LIMIT_S = 1800
"""The sequential phase stops after this long whatever its count (it takes ~2 minutes here)."""

WRK_SCRIPT = r"""
-- Posts the JSON bodies listed in the file given after `--`, in rotation (each thread from its own offset).
local bodies = {}
local index = 0
local thread_number = 0

function setup(thread)
  thread_number = thread_number + 1
  thread:set("offset", thread_number * 37)
end

function init(args)
  for path in io.lines(args[1]) do
    local file = assert(io.open(path, "rb"))
    bodies[#bodies + 1] = file:read("*a")
    file:close()
  end
  index = offset or 0
end

function request()
  index = index + 1
  local body = bodies[(index % #bodies) + 1]
  return wrk.format("POST", "/diagnose", {["Content-Type"] = "application/json"}, body)
end

function done(summary, latency, requests)
  local p = {}
  for _, q in ipairs({50, 90, 99, 99.9}) do
    p[#p + 1] = string.format('"%s": %d', q, latency:percentile(q))
  end
  io.write(string.format(
    'WRK-JSON {"requests": %d, "duration_us": %d, "bytes": %d, "errors": {"connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d}, "latency_us": {"mean": %.1f, "max": %d, %s}}\n',
    summary.requests, summary.duration, summary.bytes, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout, latency.mean, latency.max,
    table.concat(p, ", ")))
end
"""


def build_bodies(folder: Path, per_class: int, per_negative_kind: int) -> list[dict[str, Any]]:
    """JSON bodies of real files (the first ``n`` of each folder, sorted), written to ``folder``."""
    chosen = [path for directory in RADIOGRAPHS for path in sorted(directory.iterdir())[:per_class]]
    chosen += [path for directory in NEGATIVES for path in sorted(directory.iterdir())[:per_negative_kind]]
    bodies = []
    for number, path in enumerate(chosen):
        body = json.dumps({"image": base64.b64encode(path.read_bytes()).decode("ascii")}).encode()
        target = folder / f"body-{number:04d}.json"
        target.write_bytes(body)
        kind = "radiograph" if "radiography" in str(path) else "negative"
        bodies.append({"path": target, "file": path.name, "kind": kind, "file_bytes": path.stat().st_size})
    return bodies


def start_stack(port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.local_stack", "--port", str(port), "--log-level", "warning"],
            cwd=REPO_ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "CXR_LOG_LEVEL": "WARNING", "PYTHONDONTWRITEBYTECODE": "1"},
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the stack exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200:
                return process
        except httpx2.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("the stack did not become healthy within 120 s")


def run_wrk(
    port: int, folder: Path, bodies: list[dict[str, Any]], args: argparse.Namespace
) -> dict[str, Any]:
    script = folder / "post_bodies.lua"
    script.write_text(WRK_SCRIPT)
    listing = folder / "bodies.txt"
    listing.write_text("".join(f"{body['path']}\n" for body in bodies))
    command = [
        "wrk",
        f"--threads={args.threads}",
        f"--connections={args.connections}",
        f"--duration={args.duration}s",
        "--timeout=30s",
        "--latency",
        f"--script={script}",
        f"http://127.0.0.1:{port}/diagnose",
        "--",
        str(listing),
    ]
    load_before = os.getloadavg()
    result = subprocess.run(command, capture_output=True, text=True, timeout=args.duration + 120, check=False)
    if result.returncode != 0:
        raise SystemExit(f"wrk failed:\n{result.stdout}\n{result.stderr}")
    line = next(line for line in result.stdout.splitlines() if line.startswith("WRK-JSON "))
    figures = json.loads(line.removeprefix("WRK-JSON "))
    non_2xx = [line for line in result.stdout.splitlines() if "Non-2xx" in line]
    figures.update(
        command=" ".join(command[:-3]).replace(str(folder) + "/", "")
        + " http://127.0.0.1:PORT/diagnose -- bodies.txt",
        requests_per_s=round(figures["requests"] / (figures["duration_us"] / 1e6), 1),
        non_2xx=int(non_2xx[0].split(":")[1]) if non_2xx else 0,
        load_average_before=load_before,
        load_average_after=os.getloadavg(),
        wrk_output=result.stdout,
    )
    return figures


def run_sequential(port: int, pid: int, bodies: list[dict[str, Any]], count: int) -> dict[str, Any]:
    payloads = [body["path"].read_bytes() for body in bodies]
    samples: list[tuple[int, float]] = []
    statuses: dict[int, int] = {}
    started = time.monotonic()
    with httpx2.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        for number in range(count + 1):
            if number % 500 == 0:
                samples.append((number, round(rss_mib(pid), 1)))
            if number == count or time.monotonic() - started > SEQUENTIAL_LIMIT_S:
                break
            response = client.post(
                "/diagnose",
                content=payloads[number % len(payloads)],
                headers={"content-type": "application/json"},
            )
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    elapsed = time.monotonic() - started
    done = sum(statuses.values())
    after_warmup = [rss for number, rss in samples if number >= 1000]
    slope = _slope([(n, rss) for n, rss in samples if n >= 1000])
    return {
        "requests": done,
        "statuses": statuses,
        "elapsed_s": round(elapsed, 1),
        "rss_samples_mib": samples,
        "rss_first_mib": samples[0][1],
        "rss_after_1000_mib": after_warmup[0] if after_warmup else None,
        "rss_last_mib": samples[-1][1],
        "rss_max_mib": max(rss for _, rss in samples),
        "rss_slope_mib_per_1000": round(slope * 1000, 3),
        "load_average_after": os.getloadavg(),
    }


def _slope(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of RSS against the request number."""
    if len(points) < 2:
        return 0.0
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    variance = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / variance


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds of wrk load")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--sequential", type=int, default=10_000, help="requests in a row, RSS sampled")
    parser.add_argument("--per-class", type=int, default=40, help="radiographs per class in the mix")
    parser.add_argument("--per-negative-kind", type=int, default=10, help="negatives per kind in the mix")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit(
            "wrk is not installed: sudo apt-get install wrk (or bash infra/install_system_deps.sh)"
        )

    folder = Path(tempfile.mkdtemp(prefix="cxr-load-"))
    try:
        bodies = build_bodies(folder, args.per_class, args.per_negative_kind)
        port = free_port()
        stack = start_stack(port, folder / "stack.log")
        try:
            rss_start = rss_mib(stack.pid)
            wrk = run_wrk(port, folder, bodies, args)
            rss_after_wrk = rss_mib(stack.pid)
            sequential = run_sequential(port, stack.pid, bodies, args.sequential)
        finally:
            stack.terminate()
            stack.wait(timeout=30)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    radiographs = [b for b in bodies if b["kind"] == "radiograph"]
    negatives = [b for b in bodies if b["kind"] == "negative"]
    results = {
        "machine": machine(),
        "nproc": os.cpu_count(),
        "mix": {
            "radiographs": len(radiographs),
            "negatives": len(negatives),
            "radiograph_kb_mean": round(
                sum(b["file_bytes"] for b in radiographs) / len(radiographs) / 1000, 1
            ),
            "negative_kb_mean": round(sum(b["file_bytes"] for b in negatives) / len(negatives) / 1000, 1),
            "negative_kb_max": round(max(b["file_bytes"] for b in negatives) / 1000, 1),
        },
        "rss_at_start_mib": rss_start,
        "rss_after_wrk_mib": rss_after_wrk,
        "wrk": {key: value for key, value in wrk.items() if key != "wrk_output"},
        "sequential": sequential,
    }
    print(wrk["wrk_output"])
    print(json.dumps(results, indent=2, default=str))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    errors = sum(wrk["errors"].values()) + wrk["non_2xx"]
    errors += sum(count for status, count in sequential["statuses"].items() if status != 200)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
