"""Fuzz the real app with 10,000+ hypothesis cases: any body, mutated real image files, Lambda events.

    .venv/bin/python -m bench.fuzz_api [--bodies 4000] [--files 4000] [--events 2500] [--json out.json]

The strategies are the ones the property tests in ``make test`` sample (tests/fuzz_strategies.py):
request bodies of any shape posted through FastAPI's TestClient, mutated PNG/JPEG/BMP/TIFF/DICOM files
posted as ``image``, and bodies wrapped in the SAM-generated API Gateway event for the Mangum handler.
Every answer is checked against the contract (a reading, or a 4xx with the error shape); failures are
counted, not raised, so the run finishes and reports them all. Exit status 1 if any case failed.
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bench.bench_cold_start import machine
from function.app import handler
from tests.api_support import make_client
from tests.fuzz_strategies import (
    LambdaContext,
    lambda_event,
    lambda_problem,
    mutated_file,
    request_body,
    response_problem,
)
from tests.upload_samples import b64


class Tally:
    """Outcomes of one target: cases, statuses, 5xx, contract problems, exceptions, slowest case."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.cases = 0
        self.statuses: collections.Counter[int] = collections.Counter()
        self.problems: list[str] = []
        self.exceptions: list[str] = []
        self.slowest_s = 0.0

    def record(self, call: Callable[[], tuple[int, str | None]]) -> None:
        started = time.perf_counter()
        self.cases += 1
        try:
            status, problem = call()
        except Exception as error:  # an exception escaping the app or the handler: the worst outcome
            self.exceptions.append(f"{type(error).__name__}: {str(error)[:200]}")
            return
        finally:
            self.slowest_s = max(self.slowest_s, time.perf_counter() - started)
        self.statuses[status] += 1
        if problem is not None:
            self.problems.append(problem[:300])

    def summary(self) -> dict[str, Any]:
        return {
            "target": self.name,
            "cases": self.cases,
            "statuses": dict(sorted(self.statuses.items())),
            "5xx": sum(count for status, count in self.statuses.items() if status >= 500),
            "problems": len(self.problems),
            "exceptions": len(self.exceptions),
            "slowest_s": round(self.slowest_s, 3),
            "examples": (self.problems + self.exceptions)[:5],
        }


class UnhandledCounter(logging.Handler):
    """Counts the app's "unhandled <Exception>" log lines (its catch-all turns them into 500s)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("unhandled"):
            self.count += 1


def run(examples: int, strategy: Any, check: Callable[..., None]) -> None:
    """Run ``check`` on ``examples`` generated cases (no shrinking: nothing raises)."""
    runner = settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )(given(strategy)(check))
    runner()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bodies", type=int, default=4000, help="request bodies of any shape (TestClient)")
    parser.add_argument("--files", type=int, default=4000, help="mutated image files (TestClient)")
    parser.add_argument("--events", type=int, default=2500, help="bodies in Lambda events (Mangum handler)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    logging.getLogger("cxr.access").setLevel(logging.WARNING)  # one INFO line per case otherwise
    unhandled = UnhandledCounter()
    logging.getLogger("cxr").addHandler(unhandled)
    tallies = [Tally("request bodies"), Tally("mutated image files"), Tally("Lambda events")]
    started = time.perf_counter()
    with make_client() as client:

        def post(body: bytes) -> tuple[int, str | None]:
            response = client.post("/diagnose", content=body, headers={"content-type": "application/json"})
            return response.status_code, response_problem(response)

        def post_file(data: bytes) -> tuple[int, str | None]:
            response = client.post("/diagnose", json={"image": b64(data)})
            return response.status_code, response_problem(response)

        def invoke(body: bytes, encoded: bool, content_type: str | None) -> tuple[int, str | None]:
            response = handler(lambda_event(body, encoded, content_type), LambdaContext())
            return int(response["statusCode"]), lambda_problem(response)

        run(args.bodies, request_body(), lambda body: tallies[0].record(lambda: post(body)))
        run(args.files, mutated_file(), lambda data: tallies[1].record(lambda: post_file(data)))
        content_types = st.sampled_from([None, "application/json", "text/plain", "multipart/form-data"])
        run(
            args.events,
            st.tuples(request_body(), st.booleans(), content_types),
            lambda case: tallies[2].record(lambda: invoke(*case)),
        )
    elapsed = time.perf_counter() - started

    results = {
        "command": "python -m bench.fuzz_api " + " ".join(f"--{k} {v}" for k, v in vars(args).items() if v),
        "machine": machine(),
        "load_average": os.getloadavg(),
        "elapsed_s": round(elapsed, 1),
        "targets": [tally.summary() for tally in tallies],
        "unhandled_log_lines": unhandled.count,
    }
    total = sum(tally.cases for tally in tallies)
    failures = sum(t["5xx"] + t["problems"] + t["exceptions"] for t in results["targets"]) + unhandled.count
    print(f"machine: {results['machine']}; load average {results['load_average']}")
    print("| target | cases | 5xx | contract problems | exceptions | statuses | slowest case (s) |")
    print("|---|---|---|---|---|---|---|")
    for t in results["targets"]:
        statuses = ", ".join(f"{status}: {count}" for status, count in t["statuses"].items())
        print(
            f"| {t['target']} | {t['cases']} | {t['5xx']} | {t['problems']} | {t['exceptions']} | {statuses} "
            f"| {t['slowest_s']} |"
        )
    print(f"total {total} cases in {elapsed:.0f} s; unhandled-exception log lines: {unhandled.count}")
    for t in results["targets"]:
        for example in t["examples"]:
            print(f"  {t['target']}: {example}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
