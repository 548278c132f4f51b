"""After ``sam deploy``: was its change set applied? Stops ``infra/deploy.sh`` when it was not.

With ``confirm_changeset`` (samconfig.toml) SAM shows the change set and asks; answering "no" leaves the
change set waiting, and SAM still exits 0. Without this check the script would go on to publish a new
bundle and page against the old stack: exactly what the person who said "no" did not want.

    waiting=$(python -m infra.change_sets waiting --stack-name S --region R)   # before sam deploy
    python -m infra.change_sets check --stack-name S --region R --known "$waiting"   # after it

Change sets are told apart by name, not by time: SAM leaves declined ones behind, so an earlier run's
would otherwise count, and no host clock is trusted to match AWS's.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

SAM_CHANGE_SET_PREFIX = "samcli-deploy"


def waiting_change_sets(cloudformation: Any, stack_name: str) -> set[str]:
    """Names of SAM's change sets on the stack still waiting to be applied (none if there is no stack)."""
    from botocore.exceptions import ClientError

    names = set()
    try:
        for page in cloudformation.get_paginator("list_change_sets").paginate(StackName=stack_name):
            for summary in page["Summaries"]:
                if (
                    stack_name
                    in (summary.get("StackName"), summary.get("StackId"))  # moto lists every stack's
                    and summary["ChangeSetName"].startswith(SAM_CHANGE_SET_PREFIX)
                    and summary.get("ExecutionStatus") == "AVAILABLE"
                ):
                    names.add(summary["ChangeSetName"])
    except ClientError as error:
        if "does not exist" not in str(error):
            raise
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.change_sets", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["waiting", "check"])
    parser.add_argument("--stack-name", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--known", default="", help="check: the names `waiting` printed before sam deploy")
    args = parser.parse_args(argv)

    import boto3

    waiting = waiting_change_sets(boto3.client("cloudformation", region_name=args.region), args.stack_name)
    if args.command == "waiting":
        print("\n".join(sorted(waiting)))
        return 0
    new = sorted(waiting - set(args.known.split()))
    if new:
        print(
            f"deploy: the change set {', '.join(new)} was not applied (declined at sam deploy's prompt?); "
            "the bundle and the page were not published. Run again and answer 'y' to deploy.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
