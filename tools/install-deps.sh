#!/usr/bin/env bash
# Installs, with apt-get, the Debian 12 packages xgw needs to build, test and run its demo.
# Idempotent and fast when everything is present: it asks dpkg first and touches apt only
# for what is missing.
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config
  libcurl4-openssl-dev libssl-dev openssl ca-certificates
  libwebsockets-dev libuv1-dev libcjson-dev libinih-dev libcmocka-dev
  libsecp256k1-dev libmsgpack-dev
  python3 python3-requests binutils gdb
  nghttp2-server prometheus
)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
