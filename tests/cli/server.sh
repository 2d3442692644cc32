#!/usr/bin/env bash
# `sdsim serve` as a client meets it: the real binary on a free loopback port with a temporary
# data directory, driven with curl, raw sockets (bash /dev/tcp) and tests/server/ws_client.c
# (built beside sdsim). Covers the built-in endpoints, static files and the SPA fallback, the
# Lua API (validate, analyze and run compared byte for byte with the CLI), yielding handlers,
# hostile input (oversized, malformed, slow, 100 bad requests in a row), WebSocket close codes
# and the graceful shutdown.
# Usage: server.sh SDSIM_BINARY SOURCE_DIR
set -u
trap '' PIPE # writes to sockets the server has closed must not kill the script
sdsim=$1
src=$2
ws=$(dirname "$sdsim")/ws_client
export LSAN_OPTIONS="suppressions=$src/tests/server/lsan.supp:print_suppressions=0"
tmp=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; } # NAME CONDITION

[ -x "$ws" ] || { echo "FAIL no ws_client beside $sdsim"; echo "0 passed, 1 failed"; exit 1; }

mkdir -p "$tmp/static/assets"
echo '<!doctype html><title>sdsim</title>' >"$tmp/static/index.html"
echo 'console.log(1)' >"$tmp/static/assets/app.js"
good=$src/tests/cli/data/three_tier.json

# start [OPTIONS...]: the server on a free port; sets $pid, $port, $B; waits for /healthz.
start() {
  for _ in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue # taken
    SDSIM_ROOT=$src "$sdsim" serve --port "$port" --data-dir "$tmp/data" \
      --static "$tmp/static" --test-routes "$@" 2>"$tmp/server.log" &
    pid=$!
    B=http://127.0.0.1:$port
    for _ in $(seq 100); do
      curl -s -o /dev/null "$B/healthz" && return 0
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null
    pid=""
  done
  echo "FAIL the server did not start"; cat "$tmp/server.log"; exit 1
}

# req NAME... : curl with the status in $code, the body in $body, headers in $tmp/h.
req() {
  code=$(curl -s -o "$tmp/body" -D "$tmp/h" -w '%{http_code}' "$@")
  body=$(cat "$tmp/body")
}
alive() { kill -0 "$pid" 2>/dev/null && [ "$(curl -s -m 2 "$B/healthz")" = ok ]; }

# raw DATA WAIT: sends DATA (printf format) on a new connection, reads until the server
# closes or WAIT seconds pass; $raw_out is the answer, $raw_ms how long it took.
raw() {
  local t0=$(date +%s%N)
  exec 3<>"/dev/tcp/127.0.0.1/$port" || { raw_out=""; return; }
  printf "$1" >&3 2>/dev/null
  raw_out=$(timeout "$2" cat <&3 2>/dev/null | tr -d '\r')
  exec 3<&- 3>&-
  raw_ms=$((($(date +%s%N) - t0) / 1000000))
}

start --read-timeout 2 --run-wall-limit 1

# --- built-in endpoints ----------------------------------------------------------------
req "$B/healthz"
check "/healthz 200 ok" '[ "$code" = 200 ] && [ "$body" = ok ]'
req "$B/readyz"
check "/readyz 200 while serving" '[ "$code" = 200 ]'
req -X POST "$B/healthz"
check "/healthz refuses POST with 405 and Allow" '[ "$code" = 405 ] && grep -qi "^allow: GET, HEAD" "$tmp/h"'
raw 'HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n' 1
check "HEAD /healthz: headers only" 'grep -q "^content-length: 3" <<<"$raw_out" && ! grep -qx ok <<<"$raw_out"'

# --- static files and the SPA fallback ------------------------------------------------
req "$B/"
check "/ serves index.html" '[ "$code" = 200 ] && grep -q "<title>sdsim" <<<"$body" && grep -qi "content-type: text/html" "$tmp/h"'
req "$B/projects/42/edit"
check "an app route serves index.html (SPA)" '[ "$code" = 200 ] && grep -q "<title>sdsim" <<<"$body"'
req "$B/assets/app.js"
check "an asset with its content type" '[ "$code" = 200 ] && [ "$body" = "console.log(1)" ] && grep -qi "content-type: text/javascript" "$tmp/h"'
req "$B/assets/missing.js"
check "a missing asset is a 404" '[ "$code" = 404 ]'
raw 'GET /../../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n' 1
check "no path traversal out of the static directory" '! grep -q "root:" <<<"$raw_out"'

