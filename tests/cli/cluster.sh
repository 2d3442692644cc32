#!/usr/bin/env bash
# Several hosts: two `sdsim serve` processes (A and B) sharing one throw-away PostgreSQL and one
# Redis (their own: this test stops and restarts its Redis), with the same JWT secret. A run
# started on A is seen, watched and controlled from B (frames relayed over Redis, requests
# forwarded to A); the per-user limit counts both hosts; Redis goes away (each host keeps its
# own runs, B answers 503 at once) and comes back (B's relay and forwarding resume by
# themselves); A killed with SIGKILL (B reports the run stopped once its lease expires).
# Usage: cluster.sh SDSIM_BINARY SOURCE_DIR
set -u
trap '' PIPE
sdsim=$1
src=$2
. "$src/tests/cli/lib/common.sh"
export LSAN_OPTIONS="suppressions=$src/tests/server/lsan.supp:print_suppressions=0"
export SDSIM_JWT_SECRET=0123456789abcdef0123456789abcdef-cluster-test
ws=$(dirname "$sdsim")/ws_client
[ -x "$ws" ] || { echo "FAIL no ws_client beside $sdsim"; echo "0 passed, 1 failed"; exit 1; }
if ! command -v redis-server >/dev/null || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
then
  echo "skip: redis-server or PostgreSQL is not installed (make test installs them)"
  echo "0 passed, 0 failed"
  exit 0
