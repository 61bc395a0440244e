#!/usr/bin/env bash
# The REPL through a real terminal: expressions, multi-line chunks, Ctrl-C, history across runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/tmux.sh
bin=${AZLUA_BIN:-build/azlua}
command -v tmux >/dev/null || { echo "tmux missing: run tools/setup.sh --test"; exit 1; }
home=$(mktemp -d)
trap 'tmux_stop; rm -rf "$home"' EXIT
pass=0; fail=0
check() { if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $*"; fi; }

tmux_start env HOME="$home" "$bin"
check tmux_wait_for '^> ?$'
tmux_type '1+1'
check tmux_wait_for '^2$'
tmux_type 'for i = 1, 2 do'
tmux_type 'print("line" .. i)'
tmux_type 'end'
check tmux_wait_for '^line2$'
tmux_type '{b = 2, a = {1}}'
check tmux_wait_for '^  b = 2,$'
# Ctrl-C cancels a half-typed line, and interrupts a running loop without leaving the REPL.
tmux_keys -l 'this is not lua'
check tmux_wait_for '^> this is not lua$'
tmux_keys C-c
check tmux_wait_for '^> ?$'
tmux_type 'while true do end'
check tmux_wait_for '^> while true do end$'
sleep 0.5
tmux_keys C-c
check tmux_wait_for 'interrupted!'
tmux_type '"still " .. "alive"'
check tmux_wait_for '^"still alive"$'
# Tab completes a field, and a method through __index.
check tmux_wait_for '^> ?$'
tmux_keys -l 'string.for'
check tmux_wait_for '^> string.for$'
tmux_keys Tab
check tmux_wait_for '^> string.format$'
tmux_keys C-c
check tmux_wait_for '^> ?$'
tmux_type 'obj = setmetatable({}, {__index = {add_pool = print}})'
check tmux_wait_for '^> ?$'
tmux_keys -l 'obj:add_p'
check tmux_wait_for '^> obj:add_p$'
tmux_keys Tab
check tmux_wait_for '^> obj:add_pool$'
tmux_keys C-c
check tmux_wait_for '^> ?$'
tmux_type 'error("oops")'
check tmux_wait_for 'stdin:1: oops'
tmux_keys C-d
sleep 0.5
check test -f "$home/.azlua_history"
check test "$(stat -c %a "$home/.azlua_history")" = 600
tmux_stop

# History from the first session is there in the second: Up recalls the last line.
tmux_start env HOME="$home" "$bin"
check tmux_wait_for '^> ?$'
tmux_keys Up
check tmux_wait_for '^> error\("oops"\)$'
tmux_keys C-c C-d

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
