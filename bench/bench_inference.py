"""The classifier alone: one model input through a bundle's ``model.tflite`` on LiteRT, per thread count.

    .venv/bin/python -m bench.bench_inference models/release build/ens3-float32 --calls 200

No decode, no gate, no HTTP: what the model itself costs, to compare exports of one model (float32
against int8 weights) or ensembles against their members. The input is a real radiograph, preprocessed
as the API does; 20 warm-up calls first; median and p90 of ``calls`` timed calls.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

from function.bundle import FolderSource, load_bundle
from function.bundle_format import FLOAT32_WEIGHTS
from infra.locations import RELEASE_BUNDLE
from tests.upload_samples import COVID_RADIOGRAPH

WARM_UP = 20


def timings_ms(bundle: Path, threads: int, calls: int) -> list[float]:
    loaded = load_bundle(FolderSource(bundle), num_threads=threads)
    batch = loaded.input_spec.from_bytes(COVID_RADIOGRAPH.read_bytes())[None]
    for _ in range(WARM_UP):
        loaded.classifier.predict(batch)
    result = []
    for _ in range(calls):
        start = time.perf_counter()
        loaded.classifier.predict(batch)
        result.append((time.perf_counter() - start) * 1000)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundles", type=Path, nargs="*", default=[RELEASE_BUNDLE])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, {platform.platform()}; load average {os.getloadavg()[0]:.1f}")
    print("| bundle | tflite weights | model.tflite MB | threads | p50 (ms) | p90 (ms) |")
    print("|---|---|---|---|---|---|")
    for bundle in args.bundles:
        manifest = load_bundle(FolderSource(bundle)).manifest
        weights = manifest.get("tflite_weights", FLOAT32_WEIGHTS)
        size = (bundle / "model.tflite").stat().st_size / 1e6
        for threads in args.threads:
            times = timings_ms(bundle, threads, args.calls)
            p90 = statistics.quantiles(times, n=10)[-1]
            print(
                f"| {manifest['bundle_version']} | {weights} | {size:.1f} | {threads} | "
                f"{statistics.median(times):.2f} | {p90:.2f} |"
            )


if __name__ == "__main__":
    main()