# --- API routing -----------------------------------------------------------------------
req "$B/api/nope"
check "unknown API route: 404 JSON" '[ "$code" = 404 ] && grep -q "\"error\"" <<<"$body"'
req -X DELETE "$B/api/components"
check "wrong method: 405 with Allow: GET" '[ "$code" = 405 ] && grep -qi "^allow: GET" "$tmp/h"'
req -X POST -H 'User-Agent: t/1' --data '{"k":[1,2]}' "$B/api/debug/echo/bob?x=1&y=a%20b"
check "request object: params, query (decoded), headers, json()" \
  'grep -q "\"name\":\"bob\"" <<<"$body" && grep -q "\"y\":\"a b\"" <<<"$body" && grep -q "\"user_agent\":\"t\\\\/1\"" <<<"$body" && grep -q "\"k\":\[1,2\]" <<<"$body" && grep -qi "^x-echo: bob" "$tmp/h"'
req "$B/api/debug/error"
check "a handler bug: 500, logged with file and line" '[ "$code" = 500 ] && grep -q "debug.lua:[0-9]*: attempt to index" "$tmp/server.log"'

# --- components ------------------------------------------------------------------------
req "$B/api/components"
all=1
for f in "$src"/components/*.lua; do
  n=$(basename "$f" .lua)
  grep -q "\"name\":\"$n\"" <<<"$body" || { all=0; echo "  missing $n"; }
done
check "GET /api/components lists every components/*.lua" '[ "$code" = 200 ] && [ $all = 1 ]'
check "components carry parameter specs and JSON schemas" \
  'grep -q "\"workers\":{" <<<"$body" && grep -q "\"schema\":{" <<<"$body"'

# --- validate, analyze, run: the CLI's bytes --------------------------------------------
req -X POST --data-binary @"$good" "$B/api/validate"
check "POST /api/validate: 200 ok" '[ "$code" = 200 ] && grep -q "\"ok\":true" <<<"$body"'
IFS=$'\t' read -r badfile badpath _ < <(grep -v '^#' "$src/tests/data/bad/expect.tsv" | awk -F'\t' '$2 ~ /^\$\./' | head -1)
req -X POST --data-binary @"$src/tests/data/bad/$badfile" "$B/api/validate"
check "POST /api/validate of $badfile: 422 with $badpath" \
  '[ "$code" = 422 ] && grep -qF "\"path\":\"${badpath//\//\\/}\"" <<<"$body"'
req -X POST --data-binary @"$good" "$B/api/analyze"
"$sdsim" analyze "$good" --json >"$tmp/cli_analyze.json" 2>/dev/null
check "POST /api/analyze = sdsim analyze --json, byte for byte" '[ "$code" = 200 ] && cmp -s "$tmp/body" "$tmp/cli_analyze.json"'
req -X POST --data-binary '{"version":1,"components":[{"id":"a","type":"nosuch"}]}' "$B/api/analyze"
check "analyze of an invalid design: 422 {errors:[{path,reason}]}" \
  '[ "$code" = 422 ] && grep -q "\"path\":\"\$.components\[0\].type\"" <<<"$body" && grep -q "\"reason\":" <<<"$body"'
req -X POST --data-binary '{"version":1,' "$B/api/analyze"
check "malformed JSON: 400 with the reason" '[ "$code" = 400 ] && grep -q "malformed JSON: .*character" <<<"$body"'
req -X POST "$B/api/analyze"
check "no body: 400" '[ "$code" = 400 ]'
req -X POST --data-binary @"$good" "$B/api/run?duration=20&seed=3"
"$sdsim" run "$good" --duration 20 --seed 3 --json >"$tmp/cli_run.json" 2>/dev/null
check "POST /api/run = sdsim run --json (wall time aside)" \
  '[ "$code" = 200 ] && diff <(grep -v wall "$tmp/body") <(grep -v wall "$tmp/cli_run.json") >/dev/null'
req -X POST --data-binary @"$good" "$B/api/run?duration=100000"
check "run over the duration cap: 422 on query.duration" '[ "$code" = 422 ] && grep -q "query.duration" <<<"$body"'
req -X POST --data-binary @"$good" "$B/api/run?duration=abc"
check "run with a duration that is no number: 422" '[ "$code" = 422 ]'
{
  printf '{"version":1,"components":['
  for i in $(seq 60); do printf '%s{"id":"s%d","type":"service"}' "$([ $i = 1 ] || echo ,)" $i; done
  printf '],"workload":[{"to":"s1","rps":10}]}'
} >"$tmp/many.json"
req -X POST --data-binary @"$tmp/many.json" "$B/api/run?duration=5"
check "run over the component cap: 422 on \$.components" '[ "$code" = 422 ] && grep -q "at most 50 components" <<<"$body"'

# Heavy runs: cut at the wall-clock limit (1 s here), never more than 2 at once, and the
# loop keeps answering meanwhile (simulations run on worker threads).
heavy='{"version":1,"components":[{"id":"a","type":"service","params":{"workers":64}}],"workload":[{"to":"a","rps":50000}]}'
heavies=()
for i in 1 2 3; do
  curl -s -o /dev/null -D "$tmp/heavyh$i" -w '%{http_code}\n' -X POST --data "$heavy" \
    "$B/api/run?duration=600" >"$tmp/heavy$i" &
  heavies+=($!)
done
sleep 0.3
t=$(curl -s -o /dev/null -w '%{time_total}' "$B/healthz")
req "$B/metrics"
check "/metrics counts simulations running" 'grep -q "^sdsim_simulations_running [12]$" <<<"$body"'
wait "${heavies[@]}"
codes=$(cat "$tmp"/heavy? | sort | tr '\n' ' ')
check "/healthz answers during simulations (${t}s)" 'awk "BEGIN{exit !($t < 0.1)}"'
check "3 heavy runs at once: 2 cut at the wall limit (422), 1 refused (429): $codes" '[ "$codes" = "422 422 429 " ]'
check "the 429 says when to retry" 'grep -qi "^retry-after: 1" "$tmp"/heavyh?'

# --- yielding handlers ----------------------------------------------------------------
curl -s -o "$tmp/slept" -w '%{time_total}' "$B/api/debug/sleep?ms=300" >"$tmp/slept_t" &
sleep 0.05
t=$(curl -s -o /dev/null -w '%{time_total}' "$B/healthz")
wait $!
ts=$(cat "$tmp/slept_t")
check "a 300 ms sleeping handler does not delay /healthz (${t}s)" 'awk "BEGIN{exit !($t < 0.1)}"'
check "the sleeping handler took its 300 ms (${ts}s)" 'awk "BEGIN{exit !($ts >= 0.29)}"'
t0=$(date +%s%N)
sleepers=()
for i in 1 2 3 4 5 6 7 8; do curl -s -o /dev/null "$B/api/debug/sleep?ms=300" & sleepers+=($!); done
wait "${sleepers[@]}"
ms=$((($(date +%s%N) - t0) / 1000000))
# One after the other they would take 2400 ms; starting 8 curl processes costs some too.
check "8 concurrent 300 ms sleeps overlap (${ms} ms in all)" '[ $ms -lt 1500 ]'

# --- hostile input ---------------------------------------------------------------------
head -c 5000000 /dev/zero | tr '\0' ' ' >"$tmp/big.json"
req -H 'Expect:' -X POST --data-binary @"$tmp/big.json" "$B/api/analyze"
check "5 MB body: 413" '[ "$code" = 413 ]'
req -H 'Expect:' -H 'Transfer-Encoding: chunked' -X POST --data-binary @"$tmp/big.json" "$B/api/analyze"
check "5 MB chunked body: 413" '[ "$code" = 413 ]'
raw 'POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n' 2
check "Content-Length that is no number: 400" 'grep -q "^HTTP/1.1 400" <<<"$raw_out"'
long=$(head -c 10000 /dev/zero | tr '\0' a)
code=$(curl -s -o /dev/null -w '%{http_code}' "$B/api/components?x=$long")
check "a 10 kB URL is refused (connection closed, code $code)" '[ "$code" = 000 ] && alive'
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $long" "$B/healthz")
check "a 10 kB header is refused (connection closed, code $code)" '[ "$code" = 000 ] && alive'
raw 'GET /healthz HTTP/1.1\r\nHost: x\r\n' 6
check "slow headers: closed after the read timeout (${raw_ms} ms)" '[ $raw_ms -ge 1500 ] && [ $raw_ms -lt 4000 ]'
raw 'POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"a":' 6
check "slow body: closed after the read timeout (${raw_ms} ms)" '[ $raw_ms -ge 1500 ] && [ $raw_ms -lt 4000 ]'
raw 'BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n' 2
check "an unknown method is refused" 'grep -q "^HTTP/1.[01] 4" <<<"$raw_out"'

malformed=(
  '\x01\x02\x03garbage\r\n\r\n'
  'GET\r\n\r\n'
  'GET / HTTP/9.9\r\n\r\n'
  'POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n{"a"'
  'POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n{"a":]}'
  'POST /api/run HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n[]'
  'GET /api/debug/sleep?ms=%%zz HTTP/1.1\r\nHost: x\r\n\r\n'
  'POST /api/validate HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n'
  'POST /api/validate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'
  'GET /%%00 HTTP/1.1\r\nHost: x\r\n\r\n'
)
for i in $(seq 100); do
  raw "${malformed[$((i % ${#malformed[@]}))]}" 0.05
done
check "100 malformed requests in a row: still serving" 'alive'

# --- WebSocket ---------------------------------------------------------------------------
out=$("$ws" "$port" /ws text '{"type":"ping","id":7}')
check "ws: ping -> pong" 'grep "^TEXT {" <<<"$out" | grep -q "\"type\":\"pong\"" && grep -q "\"id\":7" <<<"$out"'
out=$("$ws" "$port" /ws text 'not json')
check "ws: malformed JSON closes with 1007" 'grep -q "^CLOSE 1007" <<<"$out"'
out=$("$ws" "$port" /ws badutf8)
check "ws: invalid UTF-8 closes with 1007" 'grep -q "^CLOSE 1007" <<<"$out"'
out=$("$ws" "$port" /ws binary)
check "ws: a binary message closes with 1003" 'grep -q "^CLOSE 1003" <<<"$out"'
out=$("$ws" "$port" /ws big 2000000)
check "ws: a 2 MB message closes with 1009" 'grep -q "^CLOSE 1009" <<<"$out"'
out=$("$ws" "$port" /elsewhere text x)
check "ws: upgrades elsewhere than /ws are refused" '! grep -q "HANDSHAKE 101" <<<"$out"'
req "$B/ws"
check "GET /ws without upgrade: 426" '[ "$code" = 426 ]'
"$ws" "$port" /ws hold 3 >"$tmp/ws_held" &
wspid=$!
sleep 0.3
req "$B/metrics"
check "/metrics counts the open WebSocket" 'grep -q "^sdsim_websocket_connections 1$" <<<"$body"'
check "/metrics: requests by route and status" \
  'grep -q "^sdsim_http_requests_total{route=\"/healthz\",status=\"200\"} [0-9]" <<<"$body" && grep -q "^sdsim_http_requests_total{route=\"POST /api/analyze\",status=\"422\"} 1$" <<<"$body"'
check "/metrics: in flight, RSS, uptime" \
  'grep -q "^sdsim_http_requests_in_flight 1$" <<<"$body" && grep -q "^process_resident_memory_bytes [1-9]" <<<"$body" && grep -q "^sdsim_uptime_seconds [0-9]" <<<"$body"'

# --- the access log ----------------------------------------------------------------------
check "every log line is a JSON object with ts and level" \
  'luajit -e "local c = require(\"cjson\") for l in io.lines() do local o = c.decode(l) assert(o.ts and o.level, l) end" <"$tmp/server.log"'
check "access lines: method, path, status, ms, bytes" \
  'grep -q "\"method\":\"POST\",\"path\":\"/api/analyze\",\"status\":422,\"ms\":[0-9.]*,\"bytes\":[0-9]*" "$tmp/server.log"'

# --- graceful shutdown -------------------------------------------------------------------
curl -s -o "$tmp/inflight" -w '%{http_code}' "$B/api/debug/sleep?ms=800" >"$tmp/inflight_code" &
cpid=$!
sleep 0.2
exec 4<>"/dev/tcp/127.0.0.1/$port" # a connection opened before the signal
kill -TERM "$pid"
sleep 0.2
printf 'GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n' >&4
ready=$(timeout 2 head -c 200 <&4 | tr -d '\r' | head -1)
exec 4<&- 4>&-
check "/readyz 503 while shutting down ($ready)" '[ "$ready" = "HTTP/1.1 503 " ] || [ "$ready" = "HTTP/1.1 503 Service Unavailable" ]'
code=$(curl -s -m 1 -o /dev/null -w '%{http_code}' "$B/healthz")
check "no new connections after SIGTERM" '[ "$code" = 000 ]'
wait $cpid
check "the request in flight at SIGTERM finishes: $(cat "$tmp/inflight_code")" '[ "$(cat "$tmp/inflight_code")" = 200 ]'
wait "$pid"
rc=$?
pid=""
check "the server exits 0 after draining" '[ $rc = 0 ] && grep -q "drained: stopping" "$tmp/server.log"'
wait $wspid
check "the open WebSocket was closed with 1001" 'grep -q "^CLOSE 1001" "$tmp/ws_held"'

# The drain deadline: a handler that would sleep 10 s does not hold the shutdown.
start --drain-timeout 1
curl -s -o /dev/null "$B/api/debug/sleep?ms=10000" &
cpid=$!
sleep 0.2
t0=$(date +%s%N)
kill -TERM "$pid"
wait "$pid"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
pid=""
check "drain timeout: exit 0 after ~1 s with a request abandoned (${ms} ms)" \
  '[ $rc = 0 ] && [ $ms -lt 2500 ] && grep -q "drain timeout" "$tmp/server.log"'
wait $cpid

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
