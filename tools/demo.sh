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
. "$root/tools/lib/local_azure.sh"
cleanup() {
  local_azure_stop
  if [ "$keep" = 1 ]; then echo "demo: work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== starting the local Azure emulator and Azurite"
# shellcheck disable=SC2086
local_azure_start "$work" ${AZLUA_DEMO_EMULATOR_ARGS:-}
local_azure_config "$work"

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
