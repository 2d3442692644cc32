#!/usr/bin/env bash
# Failure scenarios (`sdsim run FILE --scenario NAME`, docs/scenarios.md): every shipped
# scenario runs against a template that has what it needs and its effect shows in the --json
# report against the same run without it; chaos is reproducible from its seed; parameters are
# checked; hostile scenario files fail with one line naming file:line and exit code 2, never
# a hang or a crash. Usage: scenarios.sh SDSIM_BINARY SOURCE_DIR
set -u
sdsim=$1
src=$2
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

# Evaluates a Lua expression over --json reports: jq_lua 'b.e2e.p99_ms < r.e2e.p99_ms' with
# r = the scenario's report ($tmp/r.json) and b = the baseline ($tmp/base.json).
jq_lua() {
  luajit -e "local cjson = require 'cjson'
    local function read(p) local f = assert(io.open(p)); local t = cjson.decode(f:read('*a'));
      f:close(); return t end
    local r, b = read('$tmp/r.json'), read('$tmp/base.json')
    print(assert(loadstring([[local r, b = ...; return $1]]))(r, b))"
}
is_true() { test "$(jq_lua "$1")" = true; }

eco=$src/templates/ecommerce.lua
dur=(--duration 20)
# Runs the ecommerce template with a scenario into $tmp/r.json; extra args follow.
run_eco() { "$sdsim" run "$eco" "${dur[@]}" --json --scenario "$@" >"$tmp/r.json" 2>"$tmp/err"; }

"$sdsim" run "$eco" "${dur[@]}" --json >"$tmp/base.json" 2>"$tmp/err"
check "baseline run exits 0" test $? -eq 0

# The catalogue lists every shipped scenario with its description.
"$sdsim" run --scenario list >"$tmp/list" 2>"$tmp/err"
check "--scenario list exits 0" test $? -eq 0
for name in db_failover chaos_monkey zone_outage dependency_slowdown retry_storm \
    cache_miss_storm thread_pool_exhaustion packet_loss traffic_spike ramp_to_saturation; do
  check "--scenario list shows $name" grep -qE "^  $name +[A-Z]" "$tmp/list"
done
check "no shipped scenario is broken" bash -c "! grep -q broken '$tmp/list'"

# db_failover: the primary down for the middle third -> writes fail at the database.
run_eco db_failover
check "db_failover runs" test $? -eq 0
check "db_failover: errors at the db" is_true \
  'r.components.db.errors > 0 and b.components.db.errors == 0'
check "db_failover: failed requests end to end" is_true 'r.e2e.error_rate > 0'
check "db_failover: the report names it" is_true \
  'r.scenario:find("^db_failover \226\128\148 crash db replica 0 at 7 s for 7 s") ~= nil'
"$sdsim" run "$eco" "${dur[@]}" --scenario db_failover >"$tmp/text" 2>&1
check "text report: scenario line after the title" \
  grep -q "^scenario: db_failover — crash db replica 0 at 7 s for 7 s" <(sed -n 2p "$tmp/text")
check "json report without a scenario has no scenario key" is_true 'b.scenario == nil'

# traffic_spike: x3 for a third of the run -> about 1 + 2/3 of the arrivals (less the warm-up
# share); more than 1.4x the baseline's.
run_eco traffic_spike
check "traffic_spike: more arrivals" is_true \
  'r.components.clients.arrivals > 1.4 * b.components.clients.arrivals'
run_eco traffic_spike --scenario-param factor=2 --scenario-param for_s=0 --scenario-param at_s=2
check "traffic_spike factor=2 from 2 s to the end: about twice the arrivals" is_true \
  'math.abs(r.components.clients.arrivals / b.components.clients.arrivals - 2) < 0.05'

# cache_miss_storm: hit ratio 0.85 -> 0.1 for a third: the misses (6x as many) hold the
# cache's workers on db calls until the cache saturates and api drops, so the db sees less
# than the ~1.85x a free-flowing system would send it; at least 1.15x.
run_eco cache_miss_storm
check "cache_miss_storm: more db arrivals" is_true \
  'r.components.db.arrivals > 1.15 * b.components.db.arrivals'

# chaos_monkey: the same seed gives the same bytes, another seed other ones.
run_eco chaos_monkey --scenario-param seed=7
cp "$tmp/r.json" "$tmp/chaos7a.json"
run_eco chaos_monkey --scenario-param seed=7
check "chaos_monkey: same seed, same bytes" cmp -s "$tmp/r.json" "$tmp/chaos7a.json"
check "chaos_monkey: it crashed something" is_true \
  'tonumber(r.scenario:match("(%d+) replica crash")) > 0 and r.e2e.error_rate > 0'
