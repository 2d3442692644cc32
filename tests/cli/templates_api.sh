#!/usr/bin/env bash
# Templates and user plugins through the real `sdsim serve` (docs/http-api.md): the gallery
# (every templates/*.lua with its category, search, the design), a project made from a
# template (usage counted), and a user's own component types: saved after a check in a forked
# child (422 with file:line for syntax and validation errors, built-in names refused), listed
# by GET /api/components for their owner only ("user": true), usable in validate, analyze and
# run; a plugin with a Lua behaviour runs in a locked-down child, and one with an endless loop
# is stopped there while the server goes on answering.
# Usage: templates_api.sh SDSIM_BINARY SOURCE_DIR
set -u
trap '' PIPE
sdsim=$1
src=$2
. "$src/tests/cli/lib/common.sh"
export LSAN_OPTIONS="suppressions=$src/tests/server/lsan.supp:print_suppressions=0"
pid=""
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

. "$src/tests/cli/lib/server.sh"
start "$tmp/data" --run-wall-limit 3

# req METHOD PATH [BODY] [TOKEN]: the answer in $tmp/body, the status in $code.
req() {
  local auth=()
  [ -n "${4:-}" ] && auth=(-H "Authorization: Bearer $4")
  code=$(curl -s -o "$tmp/body" -w '%{http_code}' -X "$1" "${auth[@]}" "$B$2" \
    ${3:+-d "$3"})
}
jget() { jq -r "$1" "$tmp/body"; }

