#!/usr/bin/env bash
# README's first command, as a user runs it after the set-up: tools/demo.sh must exit 0 and show the
# MPI program's output (two ranks, pi) that came back through Blob Storage.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
export AZLUA_BIN=${AZLUA_BIN:-$root/build/azlua} AZLUA_NO_PROGRESS=1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
pass=0; fail=0
check() { if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $*"; fi; }
"$root/tools/demo.sh" >"$out" 2>&1
rc=$?
check test "$rc" = 0
check grep -q '^== the MPI program.s output, downloaded from Blob Storage$' "$out"
check grep -q '^MPI world size: 2$' "$out"
check grep -Eq '^rank 1 on host .* partial sum ' "$out"
check grep -Eq '^pi ~= 3\.14159265' "$out"
check grep -q '^== demo finished' "$out"
[ "$fail" = 0 ] || cat "$out"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
