#!/usr/bin/env bash
# Deploy the whole service to AWS: the stack (function image, API, buckets, CloudFront), the public page
# (frontend/ as it is), and the model bundle.
#
#   infra/deploy.sh [options] [-- extra `sam deploy` arguments]
#
#   --stack-name NAME   CloudFormation stack (default: stack_name in samconfig.toml, else cxr-screening)
#   --region REGION     AWS region (default: AWS_REGION / AWS_DEFAULT_REGION / the profile's region)
#   --config-env ENV    samconfig.toml environment (default: default)
#   --bundle DIR        model bundle to publish and serve (default: models/release)
#   --skip-stack        do not build or deploy the stack; only upload the page, then publish the bundle and
#                       switch the stack's BundleVersion to it
#   --skip-bundle       do not publish the bundle nor switch to it (the stack keeps the one it serves; a
#                       new stack serves none until a bundle is switched to)
#   --skip-page         do not upload the page
#   --verify-timeout S  seconds the API's /health has to report the bundle after a switch (default 120);
#                       if it does not, the stack is switched back to the bundle it served before
#   --skip-verify       do not ask the API's /health (e.g. when this machine cannot reach the API)
#   -h, --help          this text
#
# Steps: python -m infra.deploy_preflight; sam build; sam deploy (the script stops if its change set was declined); read the stack outputs
# (ApiUrl, SiteUrl, SiteBucketName, SiteDistributionId, ArtifactsBucketName, ArtifactsPrefix); aws s3 sync
# --delete of frontend/ to the site bucket as it is (its config.js names no API address: the distribution
# serves the page and routes /diagnose and /health to the API, one origin, as `make run` does) and a
# CloudFront invalidation, right after the stack that goes with it; python -m training publish --versioned
# (to <ArtifactsPrefix><bundle_version>/, manifest.json last, never over another version); python -m
# infra.bundle_versions switch (the stack's BundleVersion parameter, one atomic stack update; no update when
# it already serves it), then GET <ApiUrl>/health until it reports that version (else switched back, and
# the script fails).
# Rolling a model back: python -m infra.bundle_versions list / switch --version <an earlier one>.
# Refused before anything is built: sam deploy --guided on an existing stack, and a BundleVersion in the sam
# deploy arguments or samconfig.toml (either would change the served bundle behind the switch's back).
# Needs: the SAM CLI, the AWS CLI, Docker (sam build builds the function's container image), Python with
# boto3 (the repo's .venv), and credentials allowed to deploy the stack.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

PYTHON="${PYTHON:-}"
if [[ -z "$PYTHON" ]]; then
  if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
SAM="${SAM:-}"
if [[ -z "$SAM" ]]; then
  if [[ -x .venv-sam/bin/sam ]]; then SAM=.venv-sam/bin/sam; else SAM=sam; fi
fi

STACK_NAME=""
REGION="${AWS_REGION:-${AWS_DEFAULT_REGION:-}}"
CONFIG_ENV="default"
BUNDLE="models/release"
DO_STACK=1
DO_BUNDLE=1
DO_PAGE=1
DO_VERIFY=1
VERIFY_TIMEOUT=120
SAM_DEPLOY_ARGS=()

# AWS_ENDPOINT_URL (an AWS-compatible server, as in the tests) is passed on explicitly, because older AWS
# CLI releases (Debian's 2.9) do not read it from the environment; boto3 does.
aws_cli() {
  if [[ -n "${AWS_ENDPOINT_URL:-}" ]]; then aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; else aws "$@"; fi
}
usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
die() { echo "deploy: $*" >&2; exit 1; }
step() { printf '\n==> %s\n' "$*"; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --stack-name) STACK_NAME="${2:?}"; shift 2 ;;
    --region) REGION="${2:?}"; shift 2 ;;
    --config-env) CONFIG_ENV="${2:?}"; shift 2 ;;
    --bundle) BUNDLE="${2:?}"; shift 2 ;;
    --skip-stack) DO_STACK=0; shift ;;
    --skip-bundle) DO_BUNDLE=0; shift ;;
    --skip-page) DO_PAGE=0; shift ;;
    --verify-timeout) VERIFY_TIMEOUT="${2:?}"; shift 2 ;;
    --skip-verify) DO_VERIFY=0; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; SAM_DEPLOY_ARGS=("$@"); break ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

if [[ -z "$STACK_NAME" ]]; then
  STACK_NAME="$("$PYTHON" - "$CONFIG_ENV" <<'EOF'
import sys, tomllib
try:
    with open("samconfig.toml", "rb") as handle:
        config = tomllib.load(handle)
except FileNotFoundError:
    config = {}
env = config.get(sys.argv[1], {})
for section in ("deploy", "global"):
    name = env.get(section, {}).get("parameters", {}).get("stack_name")
    if name:
        print(name)
        break
else:
    print("cxr-screening")
EOF
)"
fi
if [[ -z "$REGION" ]]; then REGION="$(aws configure get region 2>/dev/null || true)"; fi
[[ -n "$REGION" ]] || die "no AWS region: pass --region or set AWS_REGION"
export AWS_REGION="$REGION" AWS_DEFAULT_REGION="$REGION"

command -v aws >/dev/null || die "the AWS CLI is needed (https://docs.aws.amazon.com/cli/)"
[[ -f frontend/index.html ]] || die "frontend/index.html missing"
if [[ "$DO_BUNDLE" == 1 && ! -f "$BUNDLE/manifest.json" ]]; then die "$BUNDLE has no manifest.json"; fi

echo "Stack $STACK_NAME in $REGION"

