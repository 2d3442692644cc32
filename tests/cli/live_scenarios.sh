#!/usr/bin/env bash
# Failure scenarios in live simulations, through the real `sdsim serve`: GET /api/scenarios
# (the shipped files with their descriptions and parameters), a start with config.scenario
# whose crash shows in the frames at its simulated time, a scenario applied to a running
# simulation (its faults wait on the timeline, counted from the simulated time it was applied
# at) over REST and /ws, and the 422s (unknown name, a target the design lacks, a scenario
# that adds traffic to a running simulation).
# Usage: live_scenarios.sh SDSIM_BINARY SOURCE_DIR
set -u
trap '' PIPE
sdsim=$1
src=$2
. "$src/tests/cli/lib/common.sh"
export LSAN_OPTIONS="suppressions=$src/tests/server/lsan.supp:print_suppressions=0"
export SDSIM_JWT_SECRET=0123456789abcdef0123456789abcdef-live-scenarios-test
ws=$(dirname "$sdsim")/ws_client
[ -x "$ws" ] || { echo "FAIL no ws_client beside $sdsim"; echo "0 passed, 1 failed"; exit 1; }
pid=""
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

. "$src/tests/cli/lib/server.sh"
start "$tmp/data"

msgs() { sed -n 's/^TEXT //p' | jq -c "select(.type == \"$1\")" 2>/dev/null; }
# frames_where AWK_COND < output: "t down" of each FRAME line matching the condition on t and
# down (down is "-" or the indices of the components down)
frames_where() {
  grep '^FRAME' | tr ' ' '\n' | awk -F= '$1 == "t" { t = $2 } $1 == "down" { print t, $2 }' |
    awk "$1" | grep -c .
}

design=$(cat "$src/tests/cli/data/three_tier.json") # lb, api, db (index 2, one replica)
req -X POST -H 'content-type: application/json' \
  --data-binary '{"email":"sc@example.com","password":"correct horse"}' "$B/api/auth/register"
tok=$(jget .token)

# ---- the list
req "$B/api/scenarios"
check "GET /api/scenarios: 200 with the 10 shipped scenarios ($(jget '[.scenarios[].name] | join(",")'))" \
  [ "$code" = 200 -a "$(jget '.scenarios | length')" = 10 ]
check "each with a title, a description and the header's text" \
  [ "$(jget '[.scenarios[] | select(.title != "" and .description != "" and .about != "")] | length')" = 10 ]
check "titles from the files (db_failover: $(jget '.scenarios[] | select(.name == "db_failover") | .title'))" \
  [ "$(jget '.scenarios[] | select(.name == "db_failover") | .title')" = "Database failover" ]
check "db_failover's parameters (at_s: number, replica: int, default 0)" \
  [ "$(jget '.scenarios[] | select(.name == "db_failover") | "\(.params.at_s.type) \(.params.replica.type) \(.params.replica.default)"')" = "number int 0" ]
t0=$(date +%s%N)
req "$B/api/scenarios"
ms=$((($(date +%s%N) - t0) / 1000000))
check "a second list comes from the cache (${ms} ms, 200)" [ "$code" = 200 -a "$ms" -lt 1000 ]

# ---- errors at the start
api "$tok" POST /api/simulations/start "{\"design\":$design,\"config\":{\"scenario\":\"nope\"}}"
check "start with an unknown scenario: 422 at \$.config.scenario ($(jget .error))" \
  [ "$code" = 422 -a "$(jget '.errors[0].path')" = '$.config.scenario' \
  -a "$(jget '.error | test("no scenario named .nope. \\(shipped: cache_miss_storm, ")')" = true ]
api "$tok" POST /api/simulations/start \
  "{\"design\":$design,\"config\":{\"scenario\":\"db_failover\",\"scenarioParams\":{\"target\":\"dbx\"}}}"
check "a scenario naming a component the design lacks: 422 ($(jget .error))" \
  [ "$code" = 422 -a "$(jget '.error | test("no component .dbx.")')" = true ]
api "$tok" POST /api/simulations/start "{\"design\":$design,\"config\":{\"scenario\":\"../etc\"}}"
check "a path is no scenario name: 422" [ "$code" = 422 ]

# ---- a start with a scenario: db (index 2) crashes at 2 s for 2 s of simulated time
api "$tok" POST /api/simulations/start "{\"design\":$design,\"config\":{\"duration\":6,\"speed\":4,\"startPaused\":true,\"scenario\":\"db_failover\",\"scenarioParams\":{\"at_s\":2,\"for_s\":2}}}"
sim=$(jget .id)
check "start with db_failover: 201, the scenario's summary ($(jget .scenario))" \
  [ "$code" = 201 -a "$(jget '.scenario | test("^db_failover — crash db replica 0 at 2 s for 2 s")')" = true ]
out=$(wsrun "/ws?token=$tok" <<EOF
wait auth_ok
send {"type":"subscribe","simulation":"$sim"}
wait subscribed
send {"type":"control","simulation":"$sim","action":"resume"}
wait control_ok
frames 3
EOF
)
before=$(frames_where '$1 < 1.99 && $2 != "-"' <<<"$out")
during=$(frames_where '$1 >= 2.05 && $1 < 3.95 && $2 == "2"' <<<"$out")
during_all=$(frames_where '$1 >= 2.05 && $1 < 3.95' <<<"$out")
after=$(frames_where '$1 >= 4.05 && $2 != "-"' <<<"$out")
check "frames: nothing down before 2 s ($before), db down in every frame within [2, 4) s ($during of $during_all), up again after 4 s ($after)" \
  [ "$before" = 0 -a "$during" -ge 3 -a "$during" = "$during_all" -a "$after" = 0 ]
check "notices: the scenario, the fault, its end" \
  [ "$(grep '^FRAME' <<<"$out" | grep -c 'notice=scenario')" -ge 1 \
  -a "$(grep '^FRAME' <<<"$out" | grep -c 'notice=fault')" -ge 1 \
  -a "$(grep '^FRAME' <<<"$out" | grep -c 'notice=recovered')" -ge 1 ]
errs=$(grep '^FRAME' <<<"$out" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^t=/) t = substr($i, 3); else if ($i ~ /^errors=/) e = $i } t >= 3 { print e; exit }')
check "errors at api and db while db is down ($errs)" \
  awk -v e="${errs#errors=}" 'BEGIN { split(e, a, ","); exit !(a[2] > 0 && a[3] > 0) }'
