#!/usr/bin/env bash
# The LMS goes away while the console runs (2000 learners, 80x24, light theme): the last good list
# stays, the status bar says LMS ERROR, the message line leads with what to do (not a cut URL),
# the status bar counts down to the next try; when the LMS is back the error clears by itself.
source "$(dirname "$0")/lib.sh"

start_sim --learners 2000
PORT="${SIM_URL##*:}"
CFG="$(write_config "environment: staging" "  theme: light")"

open_console 80 24 -- --config "$CFG"
wait_for "refreshed "
wait_for "learner0000"
before="$(screen | sed -n 3p)"
ok "opens on 2000 learners at 80x24 with the light theme"

# the retire confirmation wraps long step lines under the step (hanging indent), then declines
keys r
wait_for "Retire 1 learner?"
screen | grep -qE '│ {6}PATCH FORUMS_COMPLETE' || fail "a wrapped step line in the confirmation is not indented under its step"
keys Escape
wait_for "cancelled: nothing was changed"

# the detail at 80 columns: step labels shorten to whole names, never cut with an ellipsis
keys Enter
wait_for "Pipeline (from the learner's state)"
wait_for "2. RETIRING_EMAIL_LISTS"
if screen | grep -E '^\[.\] [0-9]\. ' | grep -qE '\.\.\.|…'; then fail "a pipeline step line is cut at 80 columns"; fi
keys Escape
wait_for "USERNAME"

kill "$SIM_PID"; wait "$SIM_PID" 2>/dev/null || true; SIM_PID=""
wait_for "LMS ERROR" 15
wait_for "LMS not reachable: check that it is up and base_urls.lms; retrying."
[ "$(screen | sed -n 3p)" = "$before" ] || fail "the last good list was not kept while the LMS is down (before: $before; now: $(screen | sed -n 3p))"
# the status bar says when it tries again (a refused connection fails too fast for the spinner)
wait_for "LMS ERROR: retry in "
# at 60x15 the status bar shortens its middle, never the error flag
tmx resize-window -t tui -x 60 -y 15
wait_for "LMS ERROR: retry"
screen | tail -1 | grep -qE 'LMS ERROR: (retry in [0-9]+s|retrying)' || fail "the LMS ERROR flag is cut at 60 columns"
tmx resize-window -t tui -x 80 -y 24
ok "LMS down: list kept, LMS ERROR, the message says what to check first, when it retries"

"$RETIRECTL_SIM_BIN" --port "$PORT" --learners 2000 >"$TUI_WORK/sim2.out" 2>"$TUI_WORK/sim2.err" &
SIM_PID=$!
wait_gone "LMS ERROR" 20
wait_gone "LMS not reachable"
screen | tail -2 | head -1 | grep -qF "? help" || fail "key hints did not come back after the LMS recovered"
ok "LMS back: the error and LMS ERROR clear without a key press"

quit_console 0
ok "quits cleanly"
