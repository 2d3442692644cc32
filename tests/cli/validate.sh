#!/usr/bin/env bash
# `sdsim validate` as a user meets it: good designs and every template print "ok: NAME (...)"
# and exit 0; each bad design in tests/data/bad/ exits 1 with the problems listed in
# tests/data/bad/expect.tsv ("PATH: REASON" lines); hostile inputs made here (deep nesting,
# 100 MB, binary, an endless-loop template) fail fast and cleanly, never crash or hang.
# Usage: validate.sh SDSIM_BINARY SOURCE_DIR
set -u
sdsim=$1
src=$2
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

# validate FILE: runs `sdsim validate` with a time limit; sets $out and $rc. A crash (signal)
# gives rc > 128, a hang rc 124: both are failures of every check below.
validate() {
  out=$(timeout 30 "$sdsim" validate "$1" 2>"$tmp/stderr")
  rc=$?
}

for f in "$src"/tests/data/good/*.json "$src"/templates/*.lua; do
  validate "$f"
  if [ "$rc" -eq 0 ] && grep -q '^ok: ' <<<"$out"; then ok "valid: ${f#$src/}"
  else bad "valid: ${f#$src/} (exit $rc)"; echo "$out" | head -5; fi
done

# Every expected problem: exit 1 and a line "PATH: ...SUBSTRING...".
while IFS=$'\t' read -r file path sub; do
  case $file in '#'*|'') continue ;; esac
  validate "$src/tests/data/bad/$file"
  if [ "$rc" -eq 1 ] && grep -F -- "$path: " <<<"$out" | grep -qF -- "$sub"; then
    ok "bad: $file -> $path"
  else
    bad "bad: $file (exit $rc): expected '$path: ...$sub...'"
    echo "$out" | head -5
  fi
done <"$src/tests/data/bad/expect.tsv"

# Hostile inputs, made here rather than committed.
expect_fail() { # NAME FILE SUBSTRING
  validate "$2"
  if [ "$rc" -eq 1 ] && grep -qF -- "$3" <<<"$out"; then ok "$1"
  else bad "$1 (exit $rc)"; echo "$out" | head -3; fi
}
head -c 200000 /dev/zero | tr '\0' '[' >"$tmp/deep.json"
expect_fail "deep nesting" "$tmp/deep.json" "JSON nesting deeper than 64 levels"
truncate -s 100M "$tmp/huge.json"
expect_fail "100 MB file" "$tmp/huge.json" "more than the limit of 16777216 (16 MB)"
head -c 65536 /dev/urandom >"$tmp/random.json"
printf '\0' >>"$tmp/random.json"
expect_fail "binary garbage" "$tmp/random.json" "not "
printf 'while true do end\n' >"$tmp/spin.lua"
expect_fail "endless loop template" "$tmp/spin.lua" "spin.lua:1: instruction budget"
printf 'local s = "x"\nwhile true do s = s .. s end\n' >"$tmp/grow.lua"
expect_fail "memory bomb template" "$tmp/grow.lua" "not enough memory"
expect_fail "missing file" "$tmp/nope.json" "cannot open"

# docs/design.schema.json is generated from the validator's own specs: it must be current.
if command -v luajit >/dev/null; then
  if luajit "$src/scripts/sdk/gen_schema.lua" "$src" | cmp -s - "$src/docs/design.schema.json"
  then ok "docs/design.schema.json is up to date"
  else bad "docs/design.schema.json is stale: run luajit scripts/sdk/gen_schema.lua . >docs/..."
  fi
fi
# A normalized document (defaults filled in, D.public) written back as JSON validates again.
if command -v luajit >/dev/null; then
  for f in "$src"/tests/data/good/*.json; do
    if luajit -e "
      local root = '$src'
      local D = dofile(root .. '/scripts/sdk/offline.lua')(root)
      local types, broken, names = D.load_types(root)
      local f = assert(io.open('$f')); local doc = D.decode_json(f:read('*a')); f:close()
      local norm = assert(D.validate(doc, types, names, broken, 'x'))
      local again, problems = D.validate(D.decode_json(D.encode_pretty(D.public(norm))),
                                         types, names, broken, 'x')
      if not again then print(problems[1].path .. ': ' .. problems[1].reason) os.exit(1) end"
    then ok "normalized round trip: ${f#$src/}"; else bad "normalized round trip: ${f#$src/}"; fi
  done
fi

# Where a JSON Schema validator is at hand: the schema is valid draft 2020-12 and accepts
# every good design.
if python3 -c 'import jsonschema' 2>/dev/null; then
  if python3 - "$src" <<'PY'
import glob, json, sys, jsonschema
src = sys.argv[1]
schema = json.load(open(src + "/docs/design.schema.json"))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
bad = 0
for f in sorted(glob.glob(src + "/tests/data/good/*.json")):
    for e in v.iter_errors(json.load(open(f))):
        print(f, list(e.absolute_path), e.message[:200]); bad += 1
sys.exit(1 if bad else 0)
PY
  then ok "the schema accepts every good design"
  else bad "the schema refuses a good design"
  fi
fi

finish