api "$tok" GET "/api/simulations/$sim"
check "the status lists the scenario while it runs ($(jget '.scenarios[0]' | cut -c1-40)...)" \
  [ "$(jget '.scenarios | length')" = 1 -a "$(jget '.scenarios[0] | startswith("db_failover — ")')" = true ]
for _ in $(seq 100); do
  api "$tok" GET "/api/simulations/$sim"
  [ "$(jget .state)" = finished ] && break
  sleep 0.1
done

# ---- applied mid-run: paused at 5 s, db_failover at +1 s for 1 s -> down in [6, 7)
api "$tok" POST /api/simulations/start "{\"design\":$design,\"config\":{\"duration\":60,\"startPaused\":true}}"
sim=$(jget .id)
check "a second run starts (without a scenario)" [ "$code" = 201 ]
api "$tok" POST "/api/simulations/$sim/scenario" '{"name":"nope"}'
check "unknown scenario applied: 422 ($(jget .error))" \
  [ "$code" = 422 -a "$(jget '.error | test("no scenario named .nope.")')" = true ]
api "$tok" POST "/api/simulations/$sim/scenario" '{"name":"db_failover","params":{"target":"dbx"}}'
check "applied with a target the design lacks: 422 ($(jget .error))" \
  [ "$code" = 422 -a "$(jget '.error | test("no component .dbx.")')" = true ]
api "$tok" POST "/api/simulations/$sim/scenario" '{"name":"traffic_spike"}'
check "traffic_spike (extra sources) on a running simulation: 422 ($(jget .error))" \
  [ "$code" = 422 -a "$(jget '.error | test("only takes effect from the start")')" = true ]
api "$tok" POST "/api/simulations/$sim/scenario" '{}'
check "no name: 422 at \$.name" [ "$code" = 422 -a "$(jget '.errors[0].path')" = '$.name' ]
out=$(wsrun "/ws?token=$tok" <<EOF
wait auth_ok
send {"type":"subscribe","simulation":"$sim"}
wait subscribed
send {"type":"control","simulation":"$sim","action":"step","seconds":5}
wait control_ok
frames 0.6
send {"type":"control","simulation":"$sim","action":"scenario","name":"db_failover","params":{"at_s":1,"for_s":1},"id":7}
wait control_ok 20
send {"type":"control","simulation":"$sim","action":"step","seconds":0.5}
wait control_ok
frames 0.6
send {"type":"control","simulation":"$sim","action":"step","seconds":1}
wait control_ok
frames 0.6
send {"type":"control","simulation":"$sim","action":"step","seconds":1}
wait control_ok
frames 0.6
EOF
)
applied=$(msgs control_ok <<<"$out" | jq -c 'select(.action == "scenario")')
check "/ws action scenario: control_ok from 5 s, 1 fault ($(jq -r .status.scenario.summary <<<"$applied"))" \
  [ "$(jq -r '"\(.status.scenario.from) \(.status.scenario.faults) \(.id)"' <<<"$applied")" = "5 1 7" ]
check "the fault waits: not down at 5.5 s" [ "$(frames_where '$1 > 5.4 && $1 < 5.6 && $2 == "-"' <<<"$out")" -ge 1 \
  -a "$(frames_where '$1 < 6 && $2 != "-"' <<<"$out")" = 0 ]
check "db down at 6.5 s (crashed at 6 s)" [ "$(frames_where '$1 > 6.4 && $1 < 6.6 && $2 == "2"' <<<"$out")" -ge 1 ]
check "up again at 7.5 s" [ "$(frames_where '$1 > 7.4 && $1 < 7.6 && $2 == "-"' <<<"$out")" -ge 1 \
  -a "$(frames_where '$1 > 7.4 && $2 != "-"' <<<"$out")" = 0 ]
api "$tok" GET "/api/simulations/$sim"
check "the status lists the scenario applied mid-run" [ "$(jget '.scenarios | length')" = 1 ]
# (a frame the connection had not sent yet is replaced by a newer one, its notices with it:
# under a sanitizer one of the two may be lost at the WebSocket, so one of them is enough)
nn=$(grep '^FRAME' <<<"$out" | grep -o 'notice=[a-z]*' | sort | uniq -c | tr -s ' ' | tr '\n' ',')
check "notices: the scenario applied or the fault ($nn)" \
  [ "$(grep '^FRAME' <<<"$out" | grep -c 'notice=scenario\|notice=fault')" -ge 1 ]
api "$tok" POST "/api/simulations/$sim/scenario" '{"name":"zone_outage"}'
check "a scenario that finds nothing in the design (no zones): 422 ($(jget .error))" \
  [ "$code" = 422 -a "$(jget '.error | test("zone")')" = true ]
api "$tok" POST "/api/simulations/$sim/stop"
api "$tok" POST "/api/simulations/$sim/scenario" '{"name":"db_failover"}'
check "applied to a stopped run: 409" [ "$code" = 409 ]

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=""
check "the server stopped cleanly (exit $rc)" [ "$rc" = 0 ]
finish
