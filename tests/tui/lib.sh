# Helpers for the console tests: a private tmux server, a retirectl-sim, polling the screen.
# Sourced by tests/tui/test_*.sh (ctest sets RETIRECTL_BIN, RETIRECTL_SIM_BIN, RETIRECTL_SOURCE_DIR).
set -euo pipefail
export LC_ALL=C.UTF-8
: "${RETIRECTL_BIN:?set by ctest}" "${RETIRECTL_SIM_BIN:?set by ctest}"

TUI_SOCK="retirectl-tui-$$-$RANDOM"
TUI_WORK="$(mktemp -d "${TMPDIR:-/tmp}/retirectl-tui.XXXXXX")"
# a private state dir (history, audit log, leases): the demo learners' user ids are the same in
# every test, so a shared history would grow each learner's history.jobs from run to run
export XDG_STATE_HOME="$TUI_WORK/state"
SIM_PID=""
SIM_URL=""
PASSES=0

tmx() { tmux -L "$TUI_SOCK" -f /dev/null "$@"; }

tui_cleanup() {
  tmx kill-server >/dev/null 2>&1 || true
  if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true; fi
  rm -rf "$TUI_WORK"
}
trap tui_cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  echo "---- screen ----" >&2
  screen >&2 || true
  echo "---- sim log (tail) ----" >&2
  tail -5 "$TUI_WORK/sim.err" 2>/dev/null >&2 || true
  exit 1
}

ok() { PASSES=$((PASSES + 1)); echo "ok $PASSES - $*"; }

# start_sim [extra sim args...]: starts retirectl-sim on a free port, sets SIM_URL.
start_sim() {
  "$RETIRECTL_SIM_BIN" --port 0 "$@" >"$TUI_WORK/sim.out" 2>"$TUI_WORK/sim.err" &
  SIM_PID=$!
  for _ in $(seq 1 200); do
    if grep -q "listening on http://127.0.0.1:" "$TUI_WORK/sim.out" 2>/dev/null; then
      SIM_URL="$(grep -o 'http://127.0.0.1:[0-9]*' "$TUI_WORK/sim.out" | head -1)"
      return 0
    fi
    sleep 0.05
  done
  fail "retirectl-sim did not start: $(cat "$TUI_WORK/sim.err")"
}

# write_config [extra yaml] [extra console: lines]: the sim's demo pipeline; prints the path.
write_config() {
  local path="$TUI_WORK/config-$RANDOM.yml"
  cat >"$path" <<YAML
client_id: retirectl-test-client
client_secret: s3cret-test-value-9f2c
base_urls:
  lms: $SIM_URL/
  ecommerce: $SIM_URL/ecommerce/
  credentials: $SIM_URL/credentials/
retirement_pipeline:
  - ['RETIRING_FORUMS', 'FORUMS_COMPLETE', 'LMS', 'retirement_retire_forum']
  - ['RETIRING_EMAIL_LISTS', 'EMAIL_LISTS_COMPLETE', 'LMS', 'retirement_retire_mailings']
  - ['RETIRING_ENROLLMENTS', 'ENROLLMENTS_COMPLETE', 'LMS', 'retirement_unenroll']
  - ['RETIRING_LMS', 'LMS_COMPLETE', 'LMS', 'retirement_lms_retire']
http:
  max_retry_seconds: ${TUI_RETRY_SECONDS:-2}
console:
  refresh_seconds: 2
${2:-}
${1:-}
YAML
  chmod 600 "$path" # it holds a secret: retirectl warns about (production: refuses) files others can read
  echo "$path"
}

# open_console COLS ROWS ENV... -- ARGS...: runs retirectl in a fresh tmux session "tui".
open_console() {
  local cols=$1 rows=$2
  shift 2
  local envs=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  local cmd="env ${envs[*]:-} TERM=screen-256color '$RETIRECTL_BIN'"
  for a in "$@"; do cmd+=" '$a'"; done
  # after the console exits, print its status and the terminal modes so tests can check the restore
  cmd+="; echo \"EXIT STATUS \$?\"; echo \"MODES \$(stty -a | tr ' ;' '\n\n' | grep -E '^-?(icanon|echo)$' | tr '\n' ' ') MODES-END\"; sleep 600"
  # a idle session keeps the private server alive while test sessions come and go
  tmx has-session -t keep >/dev/null 2>&1 || tmx new-session -d -s keep -x 20 -y 5 "sleep 100000"
  tmx kill-session -t tui >/dev/null 2>&1 || true
  tmx new-session -d -s tui -x "$cols" -y "$rows" "$cmd"
}

screen() { tmx capture-pane -p -t tui; }
screen_esc() { tmx capture-pane -p -e -t tui; }

# wait_for TEXT [SECONDS]: polls the screen until TEXT (fixed string) appears.
wait_for() {
  local text=$1 limit=${2:-10} i
  for i in $(seq 1 $((limit * 20))); do
    if screen | grep -qF -- "$text"; then return 0; fi
    sleep 0.05
  done
  fail "timed out after ${limit}s waiting for: $text"
}

# wait_gone TEXT [SECONDS]: polls until TEXT is no longer on the screen.
wait_gone() {
  local text=$1 limit=${2:-10} i
  for i in $(seq 1 $((limit * 20))); do
    if ! screen | grep -qF -- "$text"; then return 0; fi
    sleep 0.05
  done
  fail "timed out after ${limit}s waiting for this to go away: $text"
}

keys() { tmx send-keys -t tui "$@"; }
# type_text TEXT: sends TEXT literally.
type_text() { tmx send-keys -t tui -l -- "$1"; }

# learner_state CONFIG USER: the learner's current state at the sim, read with `retirectl status`.
learner_state() {
  "$RETIRECTL_BIN" --config "$1" status "$2" 2>/dev/null | sed -n 's/^  current state *//p'
}

# quit_console: waits until no job runs, q, then checks the exit status and that the terminal was restored (icanon, echo).
quit_console() {
  # the console asks before quitting while jobs run (a bulk retire may still be going): wait for them
  local i
  for i in $(seq 1 1800); do screen | grep -qE 'jobs [1-9][0-9]*|[0-9]+ queued' || break; sleep 0.05; done
  keys Q
  wait_for "MODES-END" 10
  screen | grep -qF "EXIT STATUS ${1:-0}" || fail "console exit status: $(screen | grep 'EXIT STATUS')"
  screen | grep -qE '(^| )icanon( |$)' || fail "terminal not restored: icanon is off"
  screen | grep -qE '(^| )echo( |$)' || fail "terminal not restored: echo is off"
}

# console_pid: the retirectl process running in the "tui" session (child of the pane's shell).
console_pid() {
  local shell_pid f
  shell_pid="$(tmx display-message -p -t tui '#{pane_pid}')"
  for f in /proc/[0-9]*/stat; do
    read -r pid _ _ ppid _ <"$f" 2>/dev/null || continue
    if [ "$ppid" = "$shell_pid" ]; then echo "$pid"; return 0; fi
  done
  return 1
}

# expect_restored STATUS: the console ended with STATUS and left the terminal in cooked mode.
expect_restored() {
  wait_for "MODES-END" 10
  screen | grep -qF "EXIT STATUS $1" || fail "console exit status: $(screen | grep 'EXIT STATUS') (wanted $1)"
  screen | grep -qE '(^| )icanon( |$)' || fail "terminal not restored: icanon is off"
  screen | grep -qE '(^| )echo( |$)' || fail "terminal not restored: echo is off"
}
