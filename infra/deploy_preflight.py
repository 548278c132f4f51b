"""Before ``sam deploy`` in ``infra/deploy.sh``: would it change the served bundle behind the switch's back?

The served bundle is the stack's ``BundleVersion`` parameter, set only by ``python -m infra.bundle_versions
switch``. SAM keeps a parameter it is not given (UsePreviousValue), so a plain ``sam deploy`` keeps it. But
``sam deploy --guided`` offers each parameter's template default, not the stack's value (an empty
BundleVersion: the function finds no bundle and answers 503), and saves the answers in samconfig.toml,
from where every later deploy would send them again.

    python -m infra.deploy_preflight --stack-name S --region R [--config-env E] [-- SAM_DEPLOY_ARGS]

Prints each problem and exits 1 if there is one; nothing is built or deployed then.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

from infra.bundle_versions import VERSION_PARAMETER

VERSION_OVERRIDE = re.compile(rf"\b{VERSION_PARAMETER}\s*[=,]")
"""``BundleVersion=...`` or ``ParameterKey=BundleVersion,...``: the forms SAM reads as an override."""


def deploy_problems(
    samconfig: Path, config_env: str, sam_deploy_args: list[str], stack_exists: bool
) -> list[str]:
    """Why this ``sam deploy`` would set the served bundle itself (empty: it would not)."""
    problems = []
    try:
        config = tomllib.loads(samconfig.read_text())
    except FileNotFoundError:
        config = {}
    for section in ("deploy", "global"):
        overrides = (
            config.get(config_env, {}).get(section, {}).get("parameters", {}).get("parameter_overrides")
        )
        if overrides is not None and VERSION_OVERRIDE.search(json.dumps(overrides)):
            where = f"{samconfig.name} [{config_env}.{section}.parameters] parameter_overrides"
            problems.append(
                f"{where} sets {VERSION_PARAMETER} (sam deploy --guided saves it there): every deploy would "
                f"switch the served bundle to it. Remove {VERSION_PARAMETER} from it; this script switches."
            )
    if any(VERSION_OVERRIDE.search(arg) for arg in sam_deploy_args):
        problems.append(
            f"{VERSION_PARAMETER} is set by --bundle (this script switches to it), not by sam deploy"
        )
    if stack_exists and any(arg in ("--guided", "-g") for arg in sam_deploy_args):
        problems.append(
            f"sam deploy --guided would set {VERSION_PARAMETER} back to its empty default on this existing "
            "stack (the function would answer 503) and save it in samconfig.toml; deploy without --guided"
        )
    return problems


def stack_exists(cloudformation: Any, stack_name: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        cloudformation.describe_stacks(StackName=stack_name)
    except ClientError as error:
        if "does not exist" in str(error):
            return False
        raise
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.deploy_preflight", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--stack-name", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--config-env", default="default", help="the samconfig.toml environment")
    argv = sys.argv[1:] if argv is None else argv
    cut = argv.index("--") if "--" in argv else len(argv)  # after --: the arguments for sam deploy
    args = parser.parse_args(argv[:cut])

    import boto3

    exists = stack_exists(boto3.client("cloudformation", region_name=args.region), args.stack_name)
    problems = deploy_problems(Path("samconfig.toml"), args.config_env, argv[cut + 1 :], exists)
    for problem in problems:
        print(f"deploy: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
