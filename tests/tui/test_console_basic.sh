#!/usr/bin/env bash
# The console in real tmux against retirectl-sim: open, tabs, filter, detail, help, drivers view,
# resize to 60x15 and 200x60, a hostile username, NO_COLOR, read-only, quit with the terminal restored.
source "$(dirname "$0")/lib.sh"

cat >"$TUI_WORK/seed.json" <<'JSON'
[{"username": "evil\u001b[2J\u001b]2;pwned\u0007x\u009b31m", "name": "Eve \u001b[5m", "state": "PENDING", "days_ago": 12}]
JSON
start_sim --demo --seed "$TUI_WORK/seed.json"
CFG="$(write_config "environment: staging")"

open_console 120 30 -- --config "$CFG"
wait_for "Ready (8)"
wait_for "carol_ready"
wait_for "Failed (2)"
wait_for "staging"
wait_for "127.0.0.1:"
wait_for "refreshed "
ok "opens with tab counts and a status bar"

# the hostile username is shown inert: escapes visible as text, title untouched
wait_for 'evil\x1b[2J\x1b]2;pwned\x07x\u{009B}31m'
title="$(tmx display-message -p -t tui '#{pane_title}')"
[ "$title" != "pwned" ] || fail "the username's OSC sequence set the terminal title"
if screen_esc | grep -q $'\e\[2J'; then fail "a raw clear-screen sequence reached the terminal"; fi
# its detail, record and a dry-run job (events carry the name) stay inert too
keys / ; type_text evil ; keys Enter Enter
wait_for 'Learner evil\x1b[2J'
keys p
wait_for "result: " 20
title="$(tmx display-message -p -t tui '#{pane_title}')"
[ "$title" != "pwned" ] || fail "a job event's text set the terminal title"
if screen_esc | grep -q $'\e\[2J'; then fail "a raw clear-screen sequence reached the terminal from the detail view"; fi
if screen_esc | grep -q $'\e\]'; then fail "a raw OSC sequence reached the terminal"; fi
keys Escape Escape
wait_for "carol_ready"
ok "hostile username shown inert"

keys 3
wait_for "grace_errored"
screen | grep -qF "carol_ready" && fail "tab 3 still shows a Ready learner"
keys Tab
wait_for "ivan_stuck"
wait_for "RETIRING_LMS"
keys BTab BTab
wait_for "bob.cooloff"
ok "switches tabs (number, Tab, Shift-Tab)"

keys 1 /
type_text "CAROL"
wait_for "Ready 1/8"
screen | grep -qF "dana ready" && fail "filter did not hide dana ready"
keys Enter
wait_for "[filter: CAROL]"
keys Escape
wait_gone "[filter: CAROL]"
wait_for "dana ready"
ok "filters by username (case-insensitive) and Esc clears"

keys / ; type_text "grace"; keys Enter 3
wait_for "grace_errored"
keys Enter
wait_for "Learner grace_errored"
wait_for "failed here"
wait_for "original_username: grace_errored"
wait_for "[!] 1. RETIRING_FORUMS"
ok "opens a learner: pipeline position, failed step, record fields"

keys '?'
wait_for "show this help"
wait_for "rerun the selected step"
keys x
wait_gone "show this help"
keys d
wait_for "Drivers"
wait_for "LMS.retirement_retire_forum"
keys Escape
wait_for "Learner grace_errored"
keys Escape
wait_for "[filter: grace]"
keys Escape
wait_for "1 Ready (8)"
ok "help screen from the key table; drivers view; Esc backs out"

