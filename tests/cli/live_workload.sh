#!/usr/bin/env bash
# Changing the traffic of a running live simulation, through the real `sdsim serve`:
# POST /api/simulations/:id/workload (rps or factor, by source index or target component) and
# the /ws control action "workload"; the frames' completed counts follow the new rate, the
# status shows the rate in force, bad bodies get 422, an ended run 409.
# Usage: live_workload.sh SDSIM_BINARY SOURCE_DIR
set -u
trap '' PIPE
sdsim=$1
src=$2
. "$src/tests/cli/lib/common.sh"
export LSAN_OPTIONS="suppressions=$src/tests/server/lsan.supp:print_suppressions=0"
export SDSIM_JWT_SECRET=0123456789abcdef0123456789abcdef-live-workload-test
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

# field NAME < output: NAME's value in the last frame
field() { grep '^FRAME' | tail -1 | tr ' ' '\n' | sed -n "s/^$1=//p"; }
# step S: runs S more seconds of simulated time over /ws (paused after), prints the output
step() {
  wsrun "/ws?token=$tok" <<EOF
wait auth_ok
send {"type":"subscribe","simulation":"$sim"}
wait subscribed
send {"type":"control","simulation":"$sim","action":"step","seconds":$1}
wait control_ok
frames 1
EOF
}
# within N MEAN: |N - MEAN| <= 4 sqrt(MEAN) (a Poisson count's 4-sigma band; completions over
# 10 s follow the arrivals: at 1 ms of service on 8 workers fewer than 10 are ever in system)
within() { awk -v n="$1" -v m="$2" 'BEGIN { exit !(n - m <= 4 * sqrt(m) && m - n <= 4 * sqrt(m)) }'; }

design='{"version":1,"name":"w","components":[{"id":"api","type":"service","params":{"workers":8,"service_time":{"dist":"exp","mean_ms":1}}}],"workload":[{"to":"api","rps":500}]}'
req -X POST -H 'content-type: application/json' \
  --data-binary '{"email":"wl@example.com","password":"correct horse"}' "$B/api/auth/register"
tok=$(jget .token)

api "$tok" POST /api/simulations/start "{\"design\":$design,\"config\":{\"duration\":100,\"speed\":1000,\"startPaused\":true}}"
sim=$(jget .id)
check "a run starts paused (201)" [ "$code" = 201 ]
api "$tok" GET "/api/simulations/$sim"
check "the status lists the source: to api, open, 500 rps ($(jget -c .workload))" \
  [ "$(jget '.workload[0] | "\(.index) \(.to) \(.kind) \(.rps)"')" = "0 api open 500" ]

# ---- 500/s for 10 s: 5,000 +- 283 completed
out=$(step 10)
t1=$(field t <<<"$out")
c1=$(field completed <<<"$out")
thr1=$(field thr <<<"$out")
check "10 s at 500/s: t=$t1, completed $c1 (5000 +- 283)" \
  eval '[ "$t1" = 10.000 ] && within "$c1" 5000'

# ---- factor 2 over REST: 1,000/s for 10 s: 10,000 +- 400 more
api "$tok" POST "/api/simulations/$sim/workload" '{"to":"api","factor":2}'
check "POST workload {to: api, factor: 2}: 200, status shows 1000 rps ($code $(jget -c .workload))" \
  [ "$code" = 200 -a "$(jget '.workload[0].rps')" = 1000 ]
out=$(step 10)
t2=$(field t <<<"$out")
c2=$(field completed <<<"$out")
thr2=$(field thr <<<"$out")
check "10 s more at 1000/s: t=$t2, $((c2 - c1)) more completed (10000 +- 400)" \
  eval '[ "$t2" = 20.000 ] && within "$((c2 - c1))" 10000'
# the frames' throughput is the last metrics window's (W s, the frame's `window`): its count of
# completions is Poisson(rps W) give or take the few in system, so thr W lies within
# rps W +- 4 sqrt(rps W) + 2 before and after the change
win=$(field window <<<"$out")
band() { awk -v t="$1" -v r="$2" -v w="$win" 'BEGIN { m = r * w; d = t * w - m; if (d < 0) d = -d
  exit !(w > 0 && d <= 4 * sqrt(m) + 2) }'; }
