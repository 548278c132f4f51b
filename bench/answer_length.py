"""How long the API's answers are, by what they say: why the access log keeps no response length.

    .venv/bin/python -m bench.answer_length [--per-folder 25]

The function logs a reading's kind, never its class ("a reading is health data"), so no log line of the
stack may carry anything the class decides. This posts the first ``per-folder`` films of each class folder
of the training set to the app (the API's own path, the released bundle) and prints, for each result and
class read, how many answers there were and their byte lengths: where the ranges do not overlap, a length
in the API Gateway access log (``$context.responseLength``) would tell the reading.
"""

from __future__ import annotations

import argparse
import base64
from collections import defaultdict
from pathlib import Path

from fastapi.testclient import TestClient

from function.app import create_app
from function.settings import Settings
from infra.locations import RELEASE_BUNDLE, TRAINING_SET

CLASS_FOLDERS = ("Normal", "COVID", "Viral Pneumonia")


def answer_lengths(bundle: Path, per_folder: int) -> dict[str, list[int]]:
    """Byte lengths of the answers to ``per_folder`` films a class folder, keyed by what each answer says
    (the reading's class, or its result when it is no diagnosis)."""
    client = TestClient(create_app(Settings(bundle_location=str(bundle))), raise_server_exceptions=False)
    lengths: dict[str, list[int]] = defaultdict(list)
    for folder in CLASS_FOLDERS:
        for path in sorted((TRAINING_SET / folder / "images").glob("*.png"))[:per_folder]:
            image = base64.b64encode(path.read_bytes()).decode("ascii")
            response = client.post("/diagnose", json={"image": image})
            answer = response.json()
            said = answer.get("diagnosis") if answer.get("result") == "diagnosis" else answer.get("result")
            lengths[f"{response.status_code} {said}"].append(len(response.content))
    return dict(lengths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=RELEASE_BUNDLE)
    parser.add_argument("--per-folder", type=int, default=25)
    args = parser.parse_args()
    print("| answer says | answers | bytes |\n|---|---|---|")
    for said, sizes in sorted(answer_lengths(args.bundle, args.per_folder).items()):
        print(f"| {said} | {len(sizes)} | {min(sizes)} to {max(sizes)} |")


if __name__ == "__main__":
    main()