tmx resize-window -t tui -x 60 -y 15
wait_for "1 Ready"
# tab labels: whole words or abbreviations with a period, never a word cut short
screen | head -1 | grep -qE '4 Stuck|4:' || fail "the Stuck tab label is cut at 60 columns"
if screen | head -1 | grep -qE 'Stuc[^k]|Comp[^l]|Pend[^i.]'; then fail "a tab label is cut mid-word at 60 columns"; fi
# key hints: whole hints only (no ellipsis in the hint line)
if screen | tail -2 | head -1 | grep -qF '…'; then fail "the key hint line is cut mid-hint at 60 columns"; fi
# help at 60x15: long key names and descriptions are whole (wrapped), scrolling stops at the last line
keys '?'
wait_for "Keys 1-"
wait_for "Esc, Backspace"
if screen | grep -qF '…'; then fail "the help screen cuts text at 60 columns"; fi
for _ in $(seq 80); do keys Down; done
# scrolling stops at the last line: once it is shown, the title must say "Keys a-n of n"
wait_for "reset the learner's state"
sleep 0.3 # let the remaining Down keys arrive
total="$(screen | head -1 | sed -n 's/^Keys \([0-9]*\)-\([0-9]*\) of \([0-9]*\) .*/\2 \3/p')"
[ -n "$total" ] && [ "${total% *}" = "${total#* }" ] || fail "help scrolled past its last line ($total)"
screen | grep -qF "reset the learner's state" || fail "the last help line is not shown after scrolling down"
keys q
wait_gone "Keys "
[ "$(screen | wc -L)" -le 60 ] || fail "a line is wider than 60 columns"
[ "$(screen | wc -l)" -le 15 ] || fail "more than 15 rows"
screen | tail -1 | grep -qF "jobs 0" || fail "status bar missing at 60x15"
keys Enter
wait_for "Learner grace_errored"
keys Escape
tmx resize-window -t tui -x 18 -y 5
wait_for "too small: resize"
tmx resize-window -t tui -x 200 -y 60
wait_for "CHANGED"
wait_for "1 Ready (8)"
# wide: the username column does not push state across the screen
scol="$(screen | grep -m1 'USERNAME' | awk '{print index($0, "STATE")}')"
[ "$scol" -gt 10 ] && [ "$scol" -le 45 ] || fail "STATE column starts at $scol on a 200-column terminal"
ok "re-lays out at 60x15 and 200x60"

quit_console 0
ok "quits cleanly with the terminal restored"

# NO_COLOR: no colour sequences at all; the default theme does use colour
open_console 100 24 -- --config "$CFG"
wait_for "carol_ready"
screen_esc | grep -qE $'\e\\[[^m]*(3[0-7]|38;5;[0-9]+|4[0-7])m' || fail "the default theme shows no colour"
quit_console 0
open_console 100 24 NO_COLOR=1 -- --config "$CFG"
wait_for "carol_ready"
if screen_esc | grep -qE $'\e\\[[^m]*(3[0-7]|38;5;[0-9]+|4[0-7]|48;5;[0-9]+)m'; then fail "NO_COLOR still shows colours"; fi
screen_esc | grep -qE $'\e\\[[0-9;]*7m' || fail "mono theme: the tab/selection is not in reverse video"
quit_console 0
ok "NO_COLOR gives the mono theme"

# read-only: markers, no actions
open_console 100 24 -- --read-only --config "$CFG"
wait_for "READ-ONLY"
wait_for "carol_ready"
screen | grep -qF "r retire" && fail "read-only shows the retire hint"
keys r
wait_for "read-only console"
keys Enter
wait_for "Learner carol_ready"
keys S
wait_for "read-only console"
screen | grep -qF "x rerun" && fail "read-only shows the x hint in the detail view"
# B10: the drivers view offers no rerun; * answers like Space
keys d
wait_for "P: used by the pipeline"
screen | grep -qF "x on a method" && fail "read-only drivers view offers x"
keys q q
wait_for "carol_ready"
keys '*'
wait_for "read-only console"
screen | grep -qF "learners marked" && fail "* marked learners in read-only"
quit_console 0
ok "read-only hides and refuses state changes (x hints, *, Space)"

# light theme by name, and an unknown theme is a clear error
open_console 100 24 -- --theme light --config "$CFG"
wait_for "carol_ready"
quit_console 0
open_console 100 24 -- --theme nosuch --config "$CFG"
wait_for "EXIT STATUS 255"
wait_for "theme 'nosuch' not found"
ok "themes by name; unknown theme refused with a message"
# every exit path restores the terminal: Ctrl-C, SIGTERM, and a crash (SIGSEGV)
open_console 100 24 -- --config "$CFG"
wait_for "carol_ready"
keys C-c
expect_restored 130
open_console 100 24 -- --config "$CFG"
wait_for "carol_ready"
kill -TERM "$(console_pid)"
expect_restored 143
open_console 100 24 -- --config "$CFG"
wait_for "carol_ready"
kill -SEGV "$(console_pid)"
expect_restored 139
screen | grep -qF "the console crashed; the terminal was restored" || fail "no crash notice"
ok "terminal restored after Ctrl-C, SIGTERM and SIGSEGV"
echo "passed $PASSES checks"
