#!/usr/bin/env bash
# End-to-end browser tests (tests/e2e/README.md): a real `sdsim serve` on a free loopback port
# with a temporary data directory (SQLite) and the built app, then each spec with node
# (playwright-core driving headless /usr/bin/chromium). Prints "N passed, N failed" over all
# specs' checks and exits non-zero when any spec fails.
# Usage: run.sh SDSIM_BINARY SOURCE_DIR [SPEC.spec.mjs...]   (default: every tests/e2e/*.spec.mjs)
# Environment: SDSIM_E2E_DIST (default SOURCE_DIR/frontend/dist), SDSIM_E2E_SHOTS (screenshots,
# default SOURCE_DIR/build/e2e-screenshots), SDSIM_E2E_TIMEOUT (seconds per spec, default 300).
set -u
sdsim=$(realpath "${1:?usage: run.sh SDSIM_BINARY SOURCE_DIR [SPEC...]}")
src=$(realpath "${2:?usage: run.sh SDSIM_BINARY SOURCE_DIR [SPEC...]}")
shift 2
dist=${SDSIM_E2E_DIST:-$src/frontend/dist}
export SDSIM_E2E_SHOTS=${SDSIM_E2E_SHOTS:-$src/build/e2e-screenshots}
per_spec=${SDSIM_E2E_TIMEOUT:-300}
specs=("$@")
[ ${#specs[@]} -eq 0 ] && specs=("$src"/tests/e2e/*.spec.mjs)

fail() { echo "FAIL $1"; echo "0 passed, 1 failed"; exit 1; }
[ -x "$sdsim" ] || fail "no sdsim binary at $sdsim"
[ -f "$dist/index.html" ] || fail "no built app in $dist (make frontend, or cd frontend && npm run build)"
[ -d "$src/frontend/node_modules/playwright-core" ] || fail "playwright-core missing (cd frontend && npm ci)"
[ -x "${SDSIM_CHROMIUM:-/usr/bin/chromium}" ] || fail "no /usr/bin/chromium (scripts/install-deps.sh)"
command -v node >/dev/null || fail "node missing (scripts/install-deps.sh)"

tmp=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The server on a free port (tried by connecting: nothing may answer there), up to 5 tries.
for _ in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 40000))
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
  SDSIM_ROOT=$src "$sdsim" serve --host 127.0.0.1 --port "$port" --data-dir "$tmp/data" \
    --static "$dist" >"$tmp/server.log" 2>&1 &
  pid=$!
  url=http://127.0.0.1:$port
  for _ in $(seq 200); do
    curl -s -o /dev/null "$url/healthz" && break 2
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null
  pid=""
done
[ -n "$pid" ] || { cat "$tmp/server.log"; fail "the server did not start"; }
echo "server: $url (pid $pid, data $tmp/data, app $dist)"
export SDSIM_E2E_URL=$url

passed=0
failed=0
for spec in "${specs[@]}"; do
  echo "== $(basename "$spec")"
  out=$tmp/spec.out
  timeout -k 10 "$per_spec" node "$spec" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n1)
  p=$(echo "$line" | awk '{print $1+0}')
  f=$(echo "$line" | awk '{print $3+0}')
  if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
    f=1
    echo "FAIL $(basename "$spec") exited $rc$([ "$rc" -eq 124 ] && echo " (timed out after ${per_spec} s)")"
  fi
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
done

if ! kill -0 "$pid" 2>/dev/null; then
  failed=$((failed + 1))
  echo "FAIL the server died during the tests:"
  tail -n 30 "$tmp/server.log"
elif [ "$failed" -gt 0 ]; then
  echo "-- server log (last 30 lines):"
  tail -n 30 "$tmp/server.log"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
