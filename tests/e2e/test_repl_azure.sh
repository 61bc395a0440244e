#!/usr/bin/env bash
# The REPL against Azure (the local emulator), through a real terminal: the banner, completion of a
# method and of a pool id, a pool list printed as a table, one pool as a tree, help in place, an
# error printed as one line with `lasterror` holding it, Ctrl-C during a wait (with its progress
# line) and during a sleep, and NO_COLOR.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export AZLUA_BIN=${AZLUA_BIN:-$root/build/azlua}
case $AZLUA_BIN in /*) ;; *) AZLUA_BIN=$root/$AZLUA_BIN ;; esac
command -v tmux >/dev/null || { echo "tmux missing: run tools/setup.sh --test"; exit 1; }
. tests/lib/tmux.sh
. tools/lib/local_azure.sh
work=$(mktemp -d)
trap 'tmux_stop; local_azure_stop; rm -rf "$work"' EXIT
pass=0; fail=0
check() { if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $*"; fi; }
not() { ! "$@"; }
esc=$(printf '\033')
screen_has() { tmx capture-pane -t t -p -e | grep -q -- "$1"; } # with the escape sequences

local_azure_start "$work/emu" --lro-polls 0 --retry-after 0
local_azure_config "$work"
export AZURE_CLOUD=local AZLUA_LOCAL_ENDPOINTS=$work/emu/endpoints.json

# A Batch account with one pool and a job whose task stays active (the pool has no nodes), as
# scripts/create_resource.lua would leave config_resources.lua.
(cd "$work" && AZLUA_NO_PROGRESS=1 "$AZLUA_BIN" - <<'LUA'
local tutorial = require "azure.tutorial"
local cred, sub, cloud = tutorial.sign_in()
local arm = require("azure.arm").client{ credential = cred, subscription = sub, cloud = cloud, poll_interval = 0.1 }
local loc = cloud.location or "eastus"
arm:resource_groups():create("repl-rg", { location = loc })
local st = arm:storage_accounts("repl-rg"):create("replst", { location = loc })
arm:batch_accounts("repl-rg"):create("replbatch", { location = loc, storage_account_id = st.id })
local keys = arm:batch_accounts("repl-rg"):keys("replbatch")
local url = arm:batch_accounts("repl-rg"):endpoint("replbatch")
require("azure.config").write("config_resources.lua", { batch = { name = "replbatch", key = keys.primary, url = url } })
local b = require("azure.batch").client{ endpoint = url, account = "replbatch", key = keys.primary }
local image = b:pick_ubuntu_image()
b:add_pool{ id = "mpi-pool", vmSize = "standard_d2s_v3", targetDedicatedNodes = 0,
  virtualMachineConfiguration = { imageReference = image.imageReference, nodeAgentSKUId = image.nodeAgentSKUId } }
b:add_job{ id = "job-1", poolInfo = { poolId = "mpi-pool" } }
b:add_task("job-1", { id = "t-1", commandLine = "/bin/sh -c 'sleep 1'" })
LUA
)

start_repl() { # extra env assignments…
  tmux_start env -u AZLUA_NO_PROGRESS HOME="$work" TERM=xterm "$@" sh -c "cd '$work' && exec '$AZLUA_BIN'"
}

start_repl
check tmux_wait_for '^cloud local · subscription .* · Batch replbatch \(config_resources.lua\)$'
check tmux_wait_for '^> ?$'
# A method of the lazy `batch`, before it is built.
tmux_keys -l 'batch:list_po'
tmux_keys Tab
check tmux_wait_for '^> batch:list_pools$'
tmux_type '()'
check tmux_wait_for '^id +state +allocationState +vmSize'
check tmux_wait_for '^mpi-pool +active +'
# A pool id as a string argument, now that `batch` exists.
tmux_keys -l 'batch:get_pool("mp'
tmux_keys Tab
check tmux_wait_for '^> batch:get_pool\("mpi-pool$'
tmux_type '")'
check tmux_wait_for '^id: mpi-pool$'
check tmux_wait_for '^virtualMachineConfiguration:$'
# A lazy list is collected and shown as a table too.
tmux_type 'batch:jobs()'
check tmux_wait_for '^job-1 +active +mpi-pool'
# Help in place.
tmux_type '?batch.add_pool'
check tmux_wait_for '^batch:add_pool\(body: table\) → table$'
# An error: one line, and lasterror holds the whole object.
tmux_type 'batch:get_pool("nope")'
check tmux_wait_for '^Batch 404 PoolNotFound: .*\(request id [^)]+\)$'
tmux_type 'lasterror.status, lasterror.code'
check tmux_wait_for '^404 +"PoolNotFound"$'
# Colours on a terminal: the error line is red (unless NO_COLOR, below).
check screen_has "$esc\\[31mBatch 404 PoolNotFound"
# Ctrl-C during a wait: the progress line shows, the wait stops, the REPL stays.
tmux_type 'batch:wait_tasks("job-1")'
check tmux_wait_for 'job job-1: 1 active, 0 running' 10
tmux_keys C-c
check tmux_wait_for 'interrupted!'
tmux_type '"after " .. "wait"'
check tmux_wait_for '^"after wait"$'
# Ctrl-C during a sleep.
tmux_type 'azure.time.sleep(30)'
check tmux_wait_for '^> azure.time.sleep\(30\)$'
sleep 0.5
tmux_keys C-c
check tmux_wait_for 'interrupted!'
tmux_type '"after " .. "sleep"'
check tmux_wait_for '^"after sleep"$'
tmux_keys C-d
sleep 0.3
tmux_stop

start_repl NO_COLOR=1
check tmux_wait_for '^> ?$'
tmux_type 'error("plain")'
check tmux_wait_for 'stdin:1: plain'
check not screen_has "$esc\\["
tmux_keys C-d
sleep 0.3
tmux_stop

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
