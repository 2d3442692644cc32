# Shared by the CLI tests that drive a real `sdsim serve` (source it after common.sh, with
# $sdsim, $src and $pid="" set): starting and stopping the server, and curl helpers.

# start DATA_DIR [OPTIONS...]: the server on a free port; sets $pid, $port and $B. Its
# SDSIM_ROOT (components, templates, scripts) is $server_root when set, else $src.
start() {
  local data=$1
  shift
  for _ in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
    SDSIM_ROOT=${server_root:-$src} "$sdsim" serve --port "$port" --data-dir "$data" --static "$tmp" "$@" \
      >>"$tmp/server.log" 2>&1 &
    pid=$!
    B=http://127.0.0.1:$port
    for _ in $(seq 600); do # up to 30 s: a sanitizer build on a busy machine starts slowly
      curl -s -o /dev/null "$B/healthz" && return 0
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null
    pid=""
  done
  echo "FAIL the server did not start"
  tail -20 "$tmp/server.log"
  exit 1
}

# stop_server LABEL: SIGTERM; the server must exit 0 (under ASan: no error, no leak).
stop_server() {
  local rc
  kill -TERM "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  rc=$?
  pid=""
  if [ "$rc" = 0 ]; then ok "$1 server stopped cleanly"; else
    bad "$1 server exit status $rc"
    grep -v '"level":"info"' "$tmp/server.log" | tail -30
  fi
}

# req ARGS...: curl; the status in $code, the body in $body.
req() {
  code=$(curl -s -o "$tmp/body" -D "$tmp/h" -w '%{http_code}' "$@")
  body=$(cat "$tmp/body")
}
# jget FILTER: a field of $body (raw).
jget() { printf '%s' "$body" | jq -r "$1" 2>/dev/null; }
# api TOKEN METHOD PATH [JSON]: req against the server with a bearer token.
api() {
  if [ $# -ge 4 ]; then
    req -X "$2" -H "Authorization: Bearer $1" -H 'content-type: application/json' \
      --data-binary "$4" "$B$3"
  else
    req -X "$2" -H "Authorization: Bearer $1" "$B$3"
  fi
}
# wsrun PATH < script: the WebSocket client (tests/server/ws_client.c, beside $sdsim) on the
# server's port, reading its script from stdin.
wsrun() { timeout 60 "$(dirname "$sdsim")/ws_client" "$port" "$1" script 2>&1; }
