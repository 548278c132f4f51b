"""Cold start: process start -> first answered POST /diagnose, LiteRT function vs the same app on TensorFlow.

The bundle (models/release, or ``--bundle``) is published to moto's S3 server on loopback; each trial
is a fresh Python process (``bench.cold_start_child``) that imports the app, loads the bundle from S3
through boto3 (``AWS_ENDPOINT_URL_S3``), verifies it and answers one API Gateway HTTP API event carrying
a real radiograph. Variants alternate within one run so both see the same machine load; the table gives
the wall time from ``Popen`` to the answer, the child's CPU time (user + system, which other load on the
machine inflates less than wall time), and the TensorFlow/LiteRT ratio of the wall-time medians.

    .venv/bin/python -m bench.bench_cold_start --trials 7 [--bundle FOLDER]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from infra.locations import RELEASE_BUNDLE, REPO_ROOT
from training.machine import host_cpu

VARIANTS = ("litert", "tensorflow")


def start_s3() -> tuple[Any, str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per S3 request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def publish(
    endpoint: str, bundle: Path = RELEASE_BUNDLE, bucket: str = "cxr-bench", prefix: str = "bundles/release/"
) -> str:
    import boto3

    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    client.create_bucket(Bucket=bucket)
    files = sorted((p for p in bundle.iterdir() if p.is_file()), key=lambda p: p.name == "manifest.json")
    for path in files:
        client.put_object(Bucket=bucket, Key=prefix + path.name, Body=path.read_bytes())
    return f"s3://{bucket}/{prefix}"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_child(variant: str, environment: dict[str, str]) -> dict[str, Any]:
    """Wall time from Popen to the answer line, and the child's CPU time (user + system, all threads)."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.cold_start_child", variant],
        cwd=REPO_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    wall = time.perf_counter() - started
    child.wait(timeout=120)
    cpu = _children_cpu() - cpu_before  # less sensitive than wall time to other work on the machine
    if not line:
        raise RuntimeError(f"{variant} child exited with {child.returncode} and no answer")
    result = json.loads(line)
    result["wall_s"] = wall
    result["cpu_s"] = cpu
    if result["status"] != 200:
        raise RuntimeError(f"{variant} child answered {result}")
    return result


def machine() -> str:
    """The host line every function benchmark prints: CPUs, CPU model and vector extension, Python, OS."""
    return f"{os.cpu_count()} CPUs ({host_cpu()}), Python {platform.python_version()}, {platform.platform()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5, help="timed cold starts per variant")
    parser.add_argument("--json", type=Path, help="also write the raw trials here")
    parser.add_argument(
        "--bundle", type=Path, default=RELEASE_BUNDLE, help="bundle folder (default models/release)"
    )
    args = parser.parse_args()

    server, endpoint = start_s3()
    try:
        location = publish(endpoint, args.bundle)
        environment = {
            **os.environ,
            "CXR_BUNDLE_LOCATION": location,
            "AWS_ENDPOINT_URL_S3": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
        }
        for variant in VARIANTS:  # untimed: warm the page cache and .pyc files for both
            run_child(variant, environment)
        trials: dict[str, list[dict[str, Any]]] = {variant: [] for variant in VARIANTS}
        for _ in range(args.trials):
            for variant in VARIANTS:
                trials[variant].append(run_child(variant, environment))
    finally:
        server.stop()

    print(f"machine: {machine()}")
    version = json.loads((args.bundle / "manifest.json").read_text())["bundle_version"]
    print(f"bundle: {version} on {endpoint}")
    print(f"trials per variant: {args.trials}\n")
    print("| runtime | wall p50 (s) | min | max | import p50 | first request p50 (load + answer) | CPU p50 |")
    print("|---|---|---|---|---|---|---|")
    medians = {}
    for variant, runs in trials.items():
        walls = [run["wall_s"] for run in runs]
        medians[variant] = statistics.median(walls)
        imports = statistics.median(run["import_s"] for run in runs)
        first = statistics.median(run["first_request_s"] for run in runs)
        cpu = statistics.median(run["cpu_s"] for run in runs)
        cells = [medians[variant], min(walls), max(walls), imports, first, cpu]
        print(f"| {variant} | " + " | ".join(f"{value:.2f}" for value in cells) + " |")
    cpu_medians = {
        variant: statistics.median(run["cpu_s"] for run in runs) for variant, runs in trials.items()
    }
    print(f"\nratio tensorflow / litert (median wall): {medians['tensorflow'] / medians['litert']:.1f}x")
    print(f"ratio tensorflow / litert (median CPU): {cpu_medians['tensorflow'] / cpu_medians['litert']:.1f}x")
    first_litert, first_tf = trials["litert"][0], trials["tensorflow"][0]
    if first_litert["probabilities"] and first_tf["probabilities"]:
        difference = max(
            abs(first_litert["probabilities"][label] - first_tf["probabilities"][label])
            for label in first_litert["probabilities"]
        )
        same = first_litert["result"] == first_tf["result"]
        print(f"same answer: {same}, max |p_litert - p_tf| = {difference:.2e}")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "trials": trials}, indent=2))


if __name__ == "__main__":
    main()
