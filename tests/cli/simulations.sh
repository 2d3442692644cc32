#!/usr/bin/env bash
# Live simulations through the real `sdsim serve`, driven with curl and a real WebSocket client
# (tests/server/ws_client.c, which decodes the protobuf frames): start from a saved project,
# subscribe, frames (rate, seq, figures), pause, resume, speed, step, inject a crash, replicas,
# stop, report; another user's 404s; the plan's limits and the server's; bad tokens and
# malformed control messages on /ws; a client that never reads next to one that does (memory
# and the other's frames measured); reports persisted through a SIGTERM and a restart. Runs on
# SQLite, then a shorter flow on a throw-away PostgreSQL (+ Redis) when installed.
# Usage: simulations.sh SDSIM_BINARY SOURCE_DIR
set -u
trap '' PIPE
sdsim=$1
src=$2
. "$src/tests/cli/lib/common.sh"
export LSAN_OPTIONS="suppressions=$src/tests/server/lsan.supp:print_suppressions=0"
secret=0123456789abcdef0123456789abcdef-simulations-test
export SDSIM_JWT_SECRET=$secret
export SDSIM_LIVE_MAX=2 # the server's cap on live runs, low enough to reach here
ws=$(dirname "$sdsim")/ws_client
[ -x "$ws" ] || { echo "FAIL no ws_client beside $sdsim"; echo "0 passed, 1 failed"; exit 1; }
pid=""
pgstate=""
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  [ -n "${SIM_TEST_LOG:-}" ] && cp "$tmp/server.log" "$SIM_TEST_LOG" # to look at afterwards
  [ -n "$pgstate" ] && bash "$src/tests/services/postgres.sh" stop "$pgstate" >/dev/null 2>&1
  [ -n "$pgstate" ] && bash "$src/tests/services/redis.sh" clean "$pgstate" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT

