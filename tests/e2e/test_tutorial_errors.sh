#!/usr/bin/env bash
# Bad input to the tutorial scripts: each case must end with one clear line on stderr, a non-zero
# exit, nothing half-written, and no secret printed.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
export AZLUA_BIN=${AZLUA_BIN:-$root/build/azlua} AZLUA_SOURCE_DIR=$root AZLUA_NO_PROGRESS=1
. "$root/tools/lib/local_azure.sh"
base=$(mktemp -d)
trap 'local_azure_stop; rm -rf "$base"' EXIT
pass=0; fail=0
local_azure_start "$base/emu" --lro-polls 0 || exit 1
cp "$base/emu/endpoints.json" "$base/endpoints.json.copy"
export AZURE_CLOUD=local AZLUA_LOCAL_ENDPOINTS="$base/emu/endpoints.json"
secret=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["client_secret"])' "$base/endpoints.json.copy")

# expect NAME EXPECTED_STDERR_REGEX -- command...: runs in the current directory; checks exit != 0,
# stderr is exactly one line matching the regex, and no known secret in stdout or stderr.
expect() {
  local name=$1 want=$2; shift 3
  "$@" >"$base/out" 2>"$base/err"
  local rc=$? lines ok=1
  lines=$(wc -l <"$base/err")
  [ "$rc" != 0 ] || { echo "  exit status was 0"; ok=0; }
  [ "$lines" = 1 ] || { echo "  stderr has $lines lines"; ok=0; }
  grep -Eq -- "$want" "$base/err" || { echo "  stderr does not match /$want/"; ok=0; }
  local s
  for s in "$secret" ${EXTRA_SECRETS:-}; do
    if grep -qF -- "$s" "$base/out" "$base/err"; then echo "  a secret was printed"; ok=0; fi
  done
  if [ "$ok" = 1 ]; then pass=$((pass + 1)); echo "ok   $name"
  else fail=$((fail + 1)); echo "FAIL $name"; sed 's/^/  | /' "$base/err"; fi
}
check() { # NAME command...: a plain assertion
  local name=$1; shift
  if "$@"; then pass=$((pass + 1)); echo "ok   $name"; else fail=$((fail + 1)); echo "FAIL $name"; fi
}
rg_exists() { # NAME → exit 0 when the resource group exists (asked through ARM)
  "$AZLUA_BIN" - "$1" <<'LUA'
local tutorial = require "azure.tutorial"
local cred, sub, cloud = tutorial.sign_in("config.lua")
local arm = require("azure.arm").client{ credential = cred, subscription = sub, cloud = cloud }
os.exit(arm:resource_groups():exists(arg[1]) and 0 or 1)
LUA
}
cr() { "$AZLUA_BIN" "$root/scripts/create_resource.lua" "$@"; }

mkdir -p "$base/w" && cd "$base/w"
local_azure_config "$base/w"

expect "invalid storage account name" "^azlua: storage account name 'Bad_Name' may only use lower-case letters and digits" -- \
  cr --storage_account_name Bad_Name --resource_gp_name rg-invalid
check "  ... nothing created or written" bash -c '! test -e config_resources.lua && ! test -e config_resources.lua.tmp.*'
check "  ... no resource group" bash -c '! rg_exists rg-invalid' 2>/dev/null || true

expect "unknown region" "^azlua: region 'atlantis' is not available to subscription .*: pick one of 'az account list-locations -o table'" -- \
  cr --region_name atlantis --resource_gp_name rg-atlantis --storage_account_name atlantis01 --batch_account_name atlantisb01
check "  ... nothing written" test ! -e config_resources.lua

# A name taken by another resource group: refused before anything is created.
cr --resource_gp_name rg-first --storage_account_name takenname01 --batch_account_name firstbatch01 --out first.lua >/dev/null 2>&1
check "first account for the 'taken' case" test -s first.lua
expect "storage account name already taken" "^azlua: .*AlreadyExists.*takenname01" -- \
  cr --resource_gp_name rg-second --storage_account_name takenname01 --batch_account_name secondbatch01
check "  ... second resource group not created" bash -c "! (cd '$base/w' && $(declare -f rg_exists); rg_exists rg-second)"
check "  ... nothing written" test ! -e config_resources.lua

# config.lua problems
mkdir -p "$base/c1" && cd "$base/c1"
expect "missing config.lua" "^azlua: config.lua not found and AZURE_SUBSCRIPTION_ID is not set: copy scripts/config.lua.example" -- cr
grep -v password "$base/w/config.lua" > config.lua
expect "missing sp.password" "^azlua: config.lua: sp.password is missing: it is the password that 'az ad sp create-for-rbac' printed" -- cr
sed "s/password = \"[^\"]*\"/password = \"wrong-secret-123\"/" "$base/w/config.lua" > config.lua
EXTRA_SECRETS="wrong-secret-123" expect "wrong secret" "^azlua: .*(invalid_client|AADSTS7000215)" -- cr
check "  ... nothing written" test ! -e config_resources.lua

# config_resources.lua problems, against the resources of the 'taken' case
mkdir -p "$base/r" && cd "$base/r"
cp "$base/w/config.lua" .
batch_key=$(cd "$base/w" && "$AZLUA_BIN" -e 'print(require("azure.config").load("first.lua").batch.key)')
wrong_key=$("$AZLUA_BIN" -e 'local c = require("azure").crypto; print(c.base64_encode(c.random_bytes(64)))')
sed "s#$batch_key#$wrong_key#" "$base/w/first.lua" > config_resources.lua
EXTRA_SECRETS="$batch_key $wrong_key" expect "wrong Batch key" "^azlua: Batch 403 .*(key|authentication|Authentication)" -- \
  "$AZLUA_BIN" "$root/scripts/launch_batch.lua"
"$AZLUA_BIN" - "$base/w/first.lua" config_resources.lua <<'LUA'
local config = require "azure.config"
local r = config.load(arg[1])
r.blob_container.sas_expiry = "2024-01-01T00:00:00Z"
config.write(arg[2], r)
LUA
expect "expired SAS in config_resources.lua" "^azlua: config_resources.lua: the blob container's SAS token expired at 2024-01-01T00:00:00Z: re-run" -- \
  "$AZLUA_BIN" "$root/scripts/launch_batch.lua"
rm -f config_resources.lua
expect "missing config_resources.lua" "^azlua: config_resources.lua not found: run 'azlua scripts/create_resource.lua' first" -- \
  "$AZLUA_BIN" "$root/scripts/check_task.lua"

# A pool that cannot get nodes: check_task --wait says why instead of waiting forever.
cp "$base/w/first.lua" config_resources.lua
local_azure_admin POST settings '{"max_nodes_per_pool": 0}' >/dev/null
"$AZLUA_BIN" "$root/scripts/launch_batch.lua" --pool_id starved-pool --job_id starved-job >/dev/null 2>"$base/launch.err"
check "launch on a starved pool" test $? = 0
EXTRA_SECRETS="$batch_key" expect "pool that cannot allocate" "^azlua: pool starved-pool cannot get nodes \(AccountCoreQuotaReached" -- \
  "$AZLUA_BIN" "$root/scripts/check_task.lua" --wait --job starved-job --timeout 120
local_azure_admin POST settings '{"max_nodes_per_pool": 32}' >/dev/null

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
