#!/usr/bin/env bash
# Hot reload in the real `sdsim serve` (docs/hot-reload.md), on a copy of the project's Lua
# (SDSIM_ROOT): a new component type file appears in GET /api/components; a broken edit keeps
# the old version working (validation and the catalogue), is listed under "broken" and logged
# as one JSON line with its file and line; a fix swaps the new version in. An API handler
# module edited on disk answers differently; a broken one (syntax or an error at load) never
# replaces the working one. Prints the save -> available times (ms, measured by polling every
# 10 ms, so they include up to 10 ms of polling and the debounce of 40 ms).
# Usage: reload.sh SDSIM_BINARY SOURCE_DIR
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

root=$tmp/root
mkdir -p "$root/scripts"
cp -r "$src/components" "$src/templates" "$root/"
cp -r "$src/scripts/sdk" "$src/scripts/api" "$src/scripts/scenarios" "$root/scripts/"

. "$src/tests/cli/lib/server.sh"
server_root=$root start "$tmp/data" --test-routes

now_ms() { date +%s%3N; }
components() { curl -s "$B/api/components"; }
# wait_for JQ_EXPR URL_FN: polls (10 ms) until the expression is true; echoes the ms it took,
# or "timeout" after 10 s.
wait_for() {
  local expr=$1 fn=$2 t0 t
  t0=$(now_ms)
  while :; do
    if $fn | jq -e "$expr" >/dev/null 2>&1; then
      t=$(now_ms)
      echo $((t - t0))
      return 0
    fi
    t=$(now_ms)
    [ $((t - t0)) -gt 10000 ] && { echo timeout; return 1; }
    sleep 0.01
  done
}
type_json() { components | jq -c '.components[] | select(.name == "probe")'; }
design='{"version":1,"name":"p","components":[{"id":"a","type":"probe"}],
  "workload":[{"to":"a","rps":10}]}'
validate() { curl -s -o "$tmp/v.json" -w '%{http_code}' -X POST "$B/api/validate" -d "$design"; }

# ---- a new component type
check "probe is not there at first" [ -z "$(type_json)" ]
write_probe() { # LABEL [EXTRA_LINE]
  cat >"$tmp/probe.lua" <<EOF
return {
    name = "probe",
    label = "$1",${2:-}
    category = "compute",
    description = "A test type.",
    behavior = "service",
    params = { workers = std.param("workers", { default = 4 }) },
}
EOF
  mv "$tmp/probe.lua" "$root/components/probe.lua" # as editors save: write, then rename
}
write_probe "Probe v1"
ms_add=$(wait_for '.components | map(.name) | index("probe") != null' components)
check "a new type file appears in /api/components ($ms_add ms)" [ "$ms_add" != timeout ]
code=$(validate)
check "a design using the new type validates" [ "$code" = 200 ]

# ---- a broken edit: syntax error on line 4
write_probe "Probe v2" '
    oops oops'
ms_bad=$(wait_for '.broken.probe != null' components)
check "the broken edit is reported under broken ($ms_bad ms)" [ "$ms_bad" != timeout ]
reason=$(components | jq -r '.broken.probe')
check "the reason names the file and line: $reason" \
  grep -q "components/probe.lua:4:" <<<"$reason"
check "the old version stays in the catalogue" [ "$(type_json | jq -r .label)" = "Probe v1" ]
code=$(validate)
check "a design using the type still validates with the old version" [ "$code" = 200 ]
line=$(grep '"event":"reload"' "$tmp/server.log" | grep '"status":"rejected"' | tail -1)
check "the rejection is one JSON log line with file and line" \
  [ "$(jq -r '.file | endswith("components/probe.lua")' <<<"$line")" = true ]
check "the log line has line 4" [ "$(jq -r .line <<<"$line")" = 4 ]

# a validation error (not syntax): behavior unknown; the line of behavior = is found
cat >"$tmp/probe.lua" <<'EOF'
return {
    name = "probe",
    label = "Probe v3",
    behavior = "teleport",
    params = {},
}
EOF
mv "$tmp/probe.lua" "$root/components/probe.lua"
wait_for '.broken.probe | test("behavior")' components >/dev/null
reason=$(components | jq -r '.broken.probe')
check "a check_type reason gets the line of its field: $reason" \
  grep -q "probe.lua:4: behavior must be one of" <<<"$reason"
check "still the old version" [ "$(type_json | jq -r .label)" = "Probe v1" ]

# ---- the fix
write_probe "Probe v4"
ms_fix=$(wait_for '(.broken.probe == null) and ([.components[] | select(.name == "probe")
  | .label][0] == "Probe v4")' components)
check "the fixed version is swapped in ($ms_fix ms)" [ "$ms_fix" != timeout ]

# ---- deleting the file removes the type
rm "$root/components/probe.lua"
ms_rm=$(wait_for '.components | map(.name) | index("probe") == null' components)
check "a deleted type file leaves the catalogue ($ms_rm ms)" [ "$ms_rm" != timeout ]

# ---- a template waiting for a type: rejected until the type appears, then validated again
templates() { curl -s "$B/api/templates"; }
cat >"$tmp/t.lua" <<'EOF'
-- category: test
return { version = 1, name = "needs_probe3", components = { { id = "a", type = "probe3" } },
         workload = { { to = "a", rps = 5 } } }
EOF
mv "$tmp/t.lua" "$root/templates/needs_probe3.lua"
sleep 1
check "a template using a missing type is not in the gallery" \
  [ "$(templates | jq '[.templates[] | select(.id == "needs_probe3")] | length')" = 0 ]
