#!/usr/bin/env bash
# `sdsim run` as a user meets it: reports, determinism, --assert exit codes, replications,
# every template, and clear refusals of bad options. Usage: run.sh SDSIM_BINARY SOURCE_DIR
set -u
sdsim=$1
src=$2
data=$src/tests/cli/data
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

# Reads a figure out of a --json report: json_get FILE 'r.e2e.p99_ms'
json_get() {
  luajit -e "local cjson = require 'cjson'
    local f = assert(io.open('$1')); local r = cjson.decode(f:read('*a')); f:close()
    print(assert(loadstring('local r = ...; return $2'))(r))"
}

design=$data/three_tier.json

# The human report names every component, the bottleneck and the SLO verdict.
"$sdsim" run "$design" --duration 20 >"$tmp/text" 2>"$tmp/err"
check "text report exits 0" test $? -eq 0
check "text report lists components" grep -q "^api " "$tmp/text"
check "text report names the bottleneck" grep -q "^bottleneck" "$tmp/text"
check "text report gives the SLO verdict" grep -qE "SLO .*(PASS|FAIL)" "$tmp/text"

# Determinism: the same design, options and seed give the same bytes; another seed does not.
"$sdsim" run "$design" --duration 20 --seed 7 --json >"$tmp/a.json"
"$sdsim" run "$design" --duration 20 --seed 7 --json >"$tmp/b.json"
"$sdsim" run "$design" --duration 20 --seed 8 --json >"$tmp/c.json"
check "same seed, same bytes" cmp -s "$tmp/a.json" "$tmp/b.json"
check "another seed, other figures" test -n "$(cmp "$tmp/a.json" "$tmp/c.json")"
check "json has the DESIGN.md fields" test "$(json_get "$tmp/a.json" \
  'type(r.components.api.p99_ms) == "number" and type(r.e2e.error_rate) == "number" and type(r.components.db.mean_wait_ms) == "number"')" = true
# 1200 rps offered: the simulated throughput is within 5% of it (the design is not saturated).
check "throughput matches the offered load" test "$(json_get "$tmp/a.json" \
  'math.abs(r.e2e.throughput_rps - 1200) < 60')" = true

# --assert sets the exit code: 0 holds, 1 does not, 2 malformed.
"$sdsim" run "$design" --duration 10 --assert 'p99_ms < 10000 && error_rate < 0.5' >/dev/null 2>&1
check "--assert that holds exits 0" test $? -eq 0
"$sdsim" run "$design" --duration 10 --assert 'p99_ms < 0.001' >/dev/null 2>"$tmp/err"
check "--assert that fails exits 1" test $? -eq 1
check "--assert failure says what it saw" grep -q "p99_ms = " "$tmp/err"
"$sdsim" run "$design" --duration 10 --assert 'p99_ms <' >/dev/null 2>"$tmp/err"
check "--assert with bad syntax exits 2" test $? -eq 2
"$sdsim" run "$design" --duration 10 --assert 'api.utilization < 2 && nosuch.p99_ms < 1' \
  >/dev/null 2>"$tmp/err"
check "--assert with an unknown name exits 2" test $? -eq 2

# Replications give confidence intervals across runs.
"$sdsim" run "$design" --duration 10 --replications 4 --json >"$tmp/r.json"
check "replications give a CI" test "$(json_get "$tmp/r.json" \
  'r.replications == 4 and r.e2e.ci95.mean_ms_half_width > 0')" = true

# Bad options are refused with a message, never a crash.
for args in "--duration -5" "--duration nan" "--duration 1e999" "--seed x" "--warmup 30 --duration 10" \
            "--replications 0" "--frobnicate" "--json extra.json"; do
  # shellcheck disable=SC2086
  "$sdsim" run "$design" $args >/dev/null 2>"$tmp/err"
  rc=$?
  check "refuses '$args'" test $rc -eq 2
done
"$sdsim" run /nonexistent.json >/dev/null 2>"$tmp/err"
check "missing file exits 2" test $? -eq 2
check "missing file is named" grep -q "nonexistent" "$tmp/err"

# analyze and validate on the same design.
"$sdsim" analyze "$design" >"$tmp/an"
check "analyze exits 0" test $? -eq 0
check "analyze names where it saturates" grep -q "saturates at" "$tmp/an"
"$sdsim" validate "$design" >"$tmp/v"
check "validate accepts a good design" grep -q "^ok: three tier" "$tmp/v"

# A template runs in the restricted environment: string.dump is out of reach even through the
# strings' shared metatable, and io is not there at all.
cat >"$tmp/dump.lua" <<'LUA'
local dump = ("x").dump
return { version = 1, name = "dump " .. type(dump), edges = {},
         components = { { id = "a", type = "service" } }, workload = { { to = "a", rps = 1 } } }
LUA
"$sdsim" validate "$tmp/dump.lua" >"$tmp/v" 2>&1
check "templates cannot reach string.dump" grep -q "^ok: dump nil" "$tmp/v"
printf 'io.open("/etc/passwd")\nreturn {}\n' >"$tmp/io.lua"
"$sdsim" validate "$tmp/io.lua" >"$tmp/v" 2>&1
check "templates cannot use io" grep -q "io" "$tmp/v"

# Every template runs and reports.
for t in "$src"/templates/*.lua; do
  "$sdsim" run "$t" --duration 5 --json >"$tmp/t.json" 2>"$tmp/err"
  check "template $(basename "$t") runs" test $? -eq 0 -a -s "$tmp/t.json"
done

finish
