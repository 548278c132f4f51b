"""The command line shared by the bench reports that read one bundle and print a markdown table."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def print_bundle_report(description: str, report: Callable[..., str], every: int | None = None) -> None:
    """Parse ``BUNDLE`` from the command line, print ``report(BUNDLE)``; ``description`` is the --help.

    With ``every``, the report also takes ``--every N`` (every Nth validation film, by default ``every``):
    ``report(BUNDLE, N)``."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("bundle", type=Path)
    if every is not None:
        parser.add_argument(
            "--every", type=int, default=every, help=f"every Nth validation film (default {every})"
        )
    arguments = parser.parse_args()
    print(report(arguments.bundle) if every is None else report(arguments.bundle, arguments.every))