run_eco chaos_monkey --scenario-param seed=8
check "chaos_monkey: another seed, other bytes" test -n "$(cmp "$tmp/r.json" "$tmp/chaos7a.json")"

# zone_outage: zone-b holds db and orders: errors there; the default picks zone-a (lb, api,
# cache), whose load balancer then fails everything sent to it.
run_eco zone_outage --scenario-param zone=zone-b
check "zone_outage zone-b: errors at the db" is_true 'r.components.db.errors > 0'
run_eco zone_outage
check "zone_outage default: picks zone-a and says so" is_true \
  'r.scenario:find("picked zone zone%-a") ~= nil'
check "zone_outage default: errors at lb (zone-a)" is_true \
  'r.components.lb.errors > 0 and r.e2e.error_rate > 0.2'

# packet_loss on api -> db (its default): lost calls time out at the caller.
run_eco packet_loss
check "packet_loss: picks api->db" is_true 'r.scenario:find("on api%->db") ~= nil'
check "packet_loss: timeouts at the caller" is_true \
  'r.components.api.timeouts > b.components.api.timeouts + 20'

# dependency_slowdown: +50 ms on each db service for a third of the run. The db completes
# far fewer requests meanwhile (24 workers / 54 ms), so its mean over the run rises by less
# than a third of 50 ms, but over 1.5x; its p99 (the slow third is over 1 % of completions)
# is at least 50 ms.
run_eco dependency_slowdown
check "dependency_slowdown: db slower" is_true \
  'r.components.db.mean_response_ms > 1.5 * b.components.db.mean_response_ms
   and r.components.db.p99_ms > 50'

# retry_storm: timeouts and retries on the calls into the db multiply.
run_eco retry_storm
check "retry_storm: retries at the callers multiply" is_true \
  '(r.components.api.retries + r.components.cache.retries + r.components.orders.retries)
   > 5 * (b.components.api.retries + b.components.cache.retries
          + b.components.orders.retries + 10)'
check "retry_storm: requests fail" is_true 'r.e2e.error_rate > 0.01'

# thread_pool_exhaustion: db +200 ms -> api's workers block on the calls.
run_eco thread_pool_exhaustion
check "thread_pool_exhaustion: api workers held" is_true \
  'r.components.api.utilization > b.components.api.utilization + 0.05
   and r.components.api.dropped > 0'

# ramp_to_saturation: x2 by the end, past api's saturation (x1.36): more arrivals and drops.
run_eco ramp_to_saturation
check "ramp_to_saturation: more arrivals" is_true \
  'r.components.clients.arrivals > 1.3 * b.components.clients.arrivals'
check "ramp_to_saturation: api saturates" is_true \
  'r.components.api.dropped > 0 and r.components.api.utilization > 0.9'

# Every shipped scenario either runs on the other templates or says in one line why not.
for t in social_feed url_shortener; do
  for name in db_failover chaos_monkey zone_outage dependency_slowdown retry_storm \
      cache_miss_storm thread_pool_exhaustion packet_loss traffic_spike ramp_to_saturation; do
    "$sdsim" run "$src/templates/$t.lua" --duration 5 --scenario "$name" >/dev/null 2>"$tmp/err"
    rc=$?
    if [ $rc -eq 0 ] || { [ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ]; }; then
      ok "$name on $t: runs or one clear line"
    else
      bad "$name on $t: rc $rc: $(head -3 "$tmp/err")"
    fi
  done
done
"$sdsim" run "$src/templates/social_feed.lua" --duration 5 --scenario zone_outage \
  >/dev/null 2>"$tmp/err"
check "zone_outage without zones: names what it looked for" \
  grep -q "zone_outage.lua:[0-9]*: design 'social_feed' puts no component in a zone" "$tmp/err"

# A design without a database: db_failover says what it looked for.
cat >"$tmp/nodb.json" <<'EOF'
{ "version": 1, "components": [ { "id": "api", "type": "service" } ],
  "workload": [ { "to": "api", "rps": 100 } ] }
EOF
"$sdsim" run "$tmp/nodb.json" --duration 5 --scenario db_failover >/dev/null 2>"$tmp/err"
check "db_failover without a database: exit 2" test $? -eq 2
check "db_failover without a database: names what it looked for" \
  grep -q "db_failover.lua:[0-9]*: no database in design 'nodb'" "$tmp/err"

