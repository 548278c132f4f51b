"""What ``"explain": true`` adds to a warm request: the occlusion heatmap's latency and response size.

Each call is ``function.app.handler(event, context)`` with an API Gateway HTTP API event, as in
``bench.bench_warm_latency`` (same 1024x1024 PNG and JPEG made from a real radiograph), once without and
once with ``"explain": true`` in the body; the two alternate call by call so background load hits both
alike. It also times ``function.explain.occlusion_map`` alone (the occluded copies through LiteRT).

    .venv/bin/python -m bench.bench_explain --calls 100
    .venv/bin/python -m bench.bench_explain --calls 100 --bundle /path/to/another/bundle
"""

from __future__ import annotations

import argparse
import base64
import json
import os

import numpy as np

from bench.bench_cold_start import machine
from bench.bench_warm_latency import percentile, timings, upscaled_files
from bench.lambda_event import LambdaContext, diagnose_event
from infra.locations import RELEASE_BUNDLE


def with_fields(event: dict, **fields: object) -> dict:
    """The same event with extra JSON fields in its (base64) body."""
    body = json.loads(base64.b64decode(event["body"]))
    body.update(fields)
    return {**event, "body": base64.b64encode(json.dumps(body).encode()).decode("ascii")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--bundle", default=str(RELEASE_BUNDLE))
    args = parser.parse_args()
    os.environ["CXR_BUNDLE_LOCATION"] = args.bundle
    os.environ.setdefault("CXR_LOG_LEVEL", "WARNING")

    from function.app import app, handler
    from function.explain import occlusion_map

    context = LambdaContext()
    bundle = app.state.holder.get()
    print(f"machine: {machine()}")
    print(f"load average: {os.getloadavg()[0]:.1f} (1 min) at start")
    print(
        f"bundle: {bundle.version} (input {bundle.input_size}x{bundle.input_size}), {args.calls} calls each\n"
    )
    print("| upload | plain p50 (ms) | explain p50 | explain p90 | added p50 | map alone p50 ", end="")
    print("| body KB plain / explain |")
    print("|---|---|---|---|---|---|---|")
    for fmt, data in upscaled_files().items():
        plain_event = diagnose_event(data)
        explain_event = with_fields(plain_event, explain=True)
        sizes = {}
        for name, event in (("plain", plain_event), ("explain", explain_event)):
            response = handler(event, context)
            assert response["statusCode"] == 200, response["body"]
            sizes[name] = len(response["body"]) / 1024
        model_input = bundle.input_spec.from_bytes(data)
        predicted = int(np.argmax(bundle.classifier.predict(model_input[np.newaxis])))
        plain, explained, alone = [], [], []
        for _ in range(args.calls):  # interleaved, so load spikes hit every variant alike
            plain += timings(lambda e=plain_event: handler(e, context), 1, warmup=0)
            explained += timings(lambda e=explain_event: handler(e, context), 1, warmup=0)
            alone += timings(
                lambda x=model_input, c=predicted: occlusion_map(bundle.classifier, x, c), 1, warmup=0
            )
        cells = [
            percentile(plain, 50),
            percentile(explained, 50),
            percentile(explained, 90),
            percentile(explained, 50) - percentile(plain, 50),
            percentile(alone, 50),
        ]
        row = " | ".join(f"{value:.1f}" for value in cells)
        print(f"| {fmt} 1024x1024 | {row} | {sizes['plain']:.1f} / {sizes['explain']:.1f} |")
    print(f"\nload average: {os.getloadavg()[0]:.1f} (1 min) at the end")


if __name__ == "__main__":
    main()
