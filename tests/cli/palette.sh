#!/usr/bin/env bash
# The component palette and the templates, as a user meets them through `sdsim run --json`:
# every type in components/ runs in a small design; each type with behaviour of its own shows
# it in the report (figures derived from the parameters, tolerances stated beside each
# check); every template is unsaturated, meets its SLO, and the analytic utilization of its
# busiest component is within 15 % of the simulated one.
# Usage: palette.sh SDSIM_BINARY SOURCE_DIR
set -u
sdsim=$1
src=$2
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

# run NAME DESIGN DURATION [more sdsim run options]: the JSON report in $tmp/NAME.out.
run() {
  local name=$1 design=$2 dur=$3
  shift 3
  if timeout 120 "$sdsim" run "$design" --duration "$dur" --json "$@" >"$tmp/$name.out" \
    2>"$tmp/$name.err"; then
    return 0
  fi
  echo "  sdsim run $design failed: $(head -c 400 "$tmp/$name.err")"
  return 1
}

# expect NAME REPORT LUA_EXPR [EXPLAIN [ANALYSIS]]: the expression (with r = the decoded
# report, c = r.components, A = the decoded `sdsim analyze --json` output when given, near(x,
# want, rel)) must be true; otherwise EXPLAIN (a Lua expression) says what was seen.
expect() {
  local name=$1 report=$2 expr=$3 explain=${4:-"''"} analysis=${5:-}
  local out
  out=$(luajit -e "
    local cjson = require 'cjson'
    local f = assert(io.open('$report')); local r = cjson.decode(f:read('*a')); f:close()
    local c = r.components
    local A = '$analysis' ~= '' and cjson.decode(assert(io.open('$analysis')):read('*a')) or nil
    local near = function(x, want, rel) return math.abs(x - want) <= rel * math.abs(want) end
    local ok = assert(loadstring([==[local r, c, near, A = ...; return $expr]==]))(r, c, near, A)
    local why = assert(loadstring([==[local r, c, A = ...; return $explain]==]))(r, c, A)
    print(ok and 'true' or ('false ' .. tostring(why)))" 2>&1)
  if [ "$out" = true ]; then ok "$name"; else bad "$name: $out"; fi
}

# ---------------------------------------------------------------------------------------------
# 1. Every type runs: clients -> X -> sink, 50 rps for 3 s.
types=()
for f in "$src"/components/*.lua; do types+=("$(basename "$f" .lua)"); done
for t in "${types[@]}"; do
  cat >"$tmp/type_$t.json" <<EOF
{ "version": 1, "name": "type $t",
  "components": [ { "id": "clients", "type": "client" }, { "id": "x", "type": "$t" },
                  { "id": "sink", "type": "service",
                    "params": { "workers": 0, "service_time": { "dist": "const", "mean_ms": 1 } } } ],
  "edges": [ { "from": "clients", "to": "x" }, { "from": "x", "to": "sink" } ],
  "workload": [ { "to": "clients", "rps": 50, "keys": 1000 } ] }
EOF
  if run "type_$t" "$tmp/type_$t.json" 3 --warmup 0; then
    expect "type $t runs and serves requests" "$tmp/type_$t.out" \
      "c.x.arrivals > 100 and c.x.type == '$t'" "c.x.arrivals"
  else
    bad "type $t runs"
  fi
done
[ "${#types[@]}" -ge 20 ] && ok "the palette has ${#types[@]} types (>= 20)" \
  || bad "the palette has only ${#types[@]} types"

# ---------------------------------------------------------------------------------------------
# 2. Behaviour of each non-trivial type, in the report.

# CDN: hit_ratio 0.8 -> the origin sees 20 % of the requests. 400 rps x 20 s = 8,000
# requests: the binomial share's standard deviation is sqrt(0.2 x 0.8 / 8000) = 0.0045;
# tolerance 0.02 absolute (> 4 sigma).
cat >"$tmp/cdn.json" <<'EOF'
{ "version": 1, "name": "cdn",
  "components": [ { "id": "clients", "type": "client" },
                  { "id": "cdn", "type": "cdn", "params": { "hit_ratio": 0.8 } },
                  { "id": "origin", "type": "service", "params": { "workers": 16 } } ],
  "edges": [ { "from": "clients", "to": "cdn" }, { "from": "cdn", "to": "origin" } ],
  "workload": [ { "to": "clients", "rps": 400 } ] }
EOF
run cdn "$tmp/cdn.json" 20 --warmup 0 &&
  expect "cdn: origin gets 1 - hit_ratio = 0.2 of the requests (+-0.02)" "$tmp/cdn.out" \
    "math.abs(c.origin.arrivals / c.cdn.arrivals - 0.2) < 0.02" \
    "c.origin.arrivals / c.cdn.arrivals"

# DNS: hit_ratio 0.95 -> 5 % reach the authoritative provider (400 rps x 20 s: sd 0.0024;
# tolerance 0.012).
cat >"$tmp/dns.json" <<'EOF'
{ "version": 1, "name": "dns",
  "components": [ { "id": "clients", "type": "client" }, { "id": "dns", "type": "dns" },
                  { "id": "authority", "type": "external_api", "params": { "error_rate": 0 } } ],
  "edges": [ { "from": "clients", "to": "dns" }, { "from": "dns", "to": "authority" } ],
  "workload": [ { "to": "clients", "rps": 400 } ] }
EOF
run dns "$tmp/dns.json" 20 --warmup 0 &&
  expect "dns: 5 % of lookups miss the resolver cache (+-0.012)" "$tmp/dns.out" \
    "math.abs(c.authority.arrivals / c.dns.arrivals - 0.05) < 0.012 and c.dns.utilization == 0" \
    "c.authority.arrivals / c.dns.arrivals"

# Rate limiter: 500 rps offered, 200 rps admitted (burst 200): the backend's throughput is
# 200 rps (+-5 %, Poisson arrivals always find tokens at this overload) and the limiter rejects
# the other ~300/s.
cat >"$tmp/limiter.json" <<'EOF'
{ "version": 1, "name": "limiter",
  "components": [ { "id": "clients", "type": "client" },
                  { "id": "limiter", "type": "rate_limiter", "params": { "rate_limit": { "rps": 200 } } },
                  { "id": "backend", "type": "service", "params": { "workers": 32 } } ],
  "edges": [ { "from": "clients", "to": "limiter" }, { "from": "limiter", "to": "backend" } ],
  "workload": [ { "to": "clients", "rps": 500 } ] }
EOF
run limiter "$tmp/limiter.json" 20 --warmup 2 &&
  expect "rate_limiter: backend throughput capped at 200 rps (+-5 %), the rest rejected" \
    "$tmp/limiter.out" \
    "near(c.backend.throughput_rps, 200, 0.05) and near(c.limiter.rejected / 18, 300, 0.08)" \
    "c.backend.throughput_rps .. ' rps, rejected/s ' .. c.limiter.rejected / 18"

# API gateway: its rate limit (100 rps here) rejects what exceeds the quota: 150 offered ->
# ~50/s rejected (+-15 %: 900 rejections, Poisson spread).
cat >"$tmp/gateway.json" <<'EOF'
{ "version": 1, "name": "gateway",
  "components": [ { "id": "clients", "type": "client" },
                  { "id": "gw", "type": "api_gateway", "params": { "rate_limit": { "rps": 100 } } },
                  { "id": "backend", "type": "service", "params": { "workers": 32 } } ],
  "edges": [ { "from": "clients", "to": "gw" }, { "from": "gw", "to": "backend" } ],
  "workload": [ { "to": "clients", "rps": 150 } ] }
EOF
run gateway "$tmp/gateway.json" 20 --warmup 2 &&
  expect "api_gateway: the quota rejects the excess (~50/s of 150, +-15 %)" "$tmp/gateway.out" \
    "near(c.gw.rejected / 18, 50, 0.15) and near(c.backend.throughput_rps, 100, 0.06)" \
    "c.gw.rejected / 18 .. ' rejected/s, backend ' .. c.backend.throughput_rps"

# Circuit breaker: the downstream fails every request from 5 s to 15 s (error_rate fault).
# Breaker: 5 failures open it for 1 s, then one probe. At 100 rps, the 10 s fault sends ~1,000
# calls of which the breaker lets through at most ~5 + 1 probe per second (~60-100): at least
# 800 are rejected at the breaker, never more than the ~1,000 offered during the fault; before
# and after the fault nothing is rejected, so rejections stay below 1,100.
cat >"$tmp/breaker.json" <<'EOF'
{ "version": 1, "name": "breaker",
  "components": [ { "id": "clients", "type": "client" },
                  { "id": "cb", "type": "circuit_breaker",
                    "params": { "breaker": { "failures": 5, "open_ms": 1000 }, "timeout_ms": 500 } },
                  { "id": "downstream", "type": "service", "params": { "workers": 16 } } ],
  "edges": [ { "from": "clients", "to": "cb" }, { "from": "cb", "to": "downstream" } ],
  "workload": [ { "to": "clients", "rps": 100 } ],
  "scenario": [ { "at_s": 5, "fault": "error_rate", "target": "downstream", "rate": 1, "for_s": 10 } ] }
EOF
run breaker "$tmp/breaker.json" 20 --warmup 0 &&
  expect "circuit_breaker: rejects while its downstream fails (800..1100 of ~1000)" \
    "$tmp/breaker.out" \
    "c.cb.rejected >= 800 and c.cb.rejected <= 1100 and c.downstream.errors < 200" \
    "'rejected ' .. c.cb.rejected .. ', downstream errors ' .. c.downstream.errors"

# Serverless: one warm instance (1 invocation at a time), 100 rps x 50 ms = 5 busy instances
# wanted -> the autoscaler adds instances (target 0.7: ~8) after 0.4 s cold starts each
# interval; the first seconds queue behind the cold starts, which shows in the tail.
cat >"$tmp/serverless.json" <<'EOF'
{ "version": 1, "name": "serverless",
  "components": [ { "id": "clients", "type": "client" },
                  { "id": "fn", "type": "serverless" } ],
  "edges": [ { "from": "clients", "to": "fn" } ],
  "workload": [ { "to": "clients", "rps": 100 } ] }
EOF
run serverless "$tmp/serverless.json" 30 --warmup 0 &&
  expect "serverless: scales from 1 instance to >= 6 and serves the load" "$tmp/serverless.out" \
    "c.fn.replicas_peak >= 6 and c.fn.replicas_mean > 4 and near(c.fn.throughput_rps, 100, 0.08)" \
    "c.fn.replicas_peak .. ' peak, mean ' .. c.fn.replicas_mean .. ', ' .. c.fn.throughput_rps" &&
  expect "serverless: cold starts show in latency (max > 400 ms cold start, p50 < 100 ms)" \
    "$tmp/serverless.out" "c.fn.max_ms > 400 and c.fn.p50_ms < 100" \
    "c.fn.max_ms .. ' max, p50 ' .. c.fn.p50_ms"

# Stream: 8 partitions with one consumer each, 400 msgs/s x 10 ms: spread by key over the
# partitions each is ~50 % busy (0.5 +-15 %, hashing imbalance); all on one partition would
# be 400 % and the backlog would grow without bound.
cat >"$tmp/stream.json" <<'EOF'
{ "version": 1, "name": "stream",
  "components": [ { "id": "producers", "type": "client" },
                  { "id": "s", "type": "stream", "replicas": 8,
                    "params": { "service_time": { "dist": "exp", "mean_ms": 10 } } } ],
  "edges": [ { "from": "producers", "to": "s" } ],
  "workload": [ { "to": "producers", "rps": 400, "keys": 100000 } ] }
EOF
run stream "$tmp/stream.json" 20 &&
  expect "stream: partitions share the load (utilization 0.5 +-15 %, throughput = offered)" \
    "$tmp/stream.out" \
    "near(c.s.utilization, 0.5, 0.15) and near(c.s.throughput_rps, 400, 0.05) and c.s.mean_response_ms < 100" \
    "c.s.utilization .. ' util, ' .. c.s.throughput_rps .. ' rps, ' .. c.s.mean_response_ms .. ' ms'"

# Sharded database: requests go to the shard of their key. 4 shards x 1 worker, 100 rps x
# exp 5 ms. All keys equal (keys = 1): one shard takes everything, an M/M/1 at rho 0.5 with
# mean response 5 / (1 - 0.5) = 10 ms. Keys spread: each shard ~rho 0.125, ~5.7 ms.
# Tolerance 15 % (20 s at 100 rps).
for k in 1 100000; do
  cat >"$tmp/shards_$k.json" <<EOF
{ "version": 1, "name": "shards",
  "components": [ { "id": "clients", "type": "client" },
                  { "id": "db", "type": "sharded_database",
                    "params": { "workers": 1, "service_time": { "dist": "exp", "mean_ms": 5 } } } ],
  "edges": [ { "from": "clients", "to": "db" } ],
  "workload": [ { "to": "clients", "rps": 100, "keys": $k } ] }
EOF
  run "shards_$k" "$tmp/shards_$k.json" 30
done
expect "sharded_database: one hot key -> one shard, M/M/1 at 0.5: 10 ms (+-15 %)" \
  "$tmp/shards_1.out" "near(c.db.mean_response_ms, 10, 0.15)" "c.db.mean_response_ms"
expect "sharded_database: spread keys -> 4 shards at 0.125: 5.7 ms (+-15 %)" \
  "$tmp/shards_100000.out" "near(c.db.mean_response_ms, 5 / (1 - 0.125), 0.15)" \
  "c.db.mean_response_ms"

# Pub/sub: every message is pushed to every subscription (two here), and the publisher is
# answered at once (its response is the two edge latencies, not the subscribers' 20 ms).
cat >"$tmp/pubsub.json" <<'EOF'
{ "version": 1, "name": "pubsub",
  "components": [ { "id": "pub", "type": "client" }, { "id": "topic", "type": "pubsub" },
                  { "id": "a", "type": "service", "params": { "workers": 0, "service_time": { "dist": "const", "mean_ms": 20 } } },
                  { "id": "b", "type": "service", "params": { "workers": 0, "service_time": { "dist": "const", "mean_ms": 20 } } } ],
  "edges": [ { "from": "pub", "to": "topic", "latency_ms": 1 }, { "from": "topic", "to": "a" },
             { "from": "topic", "to": "b" } ],
  "workload": [ { "to": "pub", "rps": 200 } ] }
EOF
run pubsub "$tmp/pubsub.json" 10 --warmup 0 &&
  expect "pubsub: each subscription gets every message; publishers answered in 2 ms" \
    "$tmp/pubsub.out" \
    "math.abs(c.a.arrivals - c.topic.arrivals) <= 10 and math.abs(c.b.arrivals - c.topic.arrivals) <= 10 and near(c.pub.mean_response_ms, 2, 0.01)" \
    "c.topic.arrivals .. ' ' .. c.a.arrivals .. ' ' .. c.b.arrivals .. ' ' .. c.pub.mean_response_ms"

# External API: its error rate shows (5 % here, 400 rps x 20 s: sd 0.0024; tolerance 0.012).
cat >"$tmp/external.json" <<'EOF'
{ "version": 1, "name": "external",
  "components": [ { "id": "clients", "type": "client" },
                  { "id": "ext", "type": "external_api", "params": { "error_rate": 0.05 } } ],
  "edges": [ { "from": "clients", "to": "ext" } ],
  "workload": [ { "to": "clients", "rps": 400 } ] }
EOF
run external "$tmp/external.json" 20 --warmup 0 &&
  expect "external_api: 5 % of calls fail (+-0.012), latency ~150 ms (+-10 %)" "$tmp/external.out" \
    "math.abs(c.ext.errors / c.ext.arrivals - 0.05) < 0.012 and near(c.ext.mean_response_ms, 150, 0.1)" \
    "c.ext.errors / c.ext.arrivals .. ' ' .. c.ext.mean_response_ms"

# Saga: steps a, b, c in order; c fails 30 % of the time (error_rate). A failed saga
# compensates b then a (one more call on each edge) and fails. 200 rps x 20 s = ~4,000 sagas:
# the failed share is 0.3 (sd 0.007; tolerance 0.03), a and b see 1.3 requests per saga
# (+-0.03), c one (+-1 %: sagas still in flight at the end).
cat >"$tmp/saga.json" <<'EOF'
{ "version": 1, "name": "saga",
  "components": [ { "id": "clients", "type": "client" }, { "id": "saga", "type": "saga" },
                  { "id": "a", "type": "service", "params": { "workers": 0 } },
                  { "id": "b", "type": "service", "params": { "workers": 0 } },
                  { "id": "c", "type": "service", "params": { "workers": 0, "error_rate": 0.3 } } ],
  "edges": [ { "from": "clients", "to": "saga" }, { "from": "saga", "to": "a" },
             { "from": "saga", "to": "b" }, { "from": "saga", "to": "c" } ],
  "workload": [ { "to": "clients", "rps": 200 } ] }
EOF
run saga "$tmp/saga.json" 20 --warmup 0 &&
  expect "saga: 30 % of sagas fail at step c and compensate a and b (1.3 calls each, +-0.03)" \
    "$tmp/saga.out" \
    "math.abs(c.saga.errors / c.saga.arrivals - 0.3) < 0.03 and math.abs(c.a.arrivals / c.saga.arrivals - 1.3) < 0.03 and math.abs(c.b.arrivals / c.saga.arrivals - 1.3) < 0.03 and near(c.c.arrivals, c.saga.arrivals, 0.01)" \
    "c.saga.errors / c.saga.arrivals .. ' failed; a ' .. c.a.arrivals / c.saga.arrivals .. ' b ' .. c.b.arrivals / c.saga.arrivals .. ' c ' .. c.c.arrivals / c.saga.arrivals"

# Two-phase commit: participants p1, p2; p2 is down from 5 s to 10 s. 100 tx/s: the ~500
# transactions of those 5 s abort (+-15 %: Poisson count, sd 22), none before or after; every
# transaction sends two requests to each participant (prepare, then commit or abort; +-1 %
# for the transactions in flight at the end).
cat >"$tmp/twopc.json" <<'EOF'
{ "version": 1, "name": "2pc",
  "components": [ { "id": "clients", "type": "client" }, { "id": "tx", "type": "two_phase_commit" },
                  { "id": "p1", "type": "service", "params": { "workers": 0 } },
                  { "id": "p2", "type": "service", "params": { "workers": 0 } } ],
  "edges": [ { "from": "clients", "to": "tx" }, { "from": "tx", "to": "p1", "timeout_ms": 200 },
             { "from": "tx", "to": "p2", "timeout_ms": 200 } ],
  "workload": [ { "to": "clients", "rps": 100 } ],
  "scenario": [ { "at_s": 5, "fault": "crash", "target": "p2", "for_s": 5 } ] }
EOF
run twopc "$tmp/twopc.json" 20 --warmup 0 &&
  expect "two_phase_commit: aborts while a participant is down (~500 of 2,000, +-15 %)" \
    "$tmp/twopc.out" \
    "near(c.tx.errors, 500, 0.15) and near(c.p1.arrivals, 2 * c.tx.arrivals, 0.01) and c.p1.errors == 0" \
    "c.tx.errors .. ' aborted; p1 ' .. c.p1.arrivals .. ' for ' .. c.tx.arrivals .. ' tx'"

# Read replicas with lag: 200 rps on 100 keys, half writes (1 write/s per key), mean lag
# 500 ms, stale reads go to the primary. A read is stale with probability 1 - exp(-1 x 0.5) =
# 0.393, so the primary gets 0.5 + 0.5 x 0.393 = 0.697 of the requests (+-0.02; 4,000 draws).
cat >"$tmp/lag.json" <<'EOF'
{ "version": 1, "name": "lag",
  "components": [ { "id": "clients", "type": "client" },
                  { "id": "replicas", "type": "read_replicas",
                    "params": { "read_ratio": 0.5, "lag_ms": 500, "stale_reads": "primary" } },
                  { "id": "primary", "type": "database", "params": { "read_ratio": 0 } } ],
  "edges": [ { "from": "clients", "to": "replicas" },
             { "from": "replicas", "to": "primary", "mode": "forward" } ],
  "workload": [ { "to": "clients", "rps": 200, "keys": 100 } ] }
EOF
run lag "$tmp/lag.json" 20 --warmup 0 &&
  expect "read_replicas: writes and stale reads reach the primary (0.697 +-0.02)" "$tmp/lag.out" \
    "math.abs(c.primary.arrivals / c.replicas.arrivals - (0.5 + 0.5 * (1 - math.exp(-0.5)))) < 0.02" \
    "c.primary.arrivals / c.replicas.arrivals"

# CQRS read model: 300 events/s arrive as async copies (apply 0.5 ms), 200 queries/s as calls
# (2 ms), 2 replicas x 1 worker: utilization (300 x 0.5 + 200 x 2) / 1000 / 2 = 0.275 (+-10 %);
# were events treated as queries it would be 0.5.
cat >"$tmp/cqrs.json" <<'EOF'
{ "version": 1, "name": "cqrs",
  "components": [ { "id": "writers", "type": "client" },
                  { "id": "commands", "type": "service", "params": { "workers": 0 } },
                  { "id": "readers", "type": "client" },
                  { "id": "view", "type": "cqrs_read_model", "params": { "workers": 1 } } ],
  "edges": [ { "from": "writers", "to": "commands" },
             { "from": "commands", "to": "view", "mode": "async" },
             { "from": "readers", "to": "view" } ],
  "workload": [ { "to": "writers", "rps": 300 }, { "to": "readers", "rps": 200 } ] }
EOF
run cqrs "$tmp/cqrs.json" 20 &&
  expect "cqrs_read_model: events cost apply_time, queries query_time (util 0.275 +-10 %)" \
    "$tmp/cqrs.out" "near(c.view.utilization, 0.275, 0.1)" "c.view.utilization"

# ---------------------------------------------------------------------------------------------
# 3. Templates: unsaturated at their default load, SLO met, and the analytic utilization of
# the busiest component (sdsim analyze --json) within 15 % of the simulated one (the header
# arithmetic's promise).
for t in "$src"/templates/*.lua; do
  name=$(basename "$t" .lua)
  if run "tpl_$name" "$t" 12 --warmup 2 &&
    timeout 60 "$sdsim" analyze "$t" --json >"$tmp/tpl_$name.an" 2>"$tmp/tpl_$name.anerr"; then
    expect "template $name: busiest below 0.9, analytic within 15 %, SLO met" "$tmp/tpl_$name.out" \
      "r.bottleneck.utilization < 0.9 and near(A.components[r.bottleneck.id].utilization, r.bottleneck.utilization, 0.15) and r.slo.pass == true" \
      "r.bottleneck.id .. ' sim ' .. r.bottleneck.utilization .. ' analytic ' .. A.components[r.bottleneck.id].utilization .. ' slo ' .. tostring(r.slo.pass)" \
      "$tmp/tpl_$name.an"
  else
    bad "template $name runs and analyzes"
  fi
done

finish
