#!/usr/bin/env bash
# `make bench`, the server part: figures of `sdsim serve` on loopback, printed, not asserted.
#   - RSS of the idle server (after start, and after the runs below);
#   - wrk, 1 thread, 32 connections: requests/s, p50/p99 and the server's CPU time per request
#     of GET /healthz, GET /api/components (78 kB) and an authenticated GET /api/projects, beside
#     a minimal Node.js http server answering the same bytes (tests/bench/node_server.mjs), and
#     for /healthz a bare libuv responder (bench_bare_http: the ceiling of any libuv server
#     here). With 2 cores or more the servers run on core 0 and wrk on core 1, so that wrk does
#     not take the servers' CPU; CPU per request is the figure least moved by other work;
#   - p99 at a fixed rate of about 5,000 requests/s (wrk connections that pause between
#     requests, tests/bench/paced.lua) for /healthz and /api/projects;
#   - WebSocket: connections held and fan-out of one live simulation (tests/bench/ws_bench.mjs).
# Usage: server.sh BUILD_DIR [SECONDS per wrk run, default 5]
set -u
build=$(realpath "${1:?usage: server.sh BUILD_DIR [SECONDS]}")
secs=${2:-5}
root=$(cd "$(dirname "$0")/../.." && pwd)
sdsim=$build/sdsim
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  sleep 0.3
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

for tool in wrk node curl jq; do
  command -v $tool >/dev/null || { echo "  skipped: $tool missing (scripts/install-deps.sh)"; exit 1; }
done
[ -x "$sdsim" ] || { echo "  skipped: $sdsim missing (make build)"; exit 1; }

# free_port: a loopback port nothing answers on now.
free_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo $p; return 0; }
  done
  return 1
}
wait_http() { # URL: up to 10 s
  for _ in $(seq 200); do curl -s -o /dev/null "$1" && return 0; sleep 0.05; done
  return 1
}
rss_mb() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# The access token's signature must be checkable by the Node baseline: one secret for both.
export SDSIM_JWT_SECRET=bench-secret-0123456789abcdef0123456789abcdef
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

static=$root/frontend/dist
[ -f "$static/index.html" ] || { static=$tmp/static; mkdir -p "$static"; echo '<title>sdsim</title>' >"$static/index.html"; }
port=$(free_port)
# pin: the servers on core 0 and the load generator on core 1, when there are two.
server_cpu=() client_cpu=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  server_cpu=(taskset -c 0) client_cpu=(taskset -c 1)
fi
SDSIM_ROOT=$root "${server_cpu[@]}" "$sdsim" serve --port "$port" --data-dir "$tmp/data" --static "$static" \
  >"$tmp/server.log" 2>&1 &
spid=$!
pids+=("$spid")
S=http://127.0.0.1:$port
wait_http "$S/healthz" || { echo "  the server did not start:"; tail "$tmp/server.log"; exit 1; }
sleep 2
rss_start=$(rss_mb "$spid")
echo "sdsim serve (pid $spid): idle RSS after start ${rss_start} MB  [target <= 20 MB]"

# A user with three projects, for the authenticated route.
reg=$(curl -s -X POST "$S/api/auth/register" -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"bench-password-1","name":"Bench"}')
token=$(jq -r .token <<<"$reg")
[ -n "$token" ] && [ "$token" != null ] || { echo "  register failed: $reg"; exit 1; }
design=$(cat "$root/tests/cli/data/three_tier.json")
for i in 1 2 3; do
  curl -s -o /dev/null -X POST "$S/api/projects" -H "authorization: Bearer $token" \
    -H 'content-type: application/json' -d "{\"name\":\"bench $i\",\"design\":$design}"
done
curl -s "$S/api/components" >"$tmp/components.json"
curl -s "$S/api/projects" -H "authorization: Bearer $token" >"$tmp/projects.json"
nproj=$(jq '.projects | length' "$tmp/projects.json")
echo "  /api/components $(wc -c <"$tmp/components.json") bytes, /api/projects" \
     "$(wc -c <"$tmp/projects.json") bytes ($nproj projects)"

nport=$(free_port)
"${server_cpu[@]}" node "$root/tests/bench/node_server.mjs" "$nport" "$tmp/components.json" "$tmp/projects.json" \
  >"$tmp/node.log" 2>&1 &
npid=$!
pids+=("$npid")
N=http://127.0.0.1:$nport
wait_http "$N/healthz" || { echo "  the Node baseline did not start:"; cat "$tmp/node.log"; exit 1; }
bare="" bpid=""
if [ -x "$build/bench_bare_http" ]; then
  bport=$(free_port)
  "${server_cpu[@]}" "$build/bench_bare_http" "$bport" &
  bpid=$!
  pids+=("$bpid")
  bare=http://127.0.0.1:$bport
  wait_http "$bare/healthz" || bare=""
fi

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # user + system, 1/100 s

