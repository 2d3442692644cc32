#!/usr/bin/env bash
# Installs the Debian packages sdsim builds and tests with, when any is missing.
# Runs as root directly or through sudo; does nothing (quickly) when all are present.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang-format
  libluajit-5.1-dev luajit lua-cjson lua-cjson-dev
  libuv1-dev libwebsockets-dev libwebsockets-evlib-uv
  libpq-dev libhiredis-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler
  libjwt-dev libssl-dev libsqlite3-dev libargon2-dev libedit-dev
  postgresql redis-server
  curl jq sqlite3 openssl
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing missing packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q "${missing[@]}"
