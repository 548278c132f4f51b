#!/usr/bin/env bash
# Debian packages that the tests drive for real: Chromium (browser tests), Node.js (the CloudFront
# Function's code, tests/unit/test_payload_limits.py), Docker and debootstrap
# (the local stand-in for the Lambda base image, SAM local), and wrk for bench/load_test.py. Installs only
# what is missing; needs root.
set -euo pipefail
wanted=(chromium docker.io debootstrap iproute2 awscli wrk nodejs)
missing=()
for package in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
echo "installing Debian packages: ${missing[*]}"
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