fi
svc=$tmp/svc
pidA=""
pidB=""
cleanup() {
  [ -n "$pidA" ] && kill -KILL "$pidA" 2>/dev/null
  [ -n "$pidB" ] && kill -KILL "$pidB" 2>/dev/null
  [ -n "${CLUSTER_TEST_LOG:-}" ] && cat "$tmp"/server-*.log >"$CLUSTER_TEST_LOG"
  bash "$src/tests/services/postgres.sh" stop "$svc" >/dev/null 2>&1
  bash "$src/tests/services/redis.sh" clean "$svc" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT

rurl=$(bash "$src/tests/services/redis.sh" start "$svc" 2>>"$tmp/svc.log" | tail -n1)
purl=$(bash "$src/tests/services/postgres.sh" start "$svc" 2>>"$tmp/svc.log" | tail -n1)
if [ -z "$rurl" ] || [ -z "$purl" ]; then
  echo "FAIL the services did not start: $(tail -3 "$tmp/svc.log")"
  echo "0 passed, 1 failed"
  exit 1
fi

# start_host NAME: `sdsim serve` on a free port with the shared store and Redis; sets
# pid<NAME>, port<NAME>, <NAME> (its base URL).
start_host() {
  local name=$1 p pid
  for _ in 1 2 3 4 5; do
    p=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
    SDSIM_ROOT=$src "$sdsim" serve --port "$p" --data-dir "$tmp/data-$name" --static "$tmp" \
      --database "$purl" --redis "$rurl" >>"$tmp/server-$name.log" 2>&1 &
    pid=$!
    for _ in $(seq 600); do
      if curl -s -o /dev/null "http://127.0.0.1:$p/healthz"; then
        printf -v "pid$name" '%s' "$pid"
        printf -v "port$name" '%s' "$p"
        printf -v "$name" '%s' "http://127.0.0.1:$p"
        return 0
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null
  done
  echo "FAIL host $name did not start"
  tail -20 "$tmp/server-$name.log"
  exit 1
}

# req ARGS...: curl; the status in $code, the body in $body, the seconds taken in $took.
req() {
  local out
  out=$(curl -s -o "$tmp/body" -w '%{http_code} %{time_total}' "$@")
  code=${out% *}
  took=${out#* }
  body=$(cat "$tmp/body")
}
jget() { printf "%s" "$body" | jq -r "$@" 2>/dev/null; }
# api URL TOKEN METHOD PATH [JSON]
api() {
  local u=$1 t=$2 m=$3 p=$4
  if [ $# -ge 5 ]; then
    req -X "$m" -H "Authorization: Bearer $t" -H 'content-type: application/json' \
      --data-binary "$5" "$u$p"
  else
    req -X "$m" -H "Authorization: Bearer $t" "$u$p"
  fi
}
# wsrun PORT PATH < script
wsrun() { timeout 60 "$ws" "$1" "$2" script 2>&1; }
sfield() { grep '^SUMMARY' | tail -n1 | tr ' ' '\n' | sed -n "s/^$1=//p"; }
# nth_summary N FIELD < output: a field of the Nth SUMMARY line
nth_summary() { grep '^SUMMARY' | sed -n "${1}p" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
msgs() { sed -n 's/^TEXT //p' | jq -c "select(.type == \"$1\")" 2>/dev/null; }
count() { msgs "$1" | jq -c "select($2)" | grep -c .; }
ffield() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
within() { awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x >= lo && x <= hi) }'; }
ms() { awk -v s="$1" 'BEGIN { printf "%.0f", s * 1000 }'; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

design=$(cat "$src/tests/cli/data/three_tier.json")
start_host A
start_host B
hostA=$(grep -o 'this host is [0-9a-f]*' "$tmp/server-A.log" | awk '{print $4}')
hostB=$(grep -o 'this host is [0-9a-f]*' "$tmp/server-B.log" | awk '{print $4}')
check "each host logs its random id ($hostA, $hostB)" \
  [ -n "$hostA" -a -n "$hostB" -a "$hostA" != "$hostB" ]

req -X POST -H 'content-type: application/json' \
  --data-binary '{"email":"ann@example.com","password":"correct horse"}' "$A/api/auth/register"
tok=$(jget .token)
annid=$(jget .user.id)
check "register on A: 201" [ "$code" = 201 ]
req -X POST -H 'content-type: application/json' \
  --data-binary '{"email":"bob@example.com","password":"correct horse"}' "$B/api/auth/register"
bob=$(jget .token)
api "$B" "$tok" GET /api/simulations
check "A's token is valid on B (same secret): 200" [ "$code" = 200 ]

# ---- a run on A, seen from B
api "$A" "$tok" POST /api/simulations/start "{\"design\":$design,\"config\":{\"duration\":120,\"seed\":3}}"
sim=$(jget .id)
check "start on A: 201 running" [ "$code" = 201 -a "$(jget .state)" = running ]
api "$B" "$tok" GET "/api/simulations/$sim"
check "status via B: running, components in design order (${took}s)" [ "$code" = 200 \
  -a "$(jget .state)" = running -a "$(jget '[.components[].id] | join(",")')" = lb,api,db ]
api "$B" "$bob" GET "/api/simulations/$sim"
check "another user via B: 404" [ "$code" = 404 ]
# A client cannot pass for another host: Bob's socket on the owner sends what a forwarded
# request of Ann's looks like on the bus.
out=$(wsrun "$portA" "/ws?token=$bob" <<EOF
wait auth_ok
send {"type":"forwarded","op":"control","user":"$annid","simulation":"$sim","action":"stop","id":9}
quiet 0.5
EOF
)
api "$A" "$tok" GET "/api/simulations/$sim"
check "a client's forged {type: forwarded} stop of another user's run: refused ($(msgs error <<<"$out" | jq -r .error | head -n1)), the run still running" \
  [ "$(count error '.id == 9' <<<"$out")" = 1 -a "$(jget .state)" = running ]
api "$B" "$tok" GET /api/simulations
check "list via B: A's run, running" [ "$(jget '.simulations[0].id')" = "$sim" \
  -a "$(jget '.simulations[0].state')" = running ]

out=$(wsrun "$portB" "/ws?token=$tok" <<EOF
wait auth_ok
send {"type":"subscribe","simulation":"$sim","id":1}
wait subscribed
quiet 0.3
quiet 2
EOF
)
rate=$(sfield rate <<<"$out")
check "subscribe via B: subscribed (running)" \
  [ "$(count subscribed '.state == "running" and .id == 1' <<<"$out")" = 1 ]
check "frames relayed to B: $(sfield frames <<<"$out") in 2 s, $rate/s (20 expected, 10-26 accepted: the machine may be loaded), $(sfield gaps <<<"$out") skipped, longest gap $(sfield maxgap_ms <<<"$out") ms" \
  within "$rate" 10 26
check "relayed frames in order (disorder $(sfield disorder <<<"$out"))" \
  [ "$(sfield disorder <<<"$out")" = 0 ]

# ---- the user's session across hosts (user:<id>:session); two sockets on B, one relay
wsrun "$portB" "/ws?token=$tok" >"$tmp/hold.out" <<WS &
wait auth_ok
send {"type":"subscribe","simulation":"$sim"}
wait subscribed
quiet 3
WS
holdpid=$!
wsrun "$portB" "/ws?token=$tok" >"$tmp/hold2.out" <<WS &
wait auth_ok
send {"type":"subscribe","simulation":"$sim"}
wait subscribed
quiet 0.5
WS
hold2pid=$!
sleep 0.3
api "$B" "$tok" GET /api/cluster
check "two sockets on B watch A's run through one relay (relays $(jget .relays))" \
  [ "$(jget .relays)" = 1 ]
wait "$hold2pid"
check "... the second socket got frames too ($(sfield frames <"$tmp/hold2.out") in 0.5 s)" \
  [ "$(sfield frames <"$tmp/hold2.out")" -ge 5 ]
sleep 0.2
api "$B" "$tok" GET /api/cluster
check "... one closed: the relay stays for the other (relays $(jget .relays))" \
  [ "$(jget .relays)" = 1 ]
api "$A" "$tok" GET /api/sessions
check "session via A while a socket is open on B ($hostB): $(jget -c .session)" \
  [ "$(jget ".session.sockets[\"$hostB\"]")" = 1 -a "$(jget .session.simulations)" = 1 ]
wait "$holdpid"
closed=$(now)
for _ in $(seq 30); do
  api "$A" "$tok" GET /api/sessions
  [ "$code" = 200 ] && [ "$(jget '.session.sockets | length')" = 0 ] && break
  sleep 0.1
done
echo "     (the session said so $(since "$closed") s after the socket closed)"
check "... once it closed: no socket on B ($hostB), the last activity kept ($(jget -c .session))" \
  [ "$(jget '.session.sockets | length')" = 0 -a "$(jget '.session.lastActivity > 0')" = true ]
api "$B" "$tok" GET /api/cluster
check "... both closed: no relay left on B (relays $(jget .relays))" [ "$(jget .relays)" = 0 ]

# ---- control via B, seen on A
api "$B" "$tok" POST "/api/simulations/$sim/pause"
t1=$(jget .simTime)
check "pause via B: paused (${took}s)" [ "$code" = 200 -a "$(jget .state)" = paused ]
fwd_pause=$took
sleep 0.3
api "$A" "$tok" GET "/api/simulations/$sim"
check "A says paused, time stopped ($t1 -> $(jget .simTime))" \
  [ "$(jget .state)" = paused -a "$(jget .simTime)" = "$t1" ]
api "$B" "$tok" GET /api/simulations
check "list via B: paused (from the lease)" [ "$(jget '.simulations[0].state')" = paused ]
api "$B" "$tok" POST "/api/simulations/$sim/step" '{"seconds":2}'
sleep 0.3
api "$A" "$tok" GET "/api/simulations/$sim"
check "step 2 s via B: A has advanced $t1 -> $(jget .simTime), paused" [ "$(jget .state)" = paused ] \
  && within "$(awk -v a="$t1" -v b="$(jget .simTime)" 'BEGIN{print b-a}')" 1.99 2.01
api "$B" "$tok" POST "/api/simulations/$sim/resume"
check "resume via B: running" [ "$code" = 200 -a "$(jget .state)" = running ]
api "$B" "$tok" POST "/api/simulations/$sim/speed" '{"speed":10}'
check "speed 10 via B" [ "$code" = 200 -a "$(jget .speed)" = 10 ]
api "$A" "$tok" GET "/api/simulations/$sim"
check "A says speed 10, running" [ "$(jget .speed)" = 10 -a "$(jget .state)" = running ]
api "$B" "$tok" POST "/api/simulations/$sim/speed" '{"speed":1}'
api "$B" "$tok" POST "/api/simulations/$sim/speed" '{"speed":-1}'
check "a bad field via B: 422 \$.speed (A's answer)" \
  [ "$code" = 422 -a "$(jget '.errors[0].path')" = '$.speed' ]

out=$(wsrun "$portB" "/ws?token=$tok" <<EOF
wait auth_ok
send {"type":"subscribe","simulation":"$sim"}
wait subscribed
send {"type":"control","simulation":"$sim","action":"inject","kind":"crash","target":"db","duration":30,"id":"c1"}
wait control_ok
frames 1
EOF
)
check "inject a crash over B's /ws: control_ok, id echoed" \
  [ "$(count control_ok '.action == "inject" and .id == "c1" and .status.state == "running"' <<<"$out")" = 1 ]
crashed=$(grep '^FRAME' <<<"$out" | grep -c ' down=2 ')
check "B's relayed frames show the db down ($crashed frames)" [ "$crashed" -ge 5 ]
api "$B" "$tok" POST "/api/simulations/$sim/replicas" '{"component":"api","replicas":5}'
check "replicas via B" [ "$code" = 200 ]
api "$B" "$tok" POST "/api/simulations/$sim/scenario" '{"name":"db_failover","params":{"at_s":1,"for_s":2}}'
check "a failure scenario via B: applied on A ($(jget .scenario.summary))" \
  [ "$code" = 200 -a "$(jget .scenario.faults)" -ge 1 ]
api "$A" "$tok" GET "/api/simulations/$sim"
check "... A lists it" [ "$(jget '.scenarios | length')" = 1 ]
api "$B" "$tok" GET "/api/simulations/$sim/report"
check "the report of a running run via B: 409 (A's answer: $(jget .error))" \
  [ "$code" = 409 -a "$(jget .state)" = running ]

# ---- the limit counts both hosts (free plan: 1 at once)
api "$B" "$tok" POST /api/simulations/start "{\"design\":$design}"
check "a second run on B while one runs on A: 429 ($(jget .error); running $(jget .running))" \
  [ "$code" = 429 -a "$(jget .running)" = 1 ]
api "$A" "$tok" POST /api/simulations/start "{\"design\":$design}"
check "... and on A: 429" [ "$code" = 429 ]

# ---- stop via B; the report via B equals A's
out=$(wsrun "$portB" "/ws?token=$tok" <<EOF
wait auth_ok
send {"type":"subscribe","simulation":"$sim"}
wait subscribed
quiet 0.3
send {"type":"control","simulation":"$sim","action":"stop"}
wait ended 5
EOF
)
check "stop over B's /ws: control_ok stopped, then ended (stopped)" \
  [ "$(count control_ok '.status.state == "stopped"' <<<"$out")" = 1 \
  -a "$(count ended '.state == "stopped"' <<<"$out")" = 1 ]
api "$B" "$tok" GET "/api/simulations/$sim/report"
repB=$body
codeB=$code
api "$A" "$tok" GET "/api/simulations/$sim/report"
# B reads the session row once written (PostgreSQL's JSONB reorders keys), A its memory: the
# same JSON value.
check "report via B = report via A (200, seed $(jget .seed), $(printf '%s' "$body" | wc -c) bytes)" \
  [ "$codeB" = 200 -a "$code" = 200 -a "$(jq -S . <<<"$repB")" = "$(jq -S . <<<"$body")" \
  -a "$(jget .seed)" = 3 ]
sleep 0.2
# two starts at once, on A and on B: at most one passes (each adds its place in Redis, then
# counts; both may be refused, never both admitted)
for h in A B; do
  curl -s -o "$tmp/race-$h" -w '%{http_code}' -X POST -H "Authorization: Bearer $tok" \
    -H 'content-type: application/json' --data-binary \
    "{\"design\":$design,\"config\":{\"duration\":300}}" "${!h}/api/simulations/start" \
    >"$tmp/race-$h.code" &
  racers="${racers:-} $!"
done
wait $racers
raceA=$(cat "$tmp/race-A.code")
raceB=$(cat "$tmp/race-B.code")
check "two starts at once on A and B: $raceA and $raceB (at most one 201)" \
  [ "$(printf '%s\n%s\n' "$raceA" "$raceB" | grep -c 201)" -le 1 \
  -a "$(printf '%s\n%s\n' "$raceA" "$raceB" | grep -c 429)" -ge 1 ]
for h in A B; do
  [ "$(cat "$tmp/race-$h.code")" = 201 ] && \
    api "${!h}" "$tok" POST "/api/simulations/$(jq -r .id "$tmp/race-$h")/stop"
done
sleep 0.2
api "$B" "$tok" POST /api/simulations/start "{\"design\":$design,\"config\":{\"duration\":300}}"
simB=$(jget .id)
check "once A's run stopped, a run starts on B: 201" [ "$code" = 201 ]
api "$A" "$tok" GET "/api/simulations/$simB"
check "A sees B's run running" [ "$code" = 200 -a "$(jget .state)" = running ]
api "$A" "$tok" POST /api/simulations/start "{\"design\":$design}"
check "a run on A while B's runs: 429" [ "$code" = 429 ]
api "$A" "$tok" POST "/api/simulations/$simB/workload" '{"factor": 2}'
rpsB=$(jget '.workload[0].rps')
api "$B" "$tok" GET "/api/simulations/$simB"
check "double B's traffic via A (1200 rps in the design): $rpsB rps, and B's own status says $(jget '.workload[0].rps')" \
  [ "$code" = 200 -a "$(jget '.workload[0].rps')" = "$rpsB" ] && within "$rpsB" 2399.9 2400.1
api "$A" "$tok" POST "/api/simulations/$simB/stop"
check "stop B's run via A: stopped" [ "$code" = 200 -a "$(jget .state)" = stopped ]
api "$B" "$tok" GET /api/cluster
f2() { jget "$1" | awk '{ printf "%.2f", $1 }'; }
check "B's figures: frame latency A -> B p50 $(f2 .latencyMs.p50) ms, p99 $(f2 .latencyMs.p99) ms, max $(f2 .latencyMs.max) ms over $(jget .latencyMs.n) frames; forwarded requests round trip p50 $(f2 .roundTripMs.p50) ms, p99 $(f2 .roundTripMs.p99) ms, mean $(f2 .roundTripMs.mean) ms over $(jget .roundTripMs.n) (a stop waits for the run's end, a scenario for its sandboxed child)" \
  [ "$(jget .enabled)" = true -a "$(jget .connected)" = true -a "$(jget .timeouts)" = 0 ] \
  && within "$(jget .latencyMs.p50)" 0 50
# metric NAME_AND_LABELS < /metrics text: its value
metric() { awk -v n="$1" '$1 == n { print $2 }'; }
curl -s "$B/metrics" >"$tmp/metricsB"
curl -s "$A/metrics" >"$tmp/metricsA"
relayedB=$(metric 'sdsim_cluster_frames_total{direction="relayed"}' <"$tmp/metricsB")
forwardedB=$(metric 'sdsim_cluster_requests_total{outcome="forwarded"}' <"$tmp/metricsB")
publishedA=$(metric 'sdsim_cluster_frames_total{direction="published"}' <"$tmp/metricsA")
servedA=$(metric 'sdsim_cluster_requests_total{outcome="served"}' <"$tmp/metricsA")
check "/metrics: B relayed $relayedB frames and forwarded $forwardedB requests; A published $publishedA and served $servedA; Redis connected on both" \
  [ "${relayedB:-0}" -gt 0 -a "${forwardedB:-0}" -gt 0 -a "${publishedA:-0}" -gt 0 \
    -a "${servedA:-0}" -gt 0 -a "$(metric sdsim_cluster_redis_connected <"$tmp/metricsB")" = 1 ]

# ---- Redis goes away and comes back
api "$A" "$tok" POST /api/simulations/start "{\"design\":$design,\"config\":{\"duration\":600}}"
simR=$(jget .id)
check "a run on A for the outage: 201" [ "$code" = 201 ]
# B watches it across the outage: 2 s before, 6 s around it, 6 s after Redis is back
wsrun "$portB" "/ws?token=$tok" >"$tmp/relay.out" <<WS &
wait auth_ok
send {"type":"subscribe","simulation":"$simR"}
wait subscribed
quiet 2
quiet 6
quiet 6
quiet 6
WS
relaypid=$!
sleep 2.2
bash "$src/tests/services/redis.sh" stop "$svc" >/dev/null 2>&1
down=$(now)
sleep 0.3
api "$B" "$tok" POST "/api/simulations/$simR/pause"
check "Redis down: control via B answers 503 at once ($(ms "$took") ms: $(jget .error))" \
  [ "$code" = 503 ] && within "$took" 0 1
api "$B" "$tok" GET "/api/simulations/$simR"
check "Redis down: status via B 503 ($(ms "$took") ms)" [ "$code" = 503 ] && within "$took" 0 1
api "$B" "$tok" GET /api/simulations
check "Redis down: the list via B still answers (state $(jget '.simulations[0].state'): $(jget '.simulations[0].error'))" \
  [ "$code" = 200 -a "$(jget '.simulations[0].state')" = running ]
out=$(wsrun "$portA" "/ws?token=$tok" <<WS
wait auth_ok
send {"type":"subscribe","simulation":"$simR"}
wait subscribed
quiet 0.3
quiet 1.5
WS
)
check "Redis down: A streams its own run to a socket on A ($(sfield rate <<<"$out")/s)" \
  within "$(sfield rate <<<"$out")" 10 26
api "$A" "$tok" POST "/api/simulations/$simR/pause"
check "Redis down: A controls its own run (pause)" [ "$code" = 200 -a "$(jget .state)" = paused ]
api "$A" "$tok" POST "/api/simulations/$simR/resume"
check "... (resume)" [ "$code" = 200 -a "$(jget .state)" = running ]
alive=0
kill -0 "$pidA" && kill -0 "$pidB" && alive=1
check "Redis down: both hosts are up" [ "$alive" = 1 ]
sleep 1
bash "$src/tests/services/redis.sh" restart "$svc" >/dev/null 2>&1
back=$(now)
echo "     (Redis was down $(awk -v a="$down" -v b="$back" 'BEGIN{printf "%.1f", b-a}') s)"
code=0
for _ in $(seq 60); do
  api "$B" "$tok" POST "/api/simulations/$simR/pause"
  [ "$code" = 200 ] && break
  sleep 0.2
done
check "Redis back: control via B works again after $(since "$back") s (pause: $code $(jget .state))" \
  [ "$code" = 200 -a "$(jget .state)" = paused ]
api "$B" "$tok" POST "/api/simulations/$simR/resume"
check "... resume via B" [ "$code" = 200 -a "$(jget .state)" = running ]
wait "$relaypid"
f1=$(nth_summary 1 frames <"$tmp/relay.out")
f2=$(nth_summary 2 frames <"$tmp/relay.out")
f3=$(nth_summary 3 frames <"$tmp/relay.out")
f4=$(nth_summary 4 frames <"$tmp/relay.out")
r4=$(nth_summary 4 rate <"$tmp/relay.out")
# Redis comes back 6-8 s in, the relay a moment later (reconnect backoff up to 2 s, longer on a
# loaded machine): the last window (14-20 s) is surely after it. 40 and 120 frames expected
# before and in it; half and 40 % accepted on a loaded machine (a subscription that did not
# resume gets none).
check "B's subscription across the outage: $f1 frames in 2 s before, $f2 in the 6 s around it, $f3 in the next 6 s, $f4 in the last 6 s ($r4/s), by itself" \
  [ "${f1:-0}" -ge 20 -a "${f4:-0}" -ge 48 ]
check "... no ended message meanwhile" [ "$(count ended true <"$tmp/relay.out")" = 0 ]

# ---- the owner killed: B says stopped once the lease expires (10 s)
wsrun "$portB" "/ws?token=$tok" >"$tmp/killed.out" <<WS &
wait auth_ok
send {"type":"subscribe","simulation":"$simR"}
wait subscribed
quiet 1
wait ended 20
WS
watchpid=$!
sleep 1.5
kill -KILL "$pidA"
wait "$pidA" 2>/dev/null
pidA=""
killed=$(now)
api "$B" "$tok" POST "/api/simulations/$simR/pause"
check "A killed: control via B 503 at once ($(ms "$took") ms: $(jget .error))" \
  [ "$code" = 503 ] && within "$took" 0 1
state=""
for _ in $(seq 80); do
  api "$B" "$tok" GET "/api/simulations/$simR"
  state=$(jget .state)
  [ "$code" = 200 ] && [ "$state" != running ] && break
  sleep 0.2
done
took_lost=$(since "$killed")
check "A killed: B reports the run $state after $took_lost s (lease 10 s; <= 12 accepted): $(jget .error)" \
  [ "$code" = 200 -a "$state" = stopped ] && within "$took_lost" 0 12
wait "$watchpid"
check "A killed: B's subscriber gets ended (stopped) ($(count ended true <"$tmp/killed.out") ended)" \
  [ "$(count ended '.state == "stopped"' <"$tmp/killed.out")" = 1 ]
api "$B" "$tok" POST /api/simulations/start "{\"design\":$design,\"config\":{\"duration\":5,\"speed\":0}}"
check "the lost run no longer counts: a run starts on B" [ "$code" = 201 ]

# ---- a host stopped (SIGTERM) while it relays a run and a request waits: it exits 0
sleep 1 # the speed-0 run is over
api "$B" "$tok" POST /api/simulations/start "{\"design\":$design,\"config\":{\"duration\":300}}"
simB2=$(jget .id)
start_host A
wsrun "$portA" "/ws?token=$tok" >"$tmp/a2.out" <<WS &
wait auth_ok
send {"type":"subscribe","simulation":"$simB2"}
wait subscribed
quiet 3
WS
a2ws=$!
sleep 1
kill -TERM "$pidA"
wait "$pidA"
rc=$?
pidA=""
wait "$a2ws"
check "a new A relayed B's run ($(sfield frames <"$tmp/a2.out") frames), then stopped cleanly on SIGTERM (exit $rc, socket closed $(grep -o '^CLOSE [0-9]*' "$tmp/a2.out"))" \
  [ "$rc" = 0 -a "$(grep -c '^CLOSE 1001' "$tmp/a2.out")" = 1 ]
kill -TERM "$pidB"
wait "$pidB"
rc=$?
pidB=""
check "B stops cleanly (exit $rc)" [ "$rc" = 0 ]

finish