# ---- the gallery
ntemplates=$(ls "$src"/templates/*.lua | wc -l)
# The server validates the templates one at a time after it starts (a few seconds; much more
# under AddressSanitizer on a loaded machine): wait until they are all there.
for _ in $(seq 120); do
  req GET /api/templates
  [ "$(jget '.templates | length' 2>/dev/null)" = "$ntemplates" ] && break
  sleep 1
done
req GET /api/templates
check "GET /api/templates 200" [ "$code" = 200 ]
check "every template file is listed ($ntemplates)" [ "$(jget '.templates | length')" = "$ntemplates" ]
check "each has id, name, category, description, components, usageCount" \
  [ "$(jget '[.templates[] | select(.id and .name and .category and .description
      and (.components > 0) and (.usageCount == 0))] | length')" = "$ntemplates" ]
check "no template falls in the category other (each file has its header)" \
  [ "$(jget '[.templates[] | select(.category == "other")] | length')" = 0 ]
req GET "/api/templates?category=finance"
check "category filter" [ "$(jget '[.templates[].id] | sort | join(",")')" \
  = "banking_ledger,payments_saga" ]
req GET "/api/templates?q=SAGA"
check "q searches names and descriptions, case-insensitively" \
  [ "$(jget '[.templates[].id] | join(",")')" = payments_saga ]
req GET "/api/templates?q=no-such-words"
check "a search without hits gives an empty list" [ "$(jget '.templates | length')" = 0 ]
req GET /api/templates/url_shortener
check "GET /api/templates/:id 200 with the design" [ "$code" = 200 -a \
  "$(jget '.design.components | length')" = "$(jget .components)" ]
echo "$(jq -c .design "$tmp/body")" >"$tmp/design.json"
code2=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$B/api/validate" -d @"$tmp/design.json")
check "the template's design validates as it is" [ "$code2" = 200 ]
req GET /api/templates/nope
check "an unknown template 404" [ "$code" = 404 ]

# ---- a project from a template
req POST /api/auth/register '{"email":"tpl@example.com","password":"correct horse"}'
tok=$(jget .token)
req POST /api/auth/register '{"email":"other@example.com","password":"correct horse"}'
tok2=$(jget .token)
req POST /api/templates/chat/projects '{"name":"My chat"}'
check "a project from a template needs a token (401)" [ "$code" = 401 ]
req POST /api/templates/chat/projects '{"name":"My chat"}' "$tok"
check "POST /api/templates/:id/projects 201" [ "$code" = 201 ]
check "the project has the name, the template's design and its template id" \
  [ "$(jget .name)" = "My chat" -a "$(jget '.design.components | length')" -gt 0 \
  -a "$(jget .templateId)" != null ]
pid_project=$(jget .id)
req GET "/api/projects/$pid_project" "" "$tok"
check "the project is the user's" [ "$code" = 200 ]
req POST /api/templates/chat/projects '' "$tok"
check "without a name it takes the template's" [ "$code" = 201 -a "$(jget .name)" = Chat ]
req GET /api/templates/chat
check "usage counted (2)" [ "$(jget .usageCount)" = 2 ]

# ---- plugins
put_plugin() { # NAME FILE TOKEN
  req PUT "/api/plugins/$1" "$(jq -Rs '{source: .}' "$2")" "$3"
}
cat >"$tmp/myq.lua" <<'EOF'
return {
    name = "myq",
    label = "My queue",
    behavior = "service",
    params = { workers = std.param("workers", { default = 3 }) },
}
EOF
put_plugin myq "$tmp/myq.lua" ""
check "saving a plugin needs a token (401)" [ "$code" = 401 ]
put_plugin myq "$tmp/myq.lua" "$tok"
check "PUT /api/plugins/myq 200 ok" [ "$code" = 200 -a "$(jget .ok)" = true ]
printf 'return {\n    name = "syn",\n    label = \n' >"$tmp/syn.lua"
put_plugin syn "$tmp/syn.lua" "$tok"
check "a syntax error: 422 with file:line" [ "$code" = 422 -a "$(jget '.errors[0].path')" \
  = "syn.lua:4" -a "$(jget '.errors[0].line')" = 4 ]
printf 'return {\n    name = "bad",\n    behavior = "teleport",\n    params = {},\n}\n' \
  >"$tmp/bad.lua"
put_plugin bad "$tmp/bad.lua" "$tok"
check "a validation error: 422 with the line of the field ($(jget '.errors[0].path'))" \
  [ "$code" = 422 -a "$(jget '.errors[0].path')" = "bad.lua:3" ]
printf 'return {\n    name = "lp",\n    behavior = "service",\n    params = {},\n}\n%s\n' \
  'while true do end' >"$tmp/lp.lua"
sed -i 's/^while true do end$//; 1i local x = 0; while true do x = x + 1 end' "$tmp/lp.lua"
put_plugin lp "$tmp/lp.lua" "$tok"
check "an endless loop at load is stopped by the budget (422)" [ "$code" = 422 ]
printf "local function f(s) return (s:gsub('.', f)) end\nf('x')\n" >"$tmp/crash.lua"
put_plugin crash "$tmp/crash.lua" "$tok"
check "a plugin that crashes the checker's VM: 422, and the server goes on" \
  [ "$code" = 422 ] && curl -sf -o /dev/null "$B/healthz"
sed 's/"myq"/"cache"/' "$tmp/myq.lua" >"$tmp/cache.lua"
put_plugin cache "$tmp/cache.lua" "$tok"
check "a built-in name is refused (422)" [ "$code" = 422 ]
sed 's/"myq"/"other_name"/' "$tmp/myq.lua" >"$tmp/mismatch.lua"
put_plugin mismatch "$tmp/mismatch.lua" "$tok"
check "the name in the source must be the plugin's (422)" [ "$code" = 422 ]
req GET /api/plugins "" "$tok"
check "GET /api/plugins lists only the saved one" \
  [ "$(jget '[.plugins[].name] | join(",")')" = myq -a "$(jget '.plugins[0].source')" \
  = "$(cat "$tmp/myq.lua")" ]
req GET /api/plugins "" "$tok2"
check "another user has none" [ "$(jget '.plugins | length')" = 0 ]

req GET /api/components "" "$tok"
check "the owner's /api/components has it, marked user" \
  [ "$(jget '[.components[] | select(.user) | .name] | join(",")')" = myq ]
req GET /api/components "" "$tok2"
check "other users' catalogue does not" [ "$(jget '[.components[] | select(.name == "myq")]
  | length')" = 0 ]
req GET /api/components
check "nor the anonymous one" [ "$(jget '[.components[] | select(.name == "myq")] | length')" = 0 ]

d='{"version":1,"name":"p","components":[{"id":"a","type":"myq"}],"workload":[{"to":"a","rps":10}]}'
req POST /api/validate "$d"
check "without a token the plugin type is unknown (422)" [ "$code" = 422 ]
req POST /api/validate "$d" "$tok"
check "with the owner's token the design validates" [ "$code" = 200 ]
req POST /api/analyze "$d" "$tok"
check "and is analysed" [ "$code" = 200 ]
req POST "/api/run?duration=5" "$d" "$tok"
check "and runs (a declarative plugin: 10 rps through it)" [ "$code" = 200 -a \
  "$(jget '.components.a.throughput_rps | . > 5 and . < 15')" = true ]

# a plugin with a Lua behaviour (a copy of components/token_bucket.lua): isolated run
sed 's/name = "token_bucket"/name = "mybucket"/' "$src/components/token_bucket.lua" \
  >"$tmp/mybucket.lua"
put_plugin mybucket "$tmp/mybucket.lua" "$tok"
check "a plugin with a Lua behaviour is saved" [ "$code" = 200 ]
d='{"version":1,"name":"p","components":[{"id":"b","type":"mybucket","params":{"rate_rps":50}},
  {"id":"s","type":"service"}],"edges":[{"from":"b","to":"s"}],"workload":[{"to":"b","rps":100}]}'
req POST "/api/run?duration=10&warmup=1" "$d" "$tok"
# rate 50/s admitted out of 100/s: throughput 50 within 10 % (burst 10 over 9 s adds ~1 rps)
check "it runs in the locked-down child: 50 of 100 rps admitted" [ "$code" = 200 -a \
  "$(jget '.components.b.throughput_rps | . > 45 and . < 56')" = true ]
sed 's/name = "token_bucket"/name = "loopy"/; s/local s, p = ctx.state, ctx.params/while true do end/' \
  "$src/components/token_bucket.lua" >"$tmp/loopy.lua"
put_plugin loopy "$tmp/loopy.lua" "$tok"
d='{"version":1,"name":"p","components":[{"id":"b","type":"loopy"}],"workload":[{"to":"b","rps":100}]}'
t0=$(date +%s%3N)
req POST "/api/run?duration=10" "$d" "$tok"
t1=$(date +%s%3N)
check "an endless loop in a behaviour is stopped at the wall limit (422, $((t1 - t0)) ms)" \
  [ "$code" = 422 ] && grep -q "wall-clock" "$tmp/body"
check "the server still answers" curl -sf -o /dev/null "$B/healthz"

# ---- the Lua console over /ws (console.lua): the user's own sandbox, with sim
ws=$(dirname "$sdsim")/ws_client
if [ -x "$ws" ]; then
  printf '%s\n' \
    'send {"type":"console","code":"declare(\"x\", 41)","id":1}' 'wait console_result 20' \
    'send {"type":"console","code":"x + 1","id":2}' 'wait console_result 20' \
    'send {"type":"console","code":"local d = sim.load(\"chat\")\nprint(#d.components, sim.analyze(d).offered_rps > 0)","id":3}' \
    'wait console_result 20' \
    'send {"type":"console","code":"local y = nil\ny()","id":4}' 'wait console_result 20' \
    'send {"type":"console","code":"sim.load(\"/etc/passwd\")","id":5}' 'wait console_result 20' \
    'send {"type":"console","code":"while true do end","id":6}' 'wait console_result 20' \
    'send {"type":"console","code":"print(\"after\")","id":7}' 'wait console_result 20' \
    'close' | timeout 90 "$ws" "$port" "/ws?token=$tok" script >"$tmp/ws.out" 2>&1
  res() { sed -n 's/^TEXT //p' "$tmp/ws.out" | jq -c "select(.id == $1)"; }
  check "console: a declared global persists to the next line (42)" \
    [ "$(res 2 | jq -r .output)" = "42" -a "$(res 2 | jq -r .error)" = null ]
  check "console: sim is there, templates load ($(res 3 | jq -c .output))" \
    [ "$(res 3 | jq -r .output)" = "$(printf '9\ttrue')" ]
  check "console: an error is console:LINE: message" \
    [ "$(res 4 | jq -r .error)" = "console:2: attempt to call local 'y' (a nil value)" ]
  check "console: a path is refused, at the console's line" \
    grep -q '^console:1: sim.load: in the sandbox only a template' <<<"$(res 5 | jq -r .error)"
  check "console: an endless loop is cut off by the CPU limit" \
    [ "$(res 6 | jq -r .status)" = killed_cpu ]
  check "console: the next line runs in a fresh sandbox" [ "$(res 7 | jq -r .output)" = after ]
  out=$(printf '%s\n' 'send {"type":"console","code":"1"}' 'wait error 5' 'close' \
    | timeout 20 "$ws" "$port" /ws script)
  check "console: an unauthenticated connection is refused" grep -q "not authenticated" <<<"$out"
else
  bad "no ws_client beside $sdsim: the console is not tested"
fi

req DELETE /api/plugins/myq "" "$tok"
check "DELETE /api/plugins/myq 204" [ "$code" = 204 ]
req DELETE /api/plugins/myq "" "$tok"
check "again: 404" [ "$code" = 404 ]
req GET /api/components "" "$tok"
check "it left the owner's catalogue" [ "$(jget '[.components[] | select(.name == "myq")]
  | length')" = 0 ]

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=""
check "the server stops cleanly (exit $rc)" [ "$rc" = 0 ]
finish
