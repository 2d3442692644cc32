#!/usr/bin/env bash
# `make bench`, the canvas part: tests/bench/canvas.mjs through the browser-test harness
# (tests/e2e/run.sh starts `sdsim serve` with the built app). Usage: canvas.sh BUILD_DIR
set -u
build=${1:?usage: canvas.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
SDSIM_E2E_SHOTS=${SDSIM_E2E_SHOTS:-$build/bench-screenshots} \
  bash "$root/tests/e2e/run.sh" "$build/sdsim" "$root" "$root/tests/bench/canvas.mjs" 2>&1 |
  grep -E '^(canvas:|FAIL|server:)|passed, ' | sed 's/^/  /'
exit "${PIPESTATUS[0]}"
