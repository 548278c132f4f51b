"""After ``sam deploy``: was its change set applied? Stops ``infra/deploy.sh`` when it was not.

With ``confirm_changeset`` (samconfig.toml) SAM shows the change set and asks; answering "no" leaves the
change set unapplied, and SAM still exits 0. Without this check the script would go on to publish a new
bundle and page against the old stack: exactly what the person who said "no" did not want.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

SAM_CHANGE_SET_PREFIX = "samcli-deploy"
CLOCK_SKEW = timedelta(minutes=1)
"""Change sets created this long before the deploy began count too: this host's clock may run ahead."""


def unapplied_change_sets(cloudformation: Any, stack_name: str, since: datetime) -> list[str]:
    """Names of SAM's change sets on the stack, created since ``since``, that are still waiting to run."""
    names = []
    for page in cloudformation.get_paginator("list_change_sets").paginate(StackName=stack_name):
        for summary in page["Summaries"]:
            if (
                stack_name in (summary.get("StackName"), summary.get("StackId"))  # moto lists every stack's
                and summary["ChangeSetName"].startswith(SAM_CHANGE_SET_PREFIX)
                and summary.get("ExecutionStatus") == "AVAILABLE"
                and summary["CreationTime"] >= since - CLOCK_SKEW
            ):
                names.append(summary["ChangeSetName"])
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.change_sets", description=__doc__.splitlines()[0])
    parser.add_argument("--stack-name", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--since", type=int, required=True, help="when sam deploy began (Unix seconds)")
    args = parser.parse_args(argv)

    import boto3

    cloudformation = boto3.client("cloudformation", region_name=args.region)
    since = datetime.fromtimestamp(args.since, UTC)
    waiting = unapplied_change_sets(cloudformation, args.stack_name, since)
    if waiting:
        print(
            f"deploy: the change set {', '.join(waiting)} was not applied (declined at sam deploy's "
            "prompt?); the bundle and the page were not published. Run again and answer 'y' to deploy.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
