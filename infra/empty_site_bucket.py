"""Empty the stack's site bucket (every version of every page file), so ``sam delete`` can remove it.

    .venv/bin/python -m infra.empty_site_bucket --stack-name cxr-screening --region eu-west-1
    .venv-sam/bin/sam delete --stack-name cxr-screening --region eu-west-1

The site bucket is versioned (a bad page upload can be rolled back), and CloudFormation deletes no bucket
that still holds objects or versions, so ``sam delete`` alone fails on it. The page is rebuilt from
``frontend/`` by any deploy, so nothing is lost. The artifacts bucket (the model bundles) is kept on
purpose (``DeletionPolicy: Retain``); this command never touches it.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

SITE_BUCKET_OUTPUT = "SiteBucketName"


def site_bucket_of(cloudformation: Any, stack_name: str) -> str:
    """The stack's SiteBucketName output."""
    outputs = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0].get("Outputs", [])
    for output in outputs:
        if output["OutputKey"] == SITE_BUCKET_OUTPUT:
            return str(output["OutputValue"])
    raise LookupError(f"stack {stack_name} has no output {SITE_BUCKET_OUTPUT}")


def empty_bucket(s3: Any, bucket: str) -> int:
    """Delete every object version and delete marker in ``bucket``; returns how many were deleted."""
    deleted = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        entries = [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        if not entries:
            continue
        objects = [{"Key": entry["Key"], "VersionId": entry["VersionId"]} for entry in entries]
        for start in range(0, len(objects), 1000):  # DeleteObjects takes at most 1000 keys
            answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": objects[start : start + 1000]})
            if answer.get("Errors"):
                raise RuntimeError(f"could not delete from {bucket}: {answer['Errors'][:3]}")
            deleted += len(answer.get("Deleted", []))
    return deleted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.empty_site_bucket", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--stack-name", required=True)
    parser.add_argument("--region", required=True)
    args = parser.parse_args(argv)

    import boto3

    bucket = site_bucket_of(boto3.client("cloudformation", region_name=args.region), args.stack_name)
    count = empty_bucket(boto3.client("s3", region_name=args.region), bucket)
    print(f"deleted {count} object versions from s3://{bucket}")
    print(f"now: sam delete --stack-name {args.stack_name} --region {args.region}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