# wrk_run URL SERVER_PID [wrk options...]: prints "RPS P50 P99 NON2XX CPU_US" (latencies in
# ms; CPU_US: the server's CPU microseconds per request).
wrk_run() {
  local url=$1 spid=$2
  shift 2
  local t0
  t0=$(cpu_ticks "$spid")
  "${client_cpu[@]}" wrk --latency "$@" "$url" >"$tmp/wrk.out" 2>&1
  awk -v ticks=$(($(cpu_ticks "$spid") - t0)) '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0;
                     if (v ~ /s$/) return v * 1000; return v }
    / requests in / { n = $1 }
    /Requests\/sec:/ { rps = $2 }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /Non-2xx/ { bad = $NF }
    END { printf "%.0f %.2f %.2f %s %.1f\n", rps, p50, p99, bad + 0, n ? ticks * 1e4 / n : 0 }
  ' "$tmp/wrk.out"
}

auth=(-H "authorization: Bearer $token")
echo
echo "HTTP, wrk -t1 -c32 -d${secs}s on loopback$([ ${#server_cpu[@]} -gt 0 ] && echo ", servers on core 0, wrk on core 1"):"
printf '  %-20s %11s %7s %7s %7s   %11s %7s %7s %7s   %s\n' route "sdsim req/s" "p50 ms" \
  "p99 ms" "CPU us" "node req/s" "p50 ms" "p99 ms" "CPU us" "sdsim/node (req/s; CPU)"
for route in /healthz /api/components /api/projects; do
  opts=(-t1 -c32 -d"${secs}s")
  [ "$route" = /api/projects ] && opts+=("${auth[@]}")
  read -r s_rps s_p50 s_p99 s_bad s_cpu < <(wrk_run "$S$route" "$spid" "${opts[@]}")
  read -r n_rps n_p50 n_p99 n_bad n_cpu < <(wrk_run "$N$route" "$npid" "${opts[@]}")
  ratio=$(awk -v a="$s_rps" -v b="$n_rps" -v ca="$s_cpu" -v cb="$n_cpu" \
    'BEGIN { printf "%.2fx; %.2fx", (b > 0 ? a / b : 0), (ca > 0 ? cb / ca : 0) }')
  printf '  %-20s %11s %7s %7s %7s   %11s %7s %7s %7s   %s%s\n' "GET $route" "$s_rps" "$s_p50" \
    "$s_p99" "$s_cpu" "$n_rps" "$n_p50" "$n_p99" "$n_cpu" "$ratio" \
    "$([ "$s_bad$n_bad" != 00 ] && echo "  (non-2xx: sdsim $s_bad, node $n_bad)")"
done
if [ -n "$bare" ]; then
  read -r b_rps b_p50 b_p99 b_bad b_cpu < <(wrk_run "$bare/healthz" "$bpid" -t1 -c32 -d"${secs}s")
  echo "  bare libuv responder (bench_bare_http), the same /healthz bytes: $b_rps req/s," \
       "p99 $b_p99 ms, $b_cpu us CPU per request: the most any libuv server reaches here"
fi
echo "  [target: >= 3x Node's throughput]"

echo
echo "HTTP at a fixed rate (wrk -t1 -c24, each connection pausing 2 ms between requests):"
for route in /healthz /api/projects; do
  opts=(-t1 -c24 -d"${secs}s" -s "$root/tests/bench/paced.lua")
  [ "$route" = /api/projects ] && opts+=("${auth[@]}")
  read -r s_rps s_p50 s_p99 s_bad s_cpu < <(wrk_run "$S$route" "$spid" "${opts[@]}")
  read -r n_rps n_p50 n_p99 n_bad n_cpu < <(wrk_run "$N$route" "$npid" "${opts[@]}")
  verdict=$(awk -v r="$s_rps" -v p="$s_p99" \
    'BEGIN { print (r >= 5000 && p < 5) ? "met" : (r < 5000 ? "rate below 5,000" : "MISSED") }')
  printf '  GET %-18s sdsim %6s req/s p50 %5s ms p99 %6s ms  [p99 < 5 ms at 5,000 req/s: %s]; node %6s req/s p99 %6s ms\n' \
    "$route" "$s_rps" "$s_p50" "$s_p99" "$verdict" "$n_rps" "$n_p99"
done

# The WebSocket figures take the whole machine, as before pinning.
[ ${#server_cpu[@]} -gt 0 ] && taskset -a -pc "0-$(($(nproc) - 1))" "$spid" >/dev/null
if [ -f "$root/tests/bench/ws_bench.mjs" ] && [ -d "$root/frontend/node_modules/ws" ]; then
  echo
  echo "WebSocket (tests/bench/ws_bench.mjs, Node.js client on the same machine):"
  node "$root/tests/bench/ws_bench.mjs" --url "ws://127.0.0.1:$port/ws" --http "$S" \
    --token "$token" --server-pid "$spid" --held "${SDSIM_BENCH_WS_HELD:-10000}" \
    --subscribers "${SDSIM_BENCH_WS_SUBS:-1000}" 2>&1 | sed 's/^/  /'
fi

echo
echo "sdsim serve RSS after all of the above: $(rss_mb "$spid") MB (idle at start: ${rss_start} MB)"
