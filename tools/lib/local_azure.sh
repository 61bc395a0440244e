# Shell helpers to run azlua against the local Azure emulator and Azurite (sourced by tools/demo.sh
# and the end-to-end tests). Nothing here talks to the network beyond loopback.
#   local_azure_start WORKDIR [emulator args…]   starts the emulator (it starts Azurite), waits for
#                                                 WORKDIR/endpoints.json; sets LOCAL_AZURE_PID
#   local_azure_config DIR                        writes DIR/config.lua from the running emulator's
#                                                 endpoints file
#   local_azure_stop                              stops the emulator (and Azurite with it)
#   local_azure_admin METHOD PATH [JSON]          calls the emulator's admin API (faults, settings)
LOCAL_AZURE_ROOT=${LOCAL_AZURE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
LOCAL_AZURE_PID=""
LOCAL_AZURE_DIR=""

local_azure_start() {
  local work=$1; shift
  LOCAL_AZURE_DIR=$work
  mkdir -p "$work"
  /usr/bin/python3 "$LOCAL_AZURE_ROOT/tests/emulator" --port 0 --state "$work/state" \
    --endpoints "$work/endpoints.json" "$@" >"$work/emulator.log" 2>&1 &
  LOCAL_AZURE_PID=$!
  local i
  for i in $(seq 1 300); do
    [ -s "$work/endpoints.json" ] && return 0
    if ! kill -0 "$LOCAL_AZURE_PID" 2>/dev/null; then
      echo "the emulator exited:" >&2; cat "$work/emulator.log" >&2; return 1
    fi
    sleep 0.1
  done
  echo "the emulator did not start in 30 s:" >&2; cat "$work/emulator.log" >&2
  return 1
}

local_azure_stop() {
  local pid=$LOCAL_AZURE_PID
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    local i
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  LOCAL_AZURE_PID=""
}

# The emulator's ready service principal becomes a config.lua, as a user would write it.
local_azure_config() {
  local dir=$1
  "${AZLUA_BIN:-$LOCAL_AZURE_ROOT/build/azlua}" - "$LOCAL_AZURE_DIR/endpoints.json" "$dir/config.lua" <<'LUA'
local e = require("azure.json").decode(assert(io.open(arg[1])):read("a"))
require("azure.config").write(arg[2], { subs = e.subscription,
  sp = { client_id = e.client_id, name = "azlua-local", password = e.client_secret, tenant = e.tenant } },
  { header = "config.lua for the local emulator" })
LUA
}

local_azure_admin() {
  local method=$1 path=$2 body=${3:-}
  /usr/bin/python3 - "$LOCAL_AZURE_DIR/endpoints.json" "$method" "$path" "$body" <<'PY'
import json, sys, urllib.request
ep = json.load(open(sys.argv[1]))
base = ep.get("admin") or (ep["arm"].rstrip("/") + "/_emulator")
url = base.rstrip("/") + "/" + sys.argv[3].lstrip("/")
data = sys.argv[4].encode() if sys.argv[4] else None
req = urllib.request.Request(url, data=data, method=sys.argv[2], headers={"Content-Type": "application/json"})
ctx = None
if url.startswith("https") and ep.get("ca_file"):
    import ssl
    ctx = ssl.create_default_context(cafile=ep["ca_file"])
print(urllib.request.urlopen(req, context=ctx).read().decode())
PY
}