cat >"$tmp/p3.lua" <<'EOF'
return { name = "probe3", behavior = "service", params = { workers = std.param("workers") } }
EOF
mv "$tmp/p3.lua" "$root/components/probe3.lua"
ms_t=$(wait_for '[.templates[] | select(.id == "needs_probe3")] | length == 1' templates)
check "once the type appears the template is validated again and listed ($ms_t ms)" \
  [ "$ms_t" != timeout ]

# ---- handler modules
echo_json() { curl -s "$B/api/debug/echo/x"; }
check "the echo handler answers" [ "$(echo_json | jq -r .method)" = GET ]
edit_debug() { # sed expression on debug.lua
  sed "$1" "$src/scripts/api/debug.lua" >"$tmp/debug.lua"
  mv "$tmp/debug.lua" "$root/scripts/api/debug.lua"
}
edit_debug 's/res:json({ method = req.method,/res:json({ marker = "v2", method = req.method,/'
ms_h=$(wait_for '.marker == "v2"' echo_json)
check "an edited handler answers differently ($ms_h ms)" [ "$ms_h" != timeout ]
edit_debug 's/^function M.echo(req, res)/function M.echo(req, res) oops/'
sleep 0.5
check "a handler with a syntax error does not replace the working one" \
  [ "$(echo_json | jq -r .marker)" = v2 ]
line=$(grep '"event":"reload"' "$tmp/server.log" | grep 'debug.lua' | tail -1)
check "its error is logged with file and line" [ "$(jq -r .line <<<"$line")" -gt 0 ]
edit_debug 's/^local M = {}/local M = {}; error("broken at load")/'
sleep 0.5
check "a handler that fails when it runs does not replace the working one" \
  [ "$(echo_json | jq -r .marker)" = v2 ]
check "and that is logged" grep -q 'broken at load' "$tmp/server.log"
edit_debug 's/res:json({ method = req.method,/res:json({ marker = "v3", method = req.method,/'
ms_h2=$(wait_for '.marker == "v3"' echo_json)
check "the fixed handler is swapped in ($ms_h2 ms)" [ "$ms_h2" != timeout ]

# a new route and module: routes.lua and probe.lua
cat >"$root/scripts/api/probe.lua" <<'EOF'
local M = {}
function M.get(req, res) res:json({ probe = true }) end
return M
EOF
sed 's|\["GET /api/components"\] = "components.list",|&\n    ["GET /api/probe"] = "probe.get",|' \
  "$src/scripts/api/routes.lua" >"$tmp/routes.lua"
mv "$tmp/routes.lua" "$root/scripts/api/routes.lua"
probe() { curl -s "$B/api/probe"; }
ms_r=$(wait_for '.probe == true' probe)
check "a new route in routes.lua and its new module answer ($ms_r ms)" [ "$ms_r" != timeout ]

# ---- precise save -> available: a Python poller on one keep-alive connection (no process
# start per poll) writes the file itself (write + rename) and polls every 2 ms.
if command -v python3 >/dev/null; then
  cat >"$tmp/measure.py" <<'EOF'
import http.client, os, sys, time, statistics
port, kind, root = int(sys.argv[1]), sys.argv[2], sys.argv[3]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
def get(path):
    conn.request("GET", path)
    r = conn.getresponse()
    return r.read().decode()
def save(path, text):
    tmp = path + ".tmp~"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)
times = []
for i in range(int(sys.argv[4])):
    marker = "m%d_%d" % (os.getpid(), i)
    if kind == "type":
        path, url = root + "/components/probe2.lua", "/api/components"
        text = ('return { name = "probe2", label = "%s", behavior = "service", '
                'params = { workers = std.param("workers") } }\n' % marker)
    else:
        path, url = root + "/scripts/api/probe2.lua", "/api/probe2"
        text = ('local M = {}\nfunction M.get(req, res) res:json({ m = "%s" }) end\n'
                'return M\n' % marker)
    t0 = time.monotonic()
    save(path, text)
    while marker not in get(url):
        if time.monotonic() - t0 > 10:
            print("timeout"); sys.exit(1)
        time.sleep(0.002)
    times.append((time.monotonic() - t0) * 1000)
    time.sleep(0.1)
print("median %.0f ms, max %.0f ms over %d saves" % (statistics.median(times), max(times),
                                                    len(times)))
EOF
  sed 's|\["GET /api/components"\] = "components.list",|&\n    ["GET /api/probe2"] = "probe2.get",|' \
    "$root/scripts/api/routes.lua" >"$tmp/routes.lua"
  printf 'local M = {}\nfunction M.get(req, res) res:json({ m = "none" }) end\nreturn M\n' \
    >"$root/scripts/api/probe2.lua"
  mv "$tmp/routes.lua" "$root/scripts/api/routes.lua"
  sleep 1
  m_type=$(python3 "$tmp/measure.py" "$port" type "$root" 10)
  check "type saves measured: $m_type (save -> in /api/components, catalogue rebuilt)" \
    grep -q median <<<"$m_type"
  m_handler=$(python3 "$tmp/measure.py" "$port" handler "$root" 10)
  check "handler saves measured: $m_handler (save -> the new answer)" grep -q median <<<"$m_handler"
fi

echo "save -> answer changed (ms, polled every 10 ms with curl+jq; the catalogue is rebuilt):" \
  "new type $ms_add, rejected $ms_bad, fixed $ms_fix, removed $ms_rm, handler $ms_h," \
  "handler fixed $ms_h2, new route $ms_r"
echo "file event -> swapped/rejected in the registry (ms, from the server's reload log lines):" \
  "$(grep '"event":"reload"' "$tmp/server.log" | jq -r '"\(.name) \(.status) \(.ms)"' \
  | tr '\n' ',' | sed 's/,$//')"

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=""
check "the server stops cleanly with the registry running (exit $rc)" [ "$rc" = 0 ]
finish
