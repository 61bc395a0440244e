#!/usr/bin/env bash
# README's first command ends here: the whole Batch tutorial on this machine, with no subscription.
# Starts the local Azure emulator (sign-in, ARM, Batch) and Azurite on free loopback ports, writes a
# local config.lua, runs the three tutorial scripts, prints the MPI program's output that came back
# through Blob Storage, and stops what it started. Exit status 0 means every step worked.
#   tools/demo.sh [--keep]     (--keep leaves the work directory with config and outputs)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
azlua=${AZLUA_BIN:-$root/build/azlua}
keep=0; [ "${1:-}" = "--keep" ] && keep=1
work=$(mktemp -d "${TMPDIR:-/tmp}/azlua-demo.XXXXXX")
emu_pid=""
cleanup() {
  if [ -n "$emu_pid" ] && kill -0 "$emu_pid" 2>/dev/null; then
    kill -TERM "$emu_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$emu_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$emu_pid" 2>/dev/null || true
  fi
  if [ "$keep" = 1 ]; then echo "demo: work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== starting the local Azure emulator and Azurite"
/usr/bin/python3 "$root/tests/emulator" --port 0 --state "$work/state" --endpoints "$work/endpoints.json" \
  ${AZLUA_DEMO_EMULATOR_ARGS:-} >"$work/emulator.log" 2>&1 &
emu_pid=$!
for _ in $(seq 1 300); do
  [ -s "$work/endpoints.json" ] && break
  kill -0 "$emu_pid" 2>/dev/null || { echo "demo: the emulator exited:"; cat "$work/emulator.log"; exit 1; }
  sleep 0.1
done
[ -s "$work/endpoints.json" ] || { echo "demo: the emulator did not start in 30 s"; cat "$work/emulator.log"; exit 1; }

# The emulator's ready service principal becomes the tutorial's config.lua, as a user would write it.
"$azlua" - "$work/endpoints.json" "$work/config.lua" <<'LUA'
local e = require("azure.json").decode(assert(io.open(arg[1])):read("a"))
require("azure.config").write(arg[2], { subs = e.subscription,
  sp = { client_id = e.client_id, name = "azlua-demo", password = e.client_secret, tenant = e.tenant } },
  { header = "config.lua for the local emulator, written by tools/demo.sh" })
LUA

export AZURE_CLOUD=local AZLUA_LOCAL_ENDPOINTS="$work/endpoints.json"
cd "$work"
echo "== azlua scripts/create_resource.lua"
"$azlua" "$root/scripts/create_resource.lua"
echo "== azlua scripts/launch_batch.lua"
"$azlua" "$root/scripts/launch_batch.lua"
echo "== azlua scripts/check_task.lua --wait"
"$azlua" "$root/scripts/check_task.lua" --wait --out "$work/output"
echo "== the MPI program's output, downloaded from Blob Storage"
found=0
for f in "$work"/output/*/*/stdout.txt; do
  [ -f "$f" ] || continue
  if grep -q "MPI world size" "$f"; then echo "-- ${f#$work/}"; cat "$f"; found=1; fi
done
[ "$found" = 1 ] || { echo "demo: no MPI output was downloaded"; exit 1; }
echo "== demo finished: the tutorial ran end to end on the local emulator"
