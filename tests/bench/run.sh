#!/usr/bin/env bash
# `make bench`: the engine benchmarks (tests/bench/bench_engine.c), the e-commerce template
# through the CLI timed on the wall clock, then the server (tests/bench/server.sh: HTTP and
# WebSocket) and the canvas in a browser (tests/bench/canvas.sh).
# Usage: tests/bench/run.sh BUILD_DIR [SCALE]
# SCALE (default 1) multiplies the simulated durations of the engine cases: 0.1 for a smoke run.
set -u
build=${1:?usage: tests/bench/run.sh BUILD_DIR [SCALE]}
scale=${2:-1}
root=$(cd "$(dirname "$0")/../.." && pwd)
status=0

echo "sdsim benchmarks — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores," \
     "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')," \
     "load average $(cut -d' ' -f1-3 /proc/loadavg) (figures are only comparable when it is low)"
echo
echo "Engine (one process per case; CPU time of the run itself):"
if [ -x "$build/bench_engine" ]; then
    "$build/bench_engine" --scale "$scale" || status=1
else
    echo "  $build/bench_engine is missing: build first (make build)"
    status=1
fi

echo
echo "Lua behaviours on every request (tests/bench/bench_lua.c; CPU time of the run itself):"
if [ -x "$build/bench_lua" ]; then
    SDSIM_ROOT=$root "$build/bench_lua" --scale "$scale" || status=1
else
    echo "  $build/bench_lua is missing: build first (make build)"
    status=1
fi

echo
echo "CLI: sdsim run templates/ecommerce.lua --duration 60 --json (target < 1 s wall):"
template=$root/templates/ecommerce.lua
if [ ! -x "$build/sdsim" ] || [ ! -f "$template" ]; then
    echo "  skipped: needs $build/sdsim and $template"
    exit $status
fi
out=$(mktemp)
times=$(mktemp)
# bash's `time` gives wall, user and system seconds; CPU seconds show what the wall figure
# means when other work shares the machine.
TIMEFORMAT='%R %U %S'
{ time (cd "$root" && "$build/sdsim" run templates/ecommerce.lua --duration 60 --json \
        >"$out" 2>&1); } 2>"$times"
rc=$(grep -q '"e2e"' "$out" && echo 0 || echo 1)
read -r wall user sys <"$times"
cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
if [ $rc -ne 0 ]; then
    echo "  sdsim failed (no report):"
    head -20 "$out" | sed 's/^/    /'
    status=1
else
    verdict=$(awk -v w="$wall" 'BEGIN { print (w < 1.0) ? "met" : "MISSED" }')
    # The report is pretty-printed JSON: the first "events", and the throughput inside "e2e".
    events=$(awk -F'[:,]' '/"events"/ { gsub(/ /, "", $2); print $2; exit }' "$out")
    tput=$(awk -F'[:,]' '/"e2e"/ { f = 1 } f && /"throughput_rps"/ { gsub(/ /, "", $2);
                                                                 printf "%.0f", $2; exit }' "$out")
    rate=$(awk -v e="${events:-0}" -v w="$wall" 'BEGIN { printf "%.1f", e / w / 1e6 }')
    echo "ecommerce  wall ${wall} s (cpu ${cpu} s) for 60 s simulated, ${events:-?} events" \
         "(${rate} M events per wall-second, e2e ${tput:-?} rps)  [target < 1 s wall: $verdict]"
fi
rm -f "$out" "$times"

echo
echo "Server (tests/bench/server.sh: sdsim serve on loopback beside a minimal Node.js server):"
bash "$root/tests/bench/server.sh" "$build" "${SDSIM_BENCH_SECONDS:-5}" || status=1

echo
echo "Canvas (tests/bench/canvas.mjs: headless Chromium, 1,000 components and 1,500 edges):"
if [ -f "$root/tests/bench/canvas.sh" ]; then
    bash "$root/tests/bench/canvas.sh" "$build" || status=1
else
    echo "  skipped: tests/bench/canvas.sh missing"
fi
exit $status
