"""Warm latency through the Lambda handler: a 1024x1024 PNG and JPEG made from a real radiograph.

Each call is ``function.app.handler(event, context)`` with an API Gateway HTTP API event (base64 body, as
API Gateway delivers it), so the figure covers Mangum, routing, JSON and base64 parsing, decode, resize,
gate and LiteRT inference. For context it also times the decode alone, the reading without the HTTP
layer, and the step from decoded pixels to model input under each preprocessing version (version 2 also
looks for dark margins to cut: ``function.imaging``), whatever version the bundle itself uses, and the
crop detector alone when the bundle has one (``function.framing.CropDetector``). The bundle is read from
a local folder, models/release unless ``--bundle`` names another (a warm container has it in memory).

    .venv/bin/python -m bench.bench_warm_latency --calls 200 [--bundle FOLDER]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time
from collections.abc import Callable

import cv2
import numpy as np
from PIL import Image

from bench.bench_cold_start import machine
from bench.lambda_event import RADIOGRAPH, LambdaContext, diagnose_event
from infra.locations import RELEASE_BUNDLE

SIDE = 1024


def upscaled_files() -> dict[str, bytes]:
    """The real 128x128 radiograph upscaled to 1024x1024 (bicubic), saved as PNG and as JPEG (quality 90)."""
    gray = np.asarray(Image.open(RADIOGRAPH).convert("L"))
    big = cv2.resize(gray, (SIDE, SIDE), interpolation=cv2.INTER_CUBIC)
    files = {}
    for fmt, options in (("PNG", {}), ("JPEG", {"quality": 90})):
        buffer = io.BytesIO()
        Image.fromarray(big).save(buffer, format=fmt, **options)
        files[fmt] = buffer.getvalue()
    return files


def timings(call: Callable[[], object], calls: int, warmup: int = 10) -> list[float]:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def percentile(samples: list[float], q: float) -> float:
    return float(np.percentile(samples, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument(
        "--bundle", help="a bundle folder (default: CXR_BUNDLE_LOCATION if set, else models/release)"
    )
    args = parser.parse_args()
    if args.bundle:
        os.environ["CXR_BUNDLE_LOCATION"] = args.bundle
    os.environ.setdefault("CXR_BUNDLE_LOCATION", str(RELEASE_BUNDLE))
    os.environ.setdefault("CXR_LOG_LEVEL", "WARNING")  # no access line per call on the terminal

    from function.app import app, handler
    from function.imaging import PREPROCESSING_VERSIONS, InputSpec, decode_grayscale
    from function.service import read_image

    context = LambdaContext()
    bundle = app.state.holder.get()
    print(f"machine: {machine()}")
    print(
        f"bundle: {bundle.version} (input {bundle.input_size}x{bundle.input_size}), {args.calls} calls each\n"
    )
    specs = {version: InputSpec(bundle.input_size, version) for version in PREPROCESSING_VERSIONS}
    versions = " | ".join(f"model input, version {version} p50" for version in specs)
    print(
        "| upload | size (KB) | handler p50 (ms) | p90 | p99 | mean | decode p50 | reading w/o HTTP p50 | "
        f"{versions} | crop detector p50 |"
    )
    print("|---" * (9 + len(specs)) + "|")
    for fmt, data in upscaled_files().items():
        event = diagnose_event(data)

        def through_handler(event: dict = event) -> None:
            response = handler(event, context)
            assert response["statusCode"] == 200, response["body"]

        total = timings(through_handler, args.calls)
        decode = timings(lambda data=data: decode_grayscale(data), args.calls)
        reading = timings(lambda data=data: read_image(bundle, data), args.calls)
        gray = decode_grayscale(data)
        model_inputs = [
            timings(lambda spec=spec, gray=gray: spec.model_input(gray), args.calls)
            for spec in specs.values()
        ]
        cells = [
            percentile(total, 50),
            percentile(total, 90),
            percentile(total, 99),
            statistics.fmean(total),
            percentile(decode, 50),
            percentile(reading, 50),
            *(percentile(samples, 50) for samples in model_inputs),
        ]
        row = " | ".join(f"{value:.1f}" for value in cells)
        detector = bundle.crop_detector
        if detector is None:
            crop = "-"
        else:
            model_input = bundle.input_spec.model_input(gray)
            samples = timings(lambda d=detector, x=model_input: d.cropped(x), args.calls)
            crop = f"{percentile(samples, 50):.1f}"
        print(f"| {fmt} {SIDE}x{SIDE} | {len(data) / 1024:.0f} | {row} | {crop} |")


if __name__ == "__main__":
    main()