if [[ "$DO_STACK" == 1 ]]; then
  command -v "$SAM" >/dev/null || die "the SAM CLI is needed (make sam-cli, or pip install aws-sam-cli)"
  # A sam deploy that would set BundleVersion itself (--guided on a live stack, or samconfig.toml's saved
  # answers) would change the served bundle behind the switch's back: refused before anything is built.
  "$PYTHON" -m infra.deploy_preflight --stack-name "$STACK_NAME" --region "$REGION" \
    --config-env "$CONFIG_ENV" -- ${SAM_DEPLOY_ARGS[@]+"${SAM_DEPLOY_ARGS[@]}"}
  step "sam build"
  "$SAM" build --config-env "$CONFIG_ENV"
  step "sam deploy"
  KNOWN_CHANGE_SETS="$("$PYTHON" -m infra.change_sets waiting --stack-name "$STACK_NAME" --region "$REGION")"
  # The odd expansion keeps an empty argument list legal under `set -u` in bash before 4.4 (macOS's 3.2).
  "$SAM" deploy --config-env "$CONFIG_ENV" --stack-name "$STACK_NAME" --region "$REGION" \
    ${SAM_DEPLOY_ARGS[@]+"${SAM_DEPLOY_ARGS[@]}"}
  # SAM exits 0 when its change set is declined at the prompt: stop here rather than publish to the old stack.
  "$PYTHON" -m infra.change_sets check --stack-name "$STACK_NAME" --region "$REGION" \
    --known "$KNOWN_CHANGE_SETS"
fi

step "reading the stack's outputs"
OUTPUTS_JSON="$(aws_cli cloudformation describe-stacks --stack-name "$STACK_NAME" --region "$REGION" \
  --query 'Stacks[0].Outputs' --output json)"
output() {
  "$PYTHON" -c '
import json, sys
outputs = {o["OutputKey"]: o["OutputValue"] for o in json.loads(sys.argv[1]) or []}
value = outputs.get(sys.argv[2], "")
if not value and sys.argv[3] == "required":
    sys.exit(f"deploy: the stack has no output {sys.argv[2]}")
print(value)' "$OUTPUTS_JSON" "$1" "${2:-required}"
}
API_URL="$(output ApiUrl)"
SITE_URL="$(output SiteUrl)"
SITE_BUCKET="$(output SiteBucketName)"
DISTRIBUTION_ID="$(output SiteDistributionId optional)"
ARTIFACTS_BUCKET="$(output ArtifactsBucketName)"
ARTIFACTS_PREFIX="$(output ArtifactsPrefix)"
API_URL="${API_URL%/}"

# The page right after the stack: a new stack (no CORS, its own origin) and the page that goes with it
# should not wait for the bundle's checks, nor be held back if a bundle is switched back.
if [[ "$DO_PAGE" == 1 ]]; then
  step "uploading the page to s3://$SITE_BUCKET/"
  # Every page file is revalidated on each load (CloudFront answers 304 while it is unchanged): the
  # page's scripts call each other, so a browser must never run a cached old one beside new ones. The
  # scripts go first, then the two files that name them.
  aws_cli s3 sync frontend/ "s3://$SITE_BUCKET/" --delete --only-show-errors \
    --exclude index.html --exclude config.js --cache-control "no-cache"
  for name in config.js index.html; do
    aws_cli s3 cp "frontend/$name" "s3://$SITE_BUCKET/$name" --only-show-errors --cache-control "no-cache"
  done
  if [[ -z "$DISTRIBUTION_ID" ]]; then
    DISTRIBUTION_ID="$(aws_cli cloudfront list-distributions --output text \
      --query "DistributionList.Items[?DomainName=='${SITE_URL#https://}'].Id | [0]")"
  fi
  if [[ -n "$DISTRIBUTION_ID" && "$DISTRIBUTION_ID" != "None" ]]; then
    step "invalidating CloudFront $DISTRIBUTION_ID"
    aws_cli cloudfront create-invalidation --distribution-id "$DISTRIBUTION_ID" --paths "/*" \
      --query 'Invalidation.Id' --output text
  else
    echo "deploy: no CloudFront distribution found for $SITE_URL; skipped the invalidation" >&2
  fi
fi

if [[ "$DO_BUNDLE" == 1 ]]; then
  BUNDLE_VERSION="$("$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["bundle_version"])' \
    "$BUNDLE/manifest.json")"
  step "publishing $BUNDLE (bundle $BUNDLE_VERSION) to s3://$ARTIFACTS_BUCKET/$ARTIFACTS_PREFIX$BUNDLE_VERSION/"
  "$PYTHON" -m training publish --bundle "$BUNDLE" --bucket "$ARTIFACTS_BUCKET" --prefix "$ARTIFACTS_PREFIX" \
    --versioned
  VERIFY_ARGS=()
  if [[ "$DO_VERIFY" == 1 ]]; then VERIFY_ARGS=(--verify-url "$API_URL" --verify-timeout "$VERIFY_TIMEOUT"); fi
  step "switching the stack to bundle $BUNDLE_VERSION"
  "$PYTHON" -m infra.bundle_versions switch --stack-name "$STACK_NAME" --region "$REGION" \
    --version "$BUNDLE_VERSION" ${VERIFY_ARGS[@]+"${VERIFY_ARGS[@]}"}
elif [[ "$DO_STACK" == 1 && "$DO_VERIFY" == 1 ]]; then
  step "checking that $API_URL/health serves the stack's bundle"
  "$PYTHON" -m infra.bundle_versions verify --stack-name "$STACK_NAME" --region "$REGION" \
    --verify-url "$API_URL" --verify-timeout "$VERIFY_TIMEOUT"
fi

step "done"
echo "Page: $SITE_URL"
echo "API:  $API_URL/health"
