# Helpers to drive a program through a real terminal (tmux), for REPL tests.
# Each test gets its own tmux server socket so nothing leaks between tests.
TMUX_SOCK="azlua-test-$$"
tmx() { tmux -L "$TMUX_SOCK" "$@"; }
tmux_start() { tmx new-session -d -s t -x 120 -y 40 "$@"; }
tmux_type() { tmx send-keys -t t -l "$1"; tmx send-keys -t t Enter; }
tmux_keys() { tmx send-keys -t t "$@"; }
tmux_screen() { tmx capture-pane -t t -p; }
tmux_stop() { tmx kill-server 2>/dev/null || true; }
# Waits (up to $2 seconds, default 5) until the screen matches the extended regex $1.
tmux_wait_for() {
  local pat=$1 limit=${2:-5} i=0
  while [ "$i" -lt $((limit * 10)) ]; do
    if tmux_screen | grep -Eq -- "$pat"; then return 0; fi
    sleep 0.1; i=$((i + 1))
  done
  echo "timed out waiting for /$pat/; screen was:" >&2
  tmux_screen >&2
  return 1
}