# Parameters: unknown target, unknown parameter, wrong type, unknown scenario.
expect_fail() { # NAME PATTERN ARGS...: exit 2, one line on stderr matching PATTERN
  local name=$1 pattern=$2; shift 2
  timeout 30 "$sdsim" run "$eco" --duration 5 "$@" >/dev/null 2>"$tmp/err"
  local rc=$?
  if [ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -qE -- "$pattern" "$tmp/err"; then
    ok "$name"
  else
    bad "$name (rc $rc: $(head -c 300 "$tmp/err"))"
  fi
}
expect_fail "param: unknown target" "db_failover.lua:[0-9]+: s.pick: no component 'nosuch'" \
  --scenario db_failover --scenario-param target=nosuch
expect_fail "param: unknown name" "no parameter 'bogus' \(this scenario takes: at_s, for_s" \
  --scenario db_failover --scenario-param bogus=1
expect_fail "param: wrong type" "parameter at_s needs a number, not 'soon'" \
  --scenario db_failover --scenario-param at_s=soon
expect_fail "param: out of range" "parameter rate needs a number <= 1, not '2'" \
  --scenario packet_loss --scenario-param rate=2
expect_fail "unknown scenario lists the shipped ones" \
  "no scenario named 'nope' \(shipped: .*db_failover" \
  --scenario nope
expect_fail "param without scenario" "scenario-param without --scenario" --scenario-param a=1

# Hostile scenario files.
hostile() { # NAME PATTERN LUA_SOURCE
  printf '%s\n' "$3" >"$tmp/$1.lua"
  local t0=$SECONDS
  expect_fail "hostile $1" "$2" --scenario "$tmp/$1.lua"
  check "hostile $1: stopped within 15 s" test $((SECONDS - t0)) -le 15
}
hostile loop "$tmp/loop.lua:3: instruction budget of 50 million exceeded" \
'return { build = function(d, s)
  local i = 0
  while true do i = i + 1 end
end }'
hostile pcall_loop "$tmp/pcall_loop.lua:2: instruction budget" \
'return { build = function(d, s)
  while true do pcall(function() while true do end end) end
end }'
hostile error_line "$tmp/error_line.lua:3: boom" \
'return { name = "e", build = function(d, s)
  local x = 1
  error("boom")
end }'
hostile unknown_target \
  "$tmp/unknown_target.lua:2: s.crash: no component 'nodb' in design 'ecommerce'" \
'return { build = function(d, s)
  s.at(10, s.crash("nodb", { for_s = 5 }))
end }'
hostile wrong_time "$tmp/wrong_time.lua:3: s.at: the time must be a number, got string" \
'return { build = function(d, s)
  local c = s.crash("db")
  s.at("ten", c)
end }'
hostile wrong_option "$tmp/wrong_option.lua:1: s.slow: unknown option 'msec'" \
'return { build = function(d, s) s.slow("db", { msec = 5 }) end }'
hostile not_action "$tmp/not_action.lua:1: s.at: argument 2 is not an action" \
'return { build = function(d, s) s.at(3, "crash db") end }'
hostile not_cache "$tmp/not_cache.lua:1: s.hit_ratio: 'db' is a database, not a cache" \
'return { build = function(d, s) s.hit_ratio("db", 0.1) end }'
hostile returns_number "$tmp/returns_number.lua: a scenario file returns a table" 'return 42'
hostile syntax "$tmp/syntax.lua:1: .*expected" 'return { build = function(d, s) s.crash("db" end }'
hostile global "$tmp/global.lua:1: undeclared global 'os'" \
'return { build = function(d, s) os.exit(0) end }'
hostile memory "$tmp/memory.lua: not enough memory" \
'return { build = function(d, s)
  local t = {}; for i = 1, 1e9 do t[i] = ("x"):rep(64) .. i end
end }'
hostile vm_crash "$tmp/vm_crash.lua: the scenario crashed the Lua VM" \
'local function f(x) return (x:gsub(".", f)) end
return { build = function(d, s) f("ab") end }'
# What the scenario adds is validated like the rest of the document: the JSON path, and the
# scenario line that added it.
cat >"$tmp/bad_backoff.lua" <<'EOF'
return { build = function(d, s)
  s.resilience("api->db", { retries = 5, backoff_ms = { base = 100, max = 10 } })
end }
EOF
"$sdsim" run "$eco" --duration 5 --scenario "$tmp/bad_backoff.lua" >/dev/null 2>"$tmp/err"
check "scenario additions validated: exit 2" test $? -eq 2
check "scenario additions validated: path and scenario line" grep -qF \
  "\$.edges[3].backoff_ms.max: (from the scenario at $tmp/bad_backoff.lua:2) max" "$tmp/err"

finish
