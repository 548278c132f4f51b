"""The command line shared by the bench reports that read one bundle and print a markdown table."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def print_bundle_report(description: str, report: Callable[[Path], str]) -> None:
    """Parse ``BUNDLE`` from the command line, print ``report(BUNDLE)``; ``description`` is the --help."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("bundle", type=Path)
    print(report(parser.parse_args().bundle))
