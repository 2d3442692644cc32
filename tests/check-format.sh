#!/usr/bin/env bash
# One formatting for all C code, enforced: `make format` fixes what this reports.
set -eu
root=${1:-$(dirname "$0")/..}
cd "$root"
if ! command -v clang-format >/dev/null; then
  echo "clang-format is not installed: formatting not checked"
  exit 0
fi
bad=$(for f in engine/*.[ch] host/*.[ch] tests/*/*.c tests/*.h; do
        clang-format --style=file --dry-run "$f" 2>&1 | grep -q . && echo "$f"
      done || true)
if [ -n "$bad" ]; then
  echo "not formatted (run make format):"
  echo "$bad"
  exit 1
fi
echo "all C files formatted"
