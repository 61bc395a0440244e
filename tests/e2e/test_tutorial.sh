#!/usr/bin/env bash
# The tutorial end to end, as README's first command runs it: the three scripts against the local
# emulator and Azurite, then their results checked through ARM and Batch — once with the emulator
# behaving, once with its faults on (throttling and dropped connections).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
export AZLUA_BIN=${AZLUA_BIN:-$root/build/azlua} AZLUA_SOURCE_DIR=$root AZLUA_NO_PROGRESS=1
. "$root/tools/lib/local_azure.sh"
base=$(mktemp -d)
trap 'local_azure_stop; rm -rf "$base"' EXIT
pass=0; fail=0

# The secrets a run knows: the service principal's, the Batch key, the SAS signature.
secrets_of() {
  (cd "$1" && "$AZLUA_BIN" - <<'LUA'
local e = require("azure.json").decode(io.open("endpoints.json.copy"):read("a"))
print(e.client_secret)
local ok, r = pcall(require("azure.config").load, "config_resources.lua")
if ok then
  print(r.batch.key)
  print((r.blob_container.sas_token:match("sig=([^&]+)")))
end
LUA
  )
}

run_tutorial() { # NAME [emulator args...]
  local name=$1; shift
  local work=$base/$name
  local_azure_start "$work" "$@"
  local_azure_config "$work"
  cp "$work/endpoints.json" "$work/endpoints.json.copy"
  (
    cd "$work"
    export AZURE_CLOUD=local AZLUA_LOCAL_ENDPOINTS="$work/endpoints.json"
    "$AZLUA_BIN" "$root/scripts/create_resource.lua" &&
      "$AZLUA_BIN" "$root/scripts/launch_batch.lua" &&
      "$AZLUA_BIN" "$root/scripts/check_task.lua" --wait --timeout 300 &&
      "$AZLUA_BIN" "$root/tests/e2e/tutorial_assert.lua" &&
      if [ "$name" = plain ]; then
        # README's "your own workflow" example, on the tutorial's pool
        "$AZLUA_BIN" "$root/scripts/examples/many_tasks.lua" | tee example.out &&
          grep -q '^added 100 of 100 tasks' example.out && grep -q '^succeeded 100, failed 0$' example.out &&
          grep -q '^t7 printed: 49$' example.out && echo "1 passed, 0 failed (README example)" &&
          "$AZLUA_BIN" "$root/scripts/check_task.lua" -o json >counts.json &&
          /usr/bin/python3 -c 'import json; rows = json.load(open("counts.json")); assert any(r["job"] == "mpi-job" and r["succeeded"] == 1 for r in rows), rows' &&
          echo "1 passed, 0 failed (check_task -o json)" &&
          "$AZLUA_BIN" "$root/scripts/delete_resources.lua" --yes | tee delete.out &&
          grep -q "deleted  resource group 'group-centrale-supelec'" delete.out &&
          "$AZLUA_BIN" "$root/scripts/delete_resources.lua" --yes --resource_gp_name group-centrale-supelec | grep -q 'does not exist' &&
          echo "1 passed, 0 failed (delete_resources)"
      fi
  ) >"$work/run.log" 2>&1
  local rc=$?
  # With faults on, the run only proves something if faults were really injected.
  local injected
  injected=$(local_azure_admin GET faults | /usr/bin/python3 -c 'import json,sys; print(sum(json.load(sys.stdin)["injected"].values()))')
  echo "   $name: $injected faults injected"
  if [ "$name" = faults ] && [ "$injected" -lt 5 ]; then rc=99; fi
  local_azure_stop
  # Nothing secret may show in what the scripts printed.
  local secret leaked=0
  while IFS= read -r secret; do
    [ -n "$secret" ] && grep -qF -- "$secret" "$work/run.log" && leaked=1
  done < <(secrets_of "$work")
  if [ "$rc" = 0 ] && [ "$leaked" = 0 ]; then
    pass=$((pass + 1)); echo "ok   tutorial ($name)"; grep -E '[0-9]+ passed' "$work/run.log" || true
  else
    fail=$((fail + 1)); echo "FAIL tutorial ($name): exit $rc, secret leaked: $leaked"; cat "$work/run.log"
  fi
}

run_tutorial plain --lro-polls 1 --retry-after 1
run_tutorial faults --lro-polls 1 --retry-after 1 --faults "429=0.05,503=0.05,reset_before=0.025,reset_after=0.025,seed=11"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
