#!/usr/bin/env bash
# Provide the AWS Lambda Python base image locally, for `sam build` / `sam local` on a machine that can
# reach Debian's and PyPI's packages but no container registry.
#
# It builds a stand-in from Debian packages (debootstrap) with the same layout and contract as
# public.ecr.aws/lambda/python:3.13 (Python 3.13, /var/lang, /var/task, /var/runtime with the runtime
# interface client awslambdaric, /lambda-entrypoint.sh, the runtime interface emulator that ships inside
# the SAM CLI wheel) and tags it with the upstream name, so function/Dockerfile — the file users deploy —
# builds unchanged. A real upstream image already present locally is never overwritten.
#
# The result is cached: nothing is rebuilt while an image with this recipe's hash exists.
#   infra/local_base_image.sh          build if missing, then tag
#   infra/local_base_image.sh --force  rebuild
# Needs root, debootstrap and docker.io; starts dockerd through infra/dockerd.sh when none answers.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$HERE")"
PY_VERSION=3.13            # the Lambda runtime of function/Dockerfile (Amazon Linux 2023, glibc 2.34)
DEBIAN_SUITE=trixie        # the Debian release whose python3 is $PY_VERSION
AWSLAMBDARIC_VERSION=4.2.2
STANDIN="local/lambda-python:${PY_VERSION}"
UPSTREAM="public.ecr.aws/lambda/python:${PY_VERSION}"
LABEL_KEY="cxr.standin.recipe"
SAM_VENV="${CXR_SAM_VENV:-$REPO/.venv-sam}"
HOST_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

log() { echo "local_base_image: $*" >&2; }

recipe_hash() {
  cat "${BASH_SOURCE[0]}" "$HERE/standin/bootstrap" "$HERE/standin/lambda-entrypoint.sh" | sha256sum | cut -c1-16
}

image_label() {  # image -> value of our label, or empty when the image or the label is missing
  docker image inspect --format "{{ index .Config.Labels \"$LABEL_KEY\" }}" "$1" 2>/dev/null | sed 's/<no value>//'
}

debian_mirror() {  # the Debian mirror apt already uses here, so debootstrap goes through the same path
  if [[ -n "${CXR_DEBIAN_MIRROR:-}" ]]; then
    echo "$CXR_DEBIAN_MIRROR"
    return
  fi
  local found
  found="$(grep -rhoE 'https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null |
    tr -d ' ' | head -1 || true)"
  echo "${found:-http://deb.debian.org/debian}"
}

rie_binary() {  # the Lambda runtime interface emulator that the SAM CLI wheel carries
  local rie
  rie="$("$SAM_VENV/bin/python" -c \
    'import pathlib, samcli; print(pathlib.Path(samcli.__file__).parent / "local/rapid/aws-lambda-rie-x86_64")')"
  [[ -f "$rie" ]] || { log "runtime interface emulator not found in the SAM CLI at $SAM_VENV"; exit 1; }
  echo "$rie"
}

build_standin() {
  local recipe="$1" rootfs mirror rie
  [[ $EUID -eq 0 ]] || { log "debootstrap needs root"; exit 1; }
  command -v debootstrap >/dev/null || { log "debootstrap not installed (apt-get install debootstrap)"; exit 1; }
  mirror="$(debian_mirror)"
  rie="$(rie_binary)"
  rootfs="$(mktemp -d /var/tmp/cxr-standin.XXXXXX)"
  # shellcheck disable=SC2064  # expand now: the trap must remove this very folder
  trap "rm -rf '$rootfs'" EXIT

  log "debootstrap $DEBIAN_SUITE from $mirror into $rootfs"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates,libstdc++6 \
    "$DEBIAN_SUITE" "$rootfs" "$mirror" >"$rootfs.debootstrap.log" 2>&1 ||
    { tail -30 "$rootfs.debootstrap.log" >&2; exit 1; }
  rm -f "$rootfs.debootstrap.log"

  # This machine reaches PyPI through an intercepting proxy: pip inside the stand-in (here in the chroot,
  # later in `docker build`) must trust the host's CA bundle. The upstream image needs none of this.
  cp "$HOST_CA_BUNDLE" "$rootfs/etc/ssl/certs/ca-certificates.crt"
  cp /etc/resolv.conf "$rootfs/etc/resolv.conf"

  log "python $PY_VERSION at /var/lang, awslambdaric $AWSLAMBDARIC_VERSION in /var/runtime"
  chroot "$rootfs" "/usr/bin/python${PY_VERSION}" -m venv /var/lang
  # env -i: the host's own pip settings (find-links, local indexes) mean nothing inside the stand-in.
  chroot "$rootfs" env -i HOME=/root PATH=/usr/bin:/bin LANG=C.UTF-8 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    /var/lang/bin/pip install --quiet --no-cache-dir --target /var/runtime "awslambdaric==$AWSLAMBDARIC_VERSION"
  install -m 0755 "$HERE/standin/bootstrap" "$rootfs/var/runtime/bootstrap"
  install -m 0755 "$HERE/standin/lambda-entrypoint.sh" "$rootfs/lambda-entrypoint.sh"
  install -m 0755 "$rie" "$rootfs/usr/local/bin/aws-lambda-rie"
  mkdir -p "$rootfs/var/task" "$rootfs/opt"

  # Docker provides /etc/resolv.conf at run time; drop what only the chroot needed and Debian's caches.
  : >"$rootfs/etc/resolv.conf"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*

  local previous
  previous="$(docker image inspect --format '{{.Id}}' "$STANDIN" 2>/dev/null || true)"
  log "docker import -> $STANDIN"
  tar -C "$rootfs" --numeric-owner -c . | docker import \
    --change "ENV LANG=C.UTF-8" \
    --change "ENV TZ=:/etc/localtime" \
    --change "ENV PATH=/var/lang/bin:/usr/local/bin:/usr/bin:/bin:/opt/bin" \
    --change "ENV LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib" \
    --change "ENV LAMBDA_TASK_ROOT=/var/task" \
    --change "ENV LAMBDA_RUNTIME_DIR=/var/runtime" \
    --change "ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt" \
    --change "WORKDIR /var/task" \
    --change 'ENTRYPOINT ["/lambda-entrypoint.sh"]' \
    --change "LABEL $LABEL_KEY=$recipe" \
    --change "LABEL org.opencontainers.image.description=local-stand-in-for-$UPSTREAM" \
    - "$STANDIN" >/dev/null
  rm -rf "$rootfs"
  trap - EXIT
  # The replaced stand-in, unless function images built on it still use it.
  if [[ -n "$previous" ]]; then
    docker rmi "$previous" >/dev/null 2>&1 || true
  fi
}

main() {
  local force=0 recipe
  [[ "${1:-}" == "--force" ]] && force=1
  "$HERE/dockerd.sh" start >&2
  recipe="$(recipe_hash)"

  if [[ $force -eq 0 && "$(image_label "$STANDIN")" == "$recipe" ]]; then
    log "$STANDIN is up to date (recipe $recipe)"
  else
    build_standin "$recipe"
  fi

  if docker image inspect "$UPSTREAM" >/dev/null 2>&1 && [[ -z "$(image_label "$UPSTREAM")" ]]; then
    log "$UPSTREAM is a real upstream image here: left as it is"
  else
    docker tag "$STANDIN" "$UPSTREAM"
    log "$UPSTREAM -> $STANDIN"
  fi
}

main "$@"
