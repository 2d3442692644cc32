#!/usr/bin/env bash
# The engine is plain C: it must not include Lua, libuv, libwebsockets or any host header.
set -eu
root=${1:-$(dirname "$0")/..}
bad=$(grep -nE '#\s*include\s*[<"](lua|lauxlib|lualib|luajit|uv|libwebsockets|hiredis|libpq|jwt|host/)' \
      "$root"/engine/*.c "$root"/engine/*.h || true)
if [ -n "$bad" ]; then
  echo "engine/ includes a host-side header:"
  echo "$bad"
  exit 1
fi
echo "engine/ is plain C"
