#!/usr/bin/env bash
# `sdsim repl` and the Lua `sim` module (docs/scripting.md): a piped session, the example
# scripts, sim.run against `sdsim run --json`, sim.capacity against the M/M/1 formula and
# sim.sweep's rows. Usage: repl.sh SDSIM_BINARY SOURCE_DIR
set -u
sdsim=$1
src=$2
export SDSIM_ROOT=$src
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

# --- A piped REPL session -----------------------------------------------------------------
cat >"$tmp/session.lua" <<'LUA'
d = sim.template("ecommerce")
=sim.get(d, "api.replicas")
sim.set(d, "api.replicas", 4)
r = sim.run(d, {duration = 5})
print("p99", type(r.e2e.p99_ms), r.e2e.p99_ms > 0)
function twice(x)
  local y = x * 2
  return y
end
twice(21)
error("deliberate")
print("still here")
sim.run({version = 1, components = {{id = "a", type = "servise", replicas = 0}}})
{1, "two", {three = 3}}
=sim.get(d, "api->db.timeout_ms"), sim.get(d, "load"), sim.get(d, "rps")
sim.set(d, "load", 0.5); print("rps", sim.get(d, "rps"))
LUA
"$sdsim" repl <"$tmp/session.lua" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "repl from a pipe exits 1 after failed chunks" test $rc -eq 1
check "=expr prints the template's replicas" grep -qx "6" "$tmp/out"
check "a run after changing replicas gives a p99" grep -qx "p99	number	true" "$tmp/out"
check "a multi-line function definition works" grep -qx "42" "$tmp/out"
check "an error is printed with its line" grep -q "stdin:1: deliberate" "$tmp/err"
check "the session goes on after an error" grep -qx "still here" "$tmp/out"
check "validation problems come as PATH: REASON lines" \
  grep -q '^  \$.components\[0\].replicas: ' "$tmp/err"
check "tables are pretty-printed" grep -qx '{ 1, "two", { three = 3 } }' "$tmp/out"
check "edge paths, load and rps" grep -qx "200	1	10000" "$tmp/out"
check "load scales the workload" grep -qx "rps	5000" "$tmp/out"
printf 'print("ok")\n' | "$sdsim" repl >"$tmp/out2" 2>&1
check "a clean piped session exits 0" test $? -eq 0
printf 'x = {\n' | "$sdsim" repl >"$tmp/out3" 2>&1
check "an unfinished chunk at end of input is reported" grep -q "expected" "$tmp/out3"

# --- The example scripts ------------------------------------------------------------------
for ex in sweep_replicas capacity cheapest; do
  "$sdsim" script "$src/scripts/examples/$ex.lua" >"$tmp/$ex.out" 2>"$tmp/$ex.err"
  check "example $ex.lua runs" test $? -eq 0
done
check "sweep example prints one row per value" \
  test "$(grep -cE '^ +(2|3|4|6|8|10) ' "$tmp/sweep_replicas.out")" -eq 6
check "capacity example reports a capacity" grep -q "^capacity: load x" "$tmp/capacity.out"
check "cheapest example finds a configuration" grep -q "^cheapest: api.replicas=" \
  "$tmp/cheapest.out"

# --- sim.run gives the very report of sdsim run --json ------------------------------------
cat >"$tmp/same.lua" <<LUA
local cjson = require("cjson")
local d = sim.load("$src/tests/cli/data/three_tier.json")
local r = sim.run(d, {duration = 10, warmup = 2, seed = 3})
local f = assert(io.open("$tmp/cli.json")); local c = cjson.decode(f:read("*a")); f:close()
print(r.events == c.events, r.e2e.p99_ms == c.e2e.p99_ms,
      r.components.api.utilization == c.components.api.utilization)
LUA
"$sdsim" run "$src/tests/cli/data/three_tier.json" --duration 10 --warmup 2 --seed 3 --json \
  >"$tmp/cli.json"
check "sim.run equals sdsim run --json" test "$("$sdsim" script "$tmp/same.lua")" = \
  "true	true	true"

# --- sim.capacity against M/M/1 -----------------------------------------------------------
# One worker, exponential service S = 1 ms (mu = 1000/s): the response time is exponential
# with rate mu - lambda, so p99 = ln(100) / (mu - lambda) and the highest rate meeting
# p99 <= T is lambda_max = mu - ln(100) / T. T = 20 ms: 769.7 rps, load 1.539 of 500 rps.
# Tolerance 10 %: 300 s runs estimate p99 within a few % near there, and p99 is steep in
# lambda (d lambda / lambda ~ 0.3 x d p99 / p99 at rho 0.77).
cat >"$tmp/mm1.lua" <<'LUA'
local d = { version = 1, name = "mm1",
  components = { { id = "s", type = "service", replicas = 1,
    params = { workers = 1, service_time = { dist = "exp", mean_ms = 1 } } } },
  workload = { { to = "s", rps = 500 } } }
local T, mu = 20, 1000
local expected = mu - math.log(100) / (T / 1000)
local c = sim.capacity(d, { p99_ms = T }, { duration = 300, quiet = true })
print(string.format("capacity %.1f rps, expected %.1f, %d runs", c.rps, expected, c.runs_made))
print("within10", math.abs(c.rps - expected) / expected < 0.10, c.runs_made <= 10)
-- Sweep: one row per value, p99 falls as replicas grow (load 500 rps: rho 0.5, 0.25, 0.125).
local rows = sim.sweep(d, "s.replicas", { 1, 2, 4 }, { duration = 60, quiet = true })
local dec = #rows == 3
for i = 2, #rows do
  dec = dec and rows[i].report.e2e.p99_ms < rows[i - 1].report.e2e.p99_ms
    and rows[i].value == ({ 1, 2, 4 })[i]
end
print("sweep", #rows, dec)
LUA
"$sdsim" script "$tmp/mm1.lua" >"$tmp/mm1.out" 2>&1
cat "$tmp/mm1.out" | head -1
check "sim.capacity within 10% of the M/M/1 formula" grep -qx "within10	true	true" \
  "$tmp/mm1.out"
check "sim.sweep: one row per value, p99 decreasing" grep -qx "sweep	3	true" "$tmp/mm1.out"

finish