. "$src/tests/cli/lib/server.sh"
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
sign() {
  local h p s
  h=$(printf '%s' "$1" | b64url)
  p=$(printf '%s' "$2" | b64url)
  s=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -hmac "$3" -binary | b64url)
  printf '%s.%s.%s' "$h" "$p" "$s"
}
# register EMAIL -> prints "token user_id"
register() {
  req -X POST -H 'content-type: application/json' \
    --data-binary "{\"email\":\"$1\",\"password\":\"correct horse\"}" "$B/api/auth/register"
  printf '%s %s' "$(jget .token)" "$(jget .user.id)"
}
# summary FIELD < output: a field of the last SUMMARY line
sfield() { grep '^SUMMARY' | tail -n1 | tr ' ' '\n' | sed -n "s/^$1=//p"; }
# msgs TYPE < output: the TEXT messages of that type, one JSON per line
msgs() { sed -n 's/^TEXT //p' | jq -c "select(.type == \"$1\")" 2>/dev/null; }
# count TYPE JQ_FILTER < output: how many TEXT messages of that type the filter accepts
count() { msgs "$1" | jq -c "select($2)" | grep -c .; }
# ffield FIELD < FRAME lines: that field of each
ffield() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
# in RANGE: awk "lo <= x <= hi"
within() { awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x >= lo && x <= hi) }'; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$pid/status"; }
# metric SERIES: its value in /metrics (the series written as in the exposition)
metric() { curl -s "$B/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }

design=$(cat "$src/tests/cli/data/three_tier.json")
# A design whose frames are large (40 components, 39 edges): a slow reader's backlog fills
# the socket buffers within a second or two.
big=$(jq -n '{version: 1, name: "wide",
  components: ([{id: "lb", type: "load_balancer"}] + [range(1; 40) | {id: "s\(.)",
    type: "service", params: {workers: 4, service_time: {dist: "exp", mean_ms: 5}}}]),
  edges: [range(1; 40) | {from: "lb", to: "s\(.)", mode: "forward"}],
  workload: [{to: "lb", rps: 2000}]}')
# 51 components: over the free plan's 50.
huge=$(jq -n '{version: 1, name: "huge",
  components: [range(0; 51) | {id: "s\(.)", type: "service"}],
  workload: [{to: "s0", rps: 1}]}')

# ---------------------------------------------------------------------------------------------
# full LABEL: every check (SQLite)
full() {
  local L=$1 ann annid bob bobid carol
  read -r ann annid <<<"$(register ann@example.com)"
  read -r bob bobid <<<"$(register bob@example.com)"
  read -r carol _ <<<"$(register carol@example.com)"
  api "$ann" POST /api/projects "{\"name\":\"shop\",\"design\":$design}"
  local project
  project=$(jget .id)
  check "$L project created" [ "$code" = 201 ]

  # ---- start
  req -X POST --data-binary "{\"projectId\":\"$project\"}" "$B/api/simulations/start"
  check "$L start without a token: 401" [ "$code" = 401 ]
  api "$bob" POST /api/simulations/start "{\"projectId\":\"$project\"}"
  check "$L start from someone else's private project: 404" [ "$code" = 404 ]
  api "$ann" POST /api/simulations/start '{"design":{"version":1,"components":[{"id":"a","type":"nope"}]}}'
  check "$L invalid design: 422 with paths under \$.design ($(jget '.errors[0].path'))" \
    [ "$code" = 422 -a "$(jget '.errors[0].path' | cut -c1-21)" = '$.design.components[0' ]
  api "$ann" POST /api/simulations/start '{"config":{"duration":-1,"speed":"fast"}}'
  check "$L bad config: 422 naming each field" [ "$code" = 422 -a \
    "$(jget '[.errors[].path] | sort | join(",")')" = '$.config.duration,$.config.speed,$.design' ]
  api "$ann" POST /api/simulations/start "{\"projectId\":\"$project\",\"config\":{\"duration\":4000}}"
  check "$L duration over the plan: 403 ($(jget .error))" [ "$code" = 403 -a "$(jget .limit)" = 3600 ]
  api "$ann" POST /api/simulations/start "{\"design\":$huge}"
  check "$L 51 components over the plan: 403 ($(jget .error))" [ "$code" = 403 -a "$(jget .limit)" = 50 ]
  api "$ann" POST /api/simulations/start "{\"projectId\":\"$project\",\"config\":{\"duration\":600,\"seed\":7}}"
  local sim
  sim=$(jget .id)
  check "$L start: 201 running, components and edges in design order" [ "$code" = 201 \
    -a "$(jget .state)" = running -a "$(jget '[.components[].id] | join(",")')" = lb,api,db \
    -a "$(jget '[.edges[] | "\(.index):\(.from)->\(.to):\(.mode)"] | join(",")')" = \
    "0:lb->api:forward,1:api->db:call" -a "$(jget .duration)" = 600 ]
  api "$ann" POST /api/simulations/start "{\"projectId\":\"$project\"}"
  check "$L a second run at once: 429 (free plan: 1) ($(jget .error))" [ "$code" = 429 ]

  # ---- another user sees nothing
  api "$bob" GET "/api/simulations/$sim"
  check "$L another user's status: 404" [ "$code" = 404 ]
  api "$bob" POST "/api/simulations/$sim/pause"
  check "$L another user's pause: 404" [ "$code" = 404 ]
  api "$bob" GET "/api/simulations/$sim/report"
  check "$L another user's report: 404" [ "$code" = 404 ]
  api "$bob" GET /api/simulations
  check "$L another user's list is empty" [ "$code" = 200 -a "$(jget '.simulations | length')" = 0 ]
  api "$ann" GET /api/simulations/not-an-id
  check "$L malformed id: 404" [ "$code" = 404 ]

  # ---- the server's cap (SDSIM_LIVE_MAX=2): bob takes the second place, carol is refused
  api "$bob" POST /api/simulations/start "{\"design\":$design,\"config\":{\"duration\":20}}"
  local bobsim
  bobsim=$(jget .id)
  check "$L bob's run starts (second of 2 places)" [ "$code" = 201 ]
  api "$carol" POST /api/simulations/start "{\"design\":$design}"
  check "$L a third run on the server: 429 ($(jget .error))" [ "$code" = 429 ]
  api "$bob" POST "/api/simulations/$bobsim/speed" '{"speed":0}' # runs to its end now
  lap "start and limits"

  # ---- frames
  local out
  out=$(wsrun "/ws?token=$ann" <<EOF
wait auth_ok
send {"type":"subscribe","simulation":"$sim","id":1}
wait subscribed
frames 2
EOF
)
  local n rate gaps dis wall s0 s1
  n=$(sfield frames <<<"$out")
  rate=$(sfield rate <<<"$out")
  gaps=$(sfield gaps <<<"$out")
  dis=$(sfield disorder <<<"$out")
  wall=$(sfield wall <<<"$out")
  s0=$(sfield sim_first <<<"$out")
  s1=$(sfield sim_last <<<"$out")
  check "$L subscribed with the status" [ "$(count subscribed '.state == "running"' <<<"$out")" = 1 ]
  check "$L frames at 1x: $n in 2 s, $rate/s (20 expected, 14-26 accepted), gaps $gaps" \
    within "$rate" 14 26
  check "$L seq strictly increasing (disorder $dis), few skipped ($gaps <= 3)" \
    [ "$dis" = 0 -a "$gaps" -le 3 ]
  local adv
  adv=$(awk -v a="$s0" -v b="$s1" -v w="$wall" 'BEGIN { printf "%.2f", (b - a) / w }')
  check "$L simulated time advances at 1x: $adv sim s per wall s (0.8-1.2)" within "$adv" 0.8 1.2
  local last
  last=$(grep '^FRAME' <<<"$out" | tail -n1)
  check "$L frame figures sane: 3 components, 2 edges, throughput $(ffield thr <<<"$last") (1200 rps +-25%), no errors" \
    [ "$(ffield comps <<<"$last")" = 3 -a "$(ffield edges <<<"$last")" = 2 \
    -a "$(ffield failed <<<"$last")" = 0 -a "$(ffield sim <<<"$last")" = "$sim" ]
  check "$L throughput within 900-1500" within "$(ffield thr <<<"$last")" 900 1500

  # ---- pause, resume, speed, step (REST)
  api "$ann" POST "/api/simulations/$sim/pause"
  local t1 t2
  t1=$(jget .simTime)
  check "$L pause: paused" [ "$code" = 200 -a "$(jget .state)" = paused ]
  sleep 0.5
  api "$ann" GET "/api/simulations/$sim"
  t2=$(jget .simTime)
  check "$L sim time stops while paused ($t1 -> $t2)" [ "$t1" = "$t2" -a "$(jget .state)" = paused ]
  api "$ann" POST "/api/simulations/$sim/step" '{"seconds":2}'
  sleep 0.3
  api "$ann" GET "/api/simulations/$sim"
  local t3
  t3=$(jget .simTime)
  check "$L step 2 s: $t2 -> $t3, paused again" [ "$(jget .state)" = paused ]
  check "$L step advanced 2 s" within "$(awk -v a="$t2" -v b="$t3" 'BEGIN{print b-a}')" 1.99 2.01
  api "$ann" POST "/api/simulations/$sim/resume"
  check "$L resume: running" [ "$code" = 200 -a "$(jget .state)" = running ]
  api "$ann" POST "/api/simulations/$sim/speed" '{"speed":10}'
  check "$L speed 10: accepted" [ "$code" = 200 -a "$(jget .speed)" = 10 ]
  out=$(wsrun "/ws?token=$ann" <<EOF
wait auth_ok
send {"type":"subscribe","simulation":"$sim"}
wait subscribed
quiet 0.2
quiet 1
EOF
)
  local v
  v=$(awk -v a="$(sfield sim_first <<<"$out")" -v b="$(sfield sim_last <<<"$out")" \
    -v w="$(sfield wall <<<"$out")" 'BEGIN{printf "%.2f", (b - a) / w}')
  check "$L at 10x, 10 sim s pass per wall second: $v (8-12, from the frames)" within "$v" 8 12
  api "$ann" POST "/api/simulations/$sim/speed" '{"speed":1}'
  api "$ann" POST "/api/simulations/$sim/speed" '{"speed":-1}'
  check "$L negative speed: 422 \$.speed" [ "$code" = 422 -a "$(jget '.errors[0].path')" = '$.speed' ]
  api "$ann" POST "/api/simulations/$sim/inject" '{"kind":"meteor","target":"db"}'
  check "$L unknown fault kind: 422 \$.kind" [ "$code" = 422 -a "$(jget '.errors[0].path')" = '$.kind' ]
  api "$ann" POST "/api/simulations/$sim/inject" '{"kind":"crash","target":"nope"}'
  check "$L fault on an unknown component: 422 \$.target" [ "$code" = 422 -a "$(jget '.errors[0].path')" = '$.target' ]

  # ---- control over /ws: crash the database, scale the api, then stop; frames show it
  out=$(wsrun "/ws" <<EOF
send {"type":"auth","token":"$ann"}
wait auth_ok
send {"type":"subscribe","simulation":"$sim"}
wait subscribed
send {"type":"control","simulation":"$sim","action":"inject","kind":"crash","target":"db","duration":30,"id":"c1"}
wait control_ok
frames 1
send {"type":"control","simulation":"$sim","action":"replicas","component":"api","replicas":5}
wait control_ok
frames 0.5
send {"type":"control","simulation":"$sim","action":"stop"}
wait ended 5
EOF
)
  printf '%s\n' "$out" >"$tmp/ws_control.out"
  check "$L inject over /ws: control_ok with the status, id echoed" \
    [ "$(count control_ok '.action == "inject" and .id == "c1" and .status.state == "running"' <<<"$out")" = 1 ]
  local crashed
  crashed=$(grep '^FRAME' <<<"$out" | grep -c ' down=2 ')
  check "$L after the crash, frames show db down ($crashed frames)" [ "$crashed" -ge 5 ]
  last=$(grep '^FRAME' <<<"$out" | grep ' down=2 ' | tail -n1)
  check "$L errors appear in frames (failed=$(ffield failed <<<"$last"), error rate $(ffield err <<<"$last"))" \
    [ "$(ffield failed <<<"$last")" -gt 0 ] && within "$(ffield err <<<"$last")" 0.2 1
  check "$L replicas 5 for the api in frames" \
    grep -q ' replicas=1,5,' <<<"$(grep '^FRAME' <<<"$out" | tail -n1)"
  check "$L stop: ended (stopped) after the last frame" \
    [ "$(grep -E '^(FRAME|TEXT)' <<<"$out" | tail -n1 | count ended '.state == "stopped"')" = 1 ]
  check "$L the last frame before ended says stopped (state 4)" \
    [ "$(grep '^FRAME' <<<"$out" | tail -n1 | ffield state)" = 4 ]
  api "$ann" GET "/api/simulations/$sim"
  check "$L status after stop: stopped" [ "$(jget .state)" = stopped ]
  api "$ann" GET "/api/simulations/$sim/report"
  check "$L report: 200, the run --json report (design $(jget .design), seed $(jget .seed))" \
    [ "$code" = 200 -a "$(jget .design)" = "three tier" -a "$(jget .seed)" = 7 \
    -a "$(jget '.components | keys | sort | join(",")')" = api,db,lb ]
  api "$ann" POST "/api/simulations/$sim/pause"
  check "$L pause after the end: 409 ($(jget .error))" [ "$code" = 409 ]

  # ---- a finished run's report; a running run's report is 409
  sleep 1 # bob's 30 s at full speed is over by now
  api "$bob" GET "/api/simulations/$bobsim/report"
  check "$L bob's run finished: report ($(jget .duration_s) s)" \
    [ "$code" = 200 -a "$(jget .duration_s)" = 20 ]
  api "$bob" GET "/api/simulations/$bobsim"
  check "$L bob's run: finished" [ "$(jget .state)" = finished -a "$(jget .simTime)" = 20 ]
  lap "controls"
  api "$ann" POST /api/simulations/start "{\"design\":$design,\"config\":{\"startPaused\":true}}"
  local paused
  paused=$(jget .id)
  check "$L startPaused: paused at 0" [ "$code" = 201 -a "$(jget .state)" = paused ]
  api "$ann" GET "/api/simulations/$paused/report"
  check "$L report while not ended: 409" [ "$code" = 409 ]

  # ---- /ws: tokens, unauthenticated and malformed messages
  local now
  now=$(date +%s)
  local expired forged
  expired=$(sign '{"alg":"HS256","typ":"JWT"}' \
    "{\"sub\":\"$annid\",\"role\":\"user\",\"iss\":\"sdsim\",\"typ\":\"access\",\"iat\":$((now - 2000)),\"exp\":$((now - 1000))}" "$secret")
  forged=$(sign '{"alg":"HS256","typ":"JWT"}' \
    "{\"sub\":\"$annid\",\"role\":\"admin\",\"iss\":\"sdsim\",\"typ\":\"access\",\"iat\":$now,\"exp\":$((now + 600))}" "not-the-key")
  out=$(wsrun "/ws?token=garbage" <<<"wait auth_ok 3")
  check "$L ?token=garbage: error, then close 4401" \
    [ "$(count error '.error | test("invalid token")' <<<"$out")" = 1 \
    -a "$(grep -c '^CLOSE 4401' <<<"$out")" = 1 ]
  out=$(wsrun "/ws" <<<"send {\"type\":\"auth\",\"token\":\"$expired\"}
wait auth_ok 3")
  check "$L expired token: error, then close 4401" grep -q '^CLOSE 4401' <<<"$out"
  out=$(wsrun "/ws?token=$forged" <<<"wait auth_ok 3")
  check "$L token signed with another key: close 4401" grep -q '^CLOSE 4401' <<<"$out"
  out=$(wsrun "/ws" <<EOF
send {"type":"subscribe","simulation":"$paused"}
wait error
send {"type":"ping","id":3}
wait pong
EOF
)
  check "$L subscribe before auth: an error, the connection stays" \
    [ "$(count error '.error | test("not authenticated")' <<<"$out")" = 1 \
    -a "$(count pong '.id == 3' <<<"$out")" = 1 ]
  out=$(wsrun "/ws?token=$bob" <<EOF
wait auth_ok
send {"type":"subscribe","simulation":"$paused"}
wait error
send {"type":"control","simulation":"$paused","action":"resume"}
wait error
EOF
)
  check "$L another user's subscribe and control over /ws: no such simulation" \
    [ "$(count error '.error == "no such simulation"' <<<"$out")" = 2 ]
  out=$(wsrun "/ws?token=$ann" <<EOF
wait auth_ok
send {"type":"control","action":"pause"}
wait error
send {"type":"control","simulation":"$paused","action":"explode"}
wait error
send {"type":"control","simulation":"$paused","action":"inject","kind":"crash"}
wait error
send {"type":"control","simulation":"$paused","action":"replicas","component":"api","replicas":0}
wait error
send {"type":"control","simulation":"$paused","action":"speed","speed":"fast"}
wait error
send {"type":"subscribe"}
wait error
send {"type":"control","simulation":"$paused","action":"resume","id":9}
wait control_ok
send {"type":"control","simulation":"$paused","action":"stop"}
wait control_ok
send not json at all
wait never 3
EOF
)
  printf '%s\n' "$out" >"$tmp/ws_bad.out"
  local paths
  paths=$(msgs error <<<"$out" | jq -r '.errors[0].path // .error' | tr '\n' '|')
  check "$L malformed control messages: 6 errors, each naming the problem ($paths)" \
    [ "$(msgs error <<<"$out" | grep -c .)" = 6 \
    -a "$(count error '.errors[0].path == "$.action"' <<<"$out")" = 1 \
    -a "$(count error '.errors[0].path == "$.target"' <<<"$out")" = 1 \
    -a "$(count error '.errors[0].path == "$.replicas"' <<<"$out")" = 1 \
    -a "$(count error '.errors[0].path == "$.speed"' <<<"$out")" = 1 ]
  check "$L after them the connection still works (resume, stop: control_ok, id echoed)" \
    [ "$(msgs control_ok <<<"$out" | grep -c .)" = 2 -a "$(count control_ok '.id == 9' <<<"$out")" = 1 ]
  lap "tokens and malformed messages"
  if grep -q '^CLOSE 1007' <<<"$out"; then ok "$L text that is not JSON: close 1007"; else
    bad "$L text that is not JSON: close 1007"
    tail -n 4 <<<"$out" | cut -c1-300
  fi

  local burst
  burst=$( (echo "wait auth_ok"
    for i in $(seq 40); do
      echo "send {\"type\":\"subscribe\",\"simulation\":\"00000000-0000-4000-8000-0000000000$((i + 10))\"}"
    done
    echo "quiet 2") | wsrun "/ws?token=$ann")
  check "$L 40 requests at once on one connection: at most 16 in progress, the rest refused ($(count error '.error | test("too many requests")' <<<"$burst") refused)" \
    [ "$(count error '.error | test("too many requests")' <<<"$burst")" -ge 1 \
    -a "$(count error '.error == "no such simulation"' <<<"$burst")" -ge 1 \
    -a "$(msgs error <<<"$burst" | grep -c .)" = 40 ]

  # ---- a client that never reads beside one that does (one run, two subscribers)
  api "$ann" POST /api/simulations/start "{\"design\":$big,\"config\":{\"duration\":600}}"
  local wide
  wide=$(jget .id)
  check "$L wide design (40 components) started" [ "$code" = 201 ]
  out=$(wsrun "/ws?token=$ann" <<EOF
wait auth_ok
send {"type":"subscribe","simulation":"$wide"}
wait subscribed
quiet 0.3
send {"type":"unsubscribe","simulation":"$wide"}
wait unsubscribed
quiet 0.6
EOF
)
  check "$L unsubscribe: frames before ($(grep '^SUMMARY' <<<"$out" | head -n1 | sfield frames)), at most one in flight after ($(sfield frames <<<"$out"))" \
    [ "$(grep '^SUMMARY' <<<"$out" | head -n1 | sfield frames)" -ge 3 -a "$(sfield frames <<<"$out")" -le 1 \
    -a "$(count unsubscribed '.wasSubscribed == true' <<<"$out")" = 1 ]
  check "$L /metrics: 1 live simulation" [ "$(metric sdsim_live_simulations)" = 1 ]
  local m0
  m0=$(metric 'sdsim_websocket_frames_total{outcome="replaced"}')
  WS_RCVBUF=4096 wsrun "/ws?token=$ann" >"$tmp/slow.out" <<EOF &
wait auth_ok
send {"type":"subscribe","simulation":"$wide"}
wait subscribed
sleep 5
quiet 1
EOF
  local slowpid=$!
  wsrun "/ws?token=$ann" >"$tmp/fast.out" <<EOF &
wait auth_ok
send {"type":"subscribe","simulation":"$wide"}
wait subscribed
quiet 1.5
quiet 3.5
EOF
  local fastpid=$!
  sleep 2 # the slow reader's buffers are full by now (frames of ~3.5 kB at 20/s)
  local r0 r1
  r0=$(rss_kb)
  sleep 3
  r1=$(rss_kb)
  wait "$slowpid" "$fastpid"
  local fr fg fm sn sg fb
  fr=$(sfield rate <"$tmp/fast.out")
  fm=$(sfield maxgap_ms <"$tmp/fast.out")
  fg=$(sfield gaps <"$tmp/fast.out")
  fb=$(sfield bytes <"$tmp/fast.out")
  sn=$(sfield frames <"$tmp/slow.out")
  sg=$(sfield gaps <"$tmp/slow.out")
  local fsize=$((fb / $(sfield frames <"$tmp/fast.out")))
  check "$L the reader beside a stalled one keeps 20/s: $fr/s, longest gap $fm ms, $fg skipped (frames of $fsize bytes)" \
    within "$fr" 15 26
  check "$L ... and no gap over 300 ms" [ "${fm%.*}" -le 300 ]
  check "$L the stalled reader was given fewer frames, not a queue: it got $sn, skipped $sg" \
    [ "$sg" -ge 30 ]
  local m1
  m1=$(metric 'sdsim_websocket_frames_total{outcome="replaced"}')
  check "$L /metrics: $((m1 - m0)) frames replaced before the stalled reader took them (>= 30)" \
    [ $((m1 - m0)) -ge 30 ]
  check "$L server memory while a reader stalls: RSS $r0 kB -> $r1 kB (+$((r1 - r0)) kB, < 3 MB)" \
    [ $((r1 - r0)) -lt 3072 ]

  # ---- the list, then a restart: runs stopped by SIGTERM keep their reports
  api "$ann" GET /api/simulations
  lap "slow reader"
  check "$L list: ann's 3 runs, newest first" [ "$(jget '.simulations | length')" = 3 \
    -a "$(jget '.simulations[0].id')" = "$wide" -a "$(jget '.simulations[2].id')" = "$sim" ]
  stop_server "$L (with a run going)"
  start "$tmp/data"
  api "$ann" GET "/api/simulations/$wide"
  check "$L after the restart, the run stopped by SIGTERM is stopped ($(jget .simTime) s)" \
    [ "$code" = 200 -a "$(jget .state)" = stopped -a "$(jget '.components | length')" = 40 ]
  api "$ann" GET "/api/simulations/$wide/report"
  check "$L ... and its report is there (from the store)" [ "$code" = 200 -a "$(jget .design)" = wide ]
  api "$ann" GET "/api/simulations/$sim/report"
  check "$L the first run's report too" [ "$code" = 200 -a "$(jget .seed)" = 7 ]
  out=$(wsrun "/ws?token=$ann" <<EOF
wait auth_ok
send {"type":"subscribe","simulation":"$wide"}
wait ended
EOF
)
  check "$L subscribing to a run that is over: subscribed (stopped), then ended" \
    [ "$(count subscribed '.state == "stopped"' <<<"$out")" = 1 -a "$(count ended '.state == "stopped"' <<<"$out")" = 1 ]
  api "$bob" GET "/api/simulations/$wide/report"
  check "$L still 404 for another user" [ "$code" = 404 ]
  api "$ann" POST /api/simulations/start "{\"design\":$design,\"config\":{\"duration\":5,\"speed\":0}}"
  check "$L a new run after the restart (the stopped ones do not count)" [ "$code" = 201 ]
  # a user's own (declarative) component type runs live for that user only
  local myq
  myq=$(jq -n --arg s 'return { name = "myq", label = "My queue", behavior = "service",
    params = { workers = std.param("workers", { default = 3 }) } }' '{source: $s}')
  api "$carol" PUT /api/plugins/myq "$myq"
  check "$L carol saves a plugin type myq" [ "$code" = 200 ]
  local mine='{"version":1,"name":"mine","components":[{"id":"q","type":"myq"}],"workload":[{"to":"q","rps":10}]}'
  api "$carol" POST /api/simulations/start "{\"design\":$mine,\"config\":{\"duration\":5,\"speed\":0}}"
  check "$L a live run of carol's design with her type myq: 201 ($(jget '.components[0].type'))" \
    [ "$code" = 201 -a "$(jget '.components[0].type')" = myq ]
  api "$bob" POST /api/simulations/start "{\"design\":$mine}"
  check "$L bob cannot use carol's type: 422 \$.design.components[0].type" \
    [ "$code" = 422 -a "$(jget '.errors[0].path')" = '$.design.components[0].type' ]
  stop_server "$L"
}

# short LABEL: the main path on another store
short() {
  local L=$1 ann
  shift
  read -r ann _ <<<"$(register dan@example.com)"
  api "$ann" POST /api/simulations/start "{\"design\":$design,\"config\":{\"duration\":600}}"
  local sim
  sim=$(jget .id)
  check "$L start: 201" [ "$code" = 201 -a "$(jget .state)" = running ]
  local out
  out=$(wsrun "/ws?token=$ann" <<EOF
wait auth_ok
send {"type":"subscribe","simulation":"$sim"}
wait subscribed
quiet 1.5
EOF
)
  check "$L frames: $(sfield rate <<<"$out")/s (20 expected; 12-26 on a loaded machine)" \
    within "$(sfield rate <<<"$out")" 12 26
  stop_server "$L (with a run going)"
  start "$@"
  api "$ann" GET "/api/simulations/$sim"
  check "$L after a restart: stopped" [ "$(jget .state)" = stopped ]
  api "$ann" GET "/api/simulations/$sim/report"
  check "$L report from the store" [ "$code" = 200 -a "$(jget .design)" = "three tier" ]
  stop_server "$L"
}

t0=$(date +%s.%N)
tl=$t0
# lap NAME: seconds since the previous lap
lap() {
  local t
  t=$(date +%s.%N)
  echo "---- $1: $(awk -v a="$tl" -v b="$t" 'BEGIN{printf "%.1f", b-a}') s"
  tl=$t
}
start "$tmp/data"
full sqlite
lap "restart"

if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  pgstate=$tmp/pg
  redis_opt=()
  if command -v redis-server >/dev/null \
    && rurl=$(bash "$src/tests/services/redis.sh" start "$pgstate" 2>>"$tmp/pg.log" | tail -n1) \
    && [ -n "$rurl" ]; then
    redis_opt=(--redis "$rurl")
  fi
  if url=$(bash "$src/tests/services/postgres.sh" start "$pgstate" 2>>"$tmp/pg.log" | tail -n1) \
    && [ -n "$url" ]; then
    start "$tmp/data-pg" --database "$url" "${redis_opt[@]}"
    short postgres "$tmp/data-pg" --database "$url" "${redis_opt[@]}"
  else
    bad "postgres could not start: $(tail -3 "$tmp/pg.log")"
  fi
else
  echo "skip PostgreSQL flow: no PostgreSQL server binaries"
fi
lap postgres
echo "total: $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
finish
