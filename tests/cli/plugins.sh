#!/usr/bin/env bash
# `sdsim run DESIGN --plugins DIR`: a user's component types run in an isolated child; a good
# one simulates correctly, a hostile or broken one costs only its own run and is named in a
# one-line error with exit code 2. Usage: plugins.sh SDSIM_BINARY SOURCE_DIR
set -u
sdsim=$1
src=$2
cases=$src/tests/cli/plugins
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

# A design of one component of the plugin type TYPE at RPS requests per second.
design() {
  printf '{"version":1,"name":"plugin %s","components":[{"id":"p","type":"%s"}],' "$1" "$1"
  printf '"edges":[],"workload":[{"to":"p","rps":%s}]}\n' "$2"
}

# Runs the plugin file NAME.lua alone in its own directory; stdout, stderr and rc in $tmp.
run_plugin() {
  local name=$1 rps=$2; shift 2
  rm -rf "$tmp/dir" && mkdir "$tmp/dir" && cp "$cases/$name.lua" "$tmp/dir/"
  design "$name" "$rps" >"$tmp/design.json"
  timeout 60 "$sdsim" run "$tmp/design.json" --plugins "$tmp/dir" "$@" >"$tmp/out" 2>"$tmp/err"
  echo $? >"$tmp/rc"
}
rc() { cat "$tmp/rc"; }
one_line() { test "$(wc -l <"$tmp/err")" -eq 1; }

# A good plugin: two workers, exponential 2 ms service at 500 rps is M/M/2 at rho 0.5.
# Erlang C: P(wait) = 1/3, Wq = P(wait) / (c mu - lambda) = (1/3) / 500 s = 0.667 ms, so the
# mean response is 2.667 ms. Over 100 s (about 50,000 requests) the standard error of the
# mean response is about 1 %: 6 % is a safe tolerance.
run_plugin good_echo 500 --duration 100 --json
check "a good plugin runs" test "$(rc)" -eq 0
mean=$(luajit -e "local f = io.open('$tmp/out'); local r = require('cjson').decode(f:read('*a'))
  print(r.components.p.mean_response_ms)")
check "a good plugin agrees with Erlang C (2.667 ms, got $mean)" \
  awk -v m="$mean" 'BEGIN { exit !(m > 2.667 * 0.94 && m < 2.667 * 1.06) }'

# Hostile behaviours: cut off by the limits, exit 2, one line naming the file.
run_plugin loop_forever 100 --duration 10 --plugin-cpu 1
check "an endless loop exits 2" test "$(rc)" -eq 2
check "an endless loop is named" grep -q "loop_forever.lua" "$tmp/err"
check "an endless loop gives one line" one_line

run_plugin memory_bomb 100 --duration 10 --plugin-memory 64
check "a memory bomb exits 2" test "$(rc)" -eq 2
check "a memory bomb is named" grep -q "memory_bomb.lua" "$tmp/err"

run_plugin runtime_error 100 --duration 10
check "a runtime error exits 2" test "$(rc)" -eq 2
check "a runtime error names file and line" grep -q "runtime_error.lua:7" "$tmp/err"

# Broken type files: the design is invalid, with the file named; the built-in stays.
run_plugin escape_io 100 --duration 5
check "io in a plugin is refused" test "$(rc)" -eq 2
check "io refusal names the file" grep -q "escape_io.lua" "$tmp/err"

rm -rf "$tmp/dir" && mkdir "$tmp/dir" && cp "$cases/service.lua" "$tmp/dir/"
"$sdsim" run "$src/tests/cli/data/three_tier.json" --plugins "$tmp/dir" --duration 5 --json \
  >"$tmp/out" 2>"$tmp/err"
code=$?
check "a plugin cannot replace a built-in type" test $code -eq 2
check "the clash names the plugin" grep -q "service.lua" "$tmp/err"

# The plugin child gets the sandbox's lock-down (sdsim_sandbox_lockdown): seen from outside
# while an endless loop keeps it busy. Descriptor 7 is open in sdsim and must not reach the
# child; it keeps only 0-2, may open no more (RLIMIT_NOFILE 3) and runs under a seccomp filter
# (mode 2), which ASan builds leave out.
rm -rf "$tmp/dir" && mkdir "$tmp/dir" && cp "$cases/loop_forever.lua" "$tmp/dir/"
design loop_forever 100 >"$tmp/design.json"
"$sdsim" run "$tmp/design.json" --plugins "$tmp/dir" --duration 10 --plugin-cpu 3 \
  >"$tmp/out" 2>"$tmp/err" 7</dev/null &
parent=$!
child=
limited=no
for _ in $(seq 100); do # up to 5 s for the child to be locked down
  child=$(cat "/proc/$parent/task/$parent/children" 2>/dev/null | awk '{print $1}')
  if [ -n "$child" ] && grep -q "^Max open files *3 *3" "/proc/$child/limits" 2>/dev/null; then
    limited=yes
    break
  fi
  sleep 0.05
done
fds=$(ls "/proc/$child/fd" 2>/dev/null | sort -n | tr '\n' ' ')
mode=$(awk '/^Seccomp:/ {print $2}' "/proc/$child/status" 2>/dev/null)
wait "$parent"
code=$?
check "the plugin child keeps descriptors 0-2 only (got '$fds')" test "$fds" = "0 1 2 "
check "the plugin child may open no more descriptors (RLIMIT_NOFILE 3)" test $limited = yes
if grep -qa __asan_init "$sdsim"; then
  echo "skip the plugin child's seccomp mode (AddressSanitizer build)"
else
  check "the plugin child runs under seccomp (mode '$mode')" test "$mode" = 2
fi
check "the locked-down loop is still cut off by the CPU limit" test $code -eq 2

# After all of that, the plain CLI still works.
"$sdsim" run "$src/tests/cli/data/three_tier.json" --duration 5 >/dev/null 2>&1
check "the CLI still runs designs" test $? -eq 0

finish
