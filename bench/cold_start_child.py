"""One cold start, in a fresh process: import the app, answer one POST /diagnose through the handler.

Run by ``bench.bench_cold_start`` with the bundle on a loopback S3 server (``CXR_BUNDLE_LOCATION`` and
``AWS_ENDPOINT_URL_S3`` in the environment). Prints one JSON line with the in-process timings; the
parent measures the wall time from process start to that line.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import json  # noqa: E402
import sys  # noqa: E402


def main(variant: str) -> None:
    from bench.lambda_event import RADIOGRAPH, LambdaContext, diagnose_event

    event = diagnose_event(RADIOGRAPH.read_bytes())
    before_import = time.perf_counter()
    if variant == "litert":
        from function.app import handler  # the real Lambda entry point
    elif variant == "tensorflow":
        import os

        from mangum import Mangum

        from bench.tf_classifier import load_keras_bundle
        from function.app import create_app
        from function.service import BundleHolder
        from function.settings import Settings

        settings = Settings()
        holder = BundleHolder(os.environ["CXR_BUNDLE_LOCATION"], loader=load_keras_bundle)
        handler = Mangum(create_app(settings, holder), lifespan="off")
    else:
        raise SystemExit(f"unknown variant {variant!r}")
    imported = time.perf_counter()
    response = handler(event, LambdaContext())
    answered = time.perf_counter()
    body = json.loads(response["body"])
    print(
        json.dumps(
            {
                "variant": variant,
                "status": response["statusCode"],
                "result": body.get("result"),
                "probabilities": body.get("probabilities"),
                "import_s": imported - before_import,
                "first_request_s": answered - imported,
                "in_process_s": answered - STARTED,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main(sys.argv[1])
