#!/usr/bin/env bash
# `make bench`: the engine benchmarks (tests/bench/bench_engine.c), then the e-commerce
# template through the CLI, timed on the wall clock. Usage: tests/bench/run.sh BUILD_DIR [SCALE]
# SCALE (default 1) multiplies the simulated durations of the engine cases: 0.1 for a smoke run.
set -u
build=${1:?usage: tests/bench/run.sh BUILD_DIR [SCALE]}
scale=${2:-1}
root=$(cd "$(dirname "$0")/../.." && pwd)
status=0

echo "sdsim benchmarks — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores," \
     "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo
echo "Engine (one process per case; CPU time of the run itself):"
if [ -x "$build/bench_engine" ]; then
    "$build/bench_engine" --scale "$scale" || status=1
else
    echo "  $build/bench_engine is missing: build first (make build)"
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
start=$(date +%s.%N)
(cd "$root" && "$build/sdsim" run templates/ecommerce.lua --duration 60 --json >"$out" 2>&1)
rc=$?
end=$(date +%s.%N)
wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
if [ $rc -ne 0 ]; then
    echo "  sdsim exited with $rc:"
    head -20 "$out" | sed 's/^/    /'
    status=1
else
    verdict=$(awk -v w="$wall" 'BEGIN { print (w < 1.0) ? "met" : "MISSED" }')
    tput=$(grep -o '"e2e"[^}]*"throughput_rps": *[0-9.]*' "$out" | grep -o '[0-9.]*$' | head -1)
    echo "ecommerce  wall ${wall} s for 60 s simulated  [target < 1 s: $verdict]" \
         "(e2e throughput ${tput:-?} rps)"
fi
rm -f "$out"
exit $status