check "frame throughput $thr1 -> $thr2 (window $win s: 500 and 1000 within 4 sigma)" \
  eval 'band "$thr1" 500 && band "$thr2" 1000'

# ---- bad bodies
api "$tok" POST "/api/simulations/$sim/workload" '{"rps":-1}'
check "rps -1: 422 at \$.rps" [ "$code" = 422 -a "$(jget '.errors[0].path')" = '$.rps' ]
api "$tok" POST "/api/simulations/$sim/workload" '{"rps":"lots"}'
check "rps a string: 422 at \$.rps" [ "$code" = 422 -a "$(jget '.errors[0].path')" = '$.rps' ]
api "$tok" POST "/api/simulations/$sim/workload" '{}'
check "neither rps nor factor: 422 at \$.rps" [ "$code" = 422 -a "$(jget '.errors[0].path')" = '$.rps' ]
api "$tok" POST "/api/simulations/$sim/workload" '{"rps":1,"factor":2}'
check "both rps and factor: 422 at \$.rps" [ "$code" = 422 -a "$(jget '.errors[0].path')" = '$.rps' ]
api "$tok" POST "/api/simulations/$sim/workload" '{"source":1,"rps":10}'
check "source 1 of 1: 422 at \$.source" [ "$code" = 422 -a "$(jget '.errors[0].path')" = '$.source' ]
api "$tok" POST "/api/simulations/$sim/workload" '{"source":0.5,"rps":10}'
check "source 0.5: 422 at \$.source" [ "$code" = 422 -a "$(jget '.errors[0].path')" = '$.source' ]
api "$tok" POST "/api/simulations/$sim/workload" '{"to":"db","rps":10}'
check "to a component no source sends to: 422 at \$.to" [ "$code" = 422 -a "$(jget '.errors[0].path')" = '$.to' ]
api "$tok" GET "/api/simulations/$sim"
check "refusals changed nothing (1000 rps)" [ "$(jget '.workload[0].rps')" = 1000 ]

# ---- the /ws action: 250/s for 10 s: 2,500 +- 200 more
out=$(wsrun "/ws?token=$tok" <<EOF
wait auth_ok
send {"type":"subscribe","simulation":"$sim"}
wait subscribed
send {"type":"control","simulation":"$sim","action":"workload","source":0,"rps":250,"id":3}
wait control_ok
send {"type":"control","simulation":"$sim","action":"step","seconds":10}
wait control_ok
frames 1
EOF
)
okmsg=$(sed -n 's/^TEXT //p' <<<"$out" | jq -c 'select(.type == "control_ok" and .action == "workload")' 2>/dev/null)
check "/ws action workload: control_ok, id 3, status at 250 rps" \
  [ "$(jq -r '"\(.id) \(.status.workload[0].rps)"' <<<"$okmsg")" = "3 250" ]
t3=$(field t <<<"$out")
c3=$(field completed <<<"$out")
check "10 s more at 250/s: t=$t3, $((c3 - c2)) more completed (2500 +- 200)" \
  eval '[ "$t3" = 30.000 ] && within "$((c3 - c2))" 2500'
out=$(wsrun "/ws?token=$tok" <<EOF
wait auth_ok
send {"type":"control","simulation":"$sim","action":"workload","rps":-5}
wait error
EOF
)
check "/ws action workload with rps -5: an error naming \$.rps" \
  [ "$(sed -n 's/^TEXT //p' <<<"$out" | grep -c '\$.rps')" -ge 1 ]

# ---- rps 0 pauses the source: nothing completes in 5 more seconds (none was in system long)
api "$tok" POST "/api/simulations/$sim/workload" '{"source":0,"rps":0}'
check "rps 0: 200" [ "$code" = 200 -a "$(jget '.workload[0].rps')" = 0 ]
out=$(step 5)
c4=$(field completed <<<"$out")
check "paused source: $((c4 - c3)) completed in 5 s (at most the few in system)" [ "$((c4 - c3))" -le 10 ]

# ---- ended
api "$tok" POST "/api/simulations/$sim/stop"
api "$tok" POST "/api/simulations/$sim/workload" '{"rps":100}'
check "a stopped run: 409 ($(jget .error))" [ "$code" = 409 ]

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=""
check "the server stopped cleanly (exit $rc)" [ "$rc" = 0 ]
finish
