#!/usr/bin/env bash
# What the console shows (docs/console.md): B11 the detail header follows the live pipeline;
# B12 pipeline columns line up, step messages show no \x0a, and a very long username does not
# push the state across the screen.
source "$(dirname "$0")/lib.sh"

cat >"$TUI_WORK/faults.json" <<'JSON'
{"rules": [
  {"endpoint": "retire_forum", "username": "carol_ready", "latency_ms": 1500},
  {"endpoint": "retire_mailings", "username": "carol_ready", "latency_ms": 1500},
  {"endpoint": "unenroll", "username": "carol_ready", "latency_ms": 1500},
  {"endpoint": "retire", "username": "carol_ready", "latency_ms": 1500}
]}
JSON
start_sim --demo --legacy-mailings --faults "$TUI_WORK/faults.json"
long="$(printf 'x%.0s' $(seq 1 160))"
curl -s -X POST "$SIM_URL/__sim/learners" -H 'Content-Type: application/json' \
  -d "{\"username\":\"$long\",\"state\":\"PENDING\",\"days_ago\":30}" >/dev/null
CFG="$(write_config "environment: staging")"
open_console 200 50 -- --config "$CFG"
wait_for "carol_ready"

# ---- B12: a 160-character username does not push STATE across the screen
hdr="$(screen | grep -m1 'USERNAME')"
col="$(awk -v h="$hdr" 'BEGIN{print index(h, "STATE")}')"
[ "$col" -gt 0 ] && [ "$col" -le 55 ] || fail "STATE header at column $col with a 160-character username"
screen | grep -qE 'xxx… +PENDING' || fail "the long username is not cut with an ellipsis before its state"
ok "a very long username is cut; STATE stays at column $col"

# ---- keys operators know: the : command line with completion, n/N, sorting, q closes views
keys :
type_text sta ; keys Tab
wait_for ":status"
type_text zha ; keys Tab
wait_for ":status zhang_wei"
keys Enter
wait_for "Learner zhang_wei"
keys q
wait_for "USERNAME"
screen | grep -qF "Learner zhang_wei" && fail "q did not close the detail view"
keys : ; type_text "goto 9" ; keys Enter
wait_for "grace_errored: retirement id 9, user id 10009"
screen | head -1 | grep -qF "3 Failed" || fail ":goto did not switch to the Failed tab"
keys : ; type_text "bogus" ; keys Enter
wait_for "unknown command :bogus"
ok ": command line: status with Tab completion, goto ID, unknown commands named"
keys 1 / ; type_text "_" ; keys Enter
keys n
wait_for "match 2 of"
keys N
wait_for "match 1 of"
ok "n / N move between filter matches"
keys Escape
keys o
wait_for "sorted by USERNAME"
wait_for "USERNAME ^"
first="$(screen | sed -n 3p | awk '{print $1}')"
[ "$first" = carol_ready ] || fail "sorted by username the first Ready learner is $first"
keys O
wait_for "USERNAME v"
first="$(screen | sed -n 3p | awk '{print $1}')"
[ "$first" = zhang_wei ] || fail "reversed the first Ready learner is $first"
keys o o o o
wait_for "sorted by retirement id"
ok "o sorts by column, O reverses"

# ---- B11: while the job runs, the header says the state of the running step
keys / ; type_text carol ; keys Enter Enter
wait_for "Learner carol_ready"
keys r
wait_for "Retire 1 learner?"
keys y
wait_for "[>] 3. RETIRING_ENROLLMENTS" 20
screen | grep -qF "state RETIRING_ENROLLMENTS (live) (last EMAIL_LISTS_COMPLETE)  step 3/4" ||
  fail "the header does not follow the running step 3: $(screen | grep -F 'state ')"
ok "the detail header follows the live pipeline"

# ---- B12: the pipeline's columns line up; newlines in step messages read as spaces
wait_for "Pipeline: retire job complete" 30
arrows="$(screen | grep -E '^\[.\] [0-9]\. ' | awk '{print index($0, "->")}' | sort -u | wc -l)"
[ "$arrows" = 1 ] || fail "the -> of the pipeline rows is at $arrows different columns"
methods="$(screen | grep -E '^\[.\] [0-9]\. ' | awk '{print index($0, "LMS.")}' | sort -u | wc -l)"
[ "$methods" = 1 ] || fail "the DRIVER.METHOD of the pipeline rows is at $methods different columns"
screen | grep -qF 'Ending: LMS_COMPLETE with response: <Respo' || fail "a step message does not read on one row"
screen | grep -qF '\x0a' && fail "a newline shows as \\x0a"
ok "pipeline rows line up and step messages read on one row"
keys q
wait_for "USERNAME" 5
quit_console 0

# ---- B2: the job log scrolls by rows to its first line; the full-screen log follows, searches, saves
XDG_STATE_HOME="$TUI_WORK/state"
open_console 120 35 "XDG_STATE_HOME=$XDG_STATE_HOME" -- --config "$CFG"
wait_for "dana ready"
keys / ; type_text dana ; keys Enter p
wait_for "result: planned" 20
screen | grep -qF '$ retirectl --config FILE plan dana ready --events' && fail "the whole dry-run log fits: the test needs a longer log"
keys PPage
wait_for "[scrolled: End returns"
screen | grep -A1 -F "Job log: dry-run" | tail -1 | grep -q '[a-z]' || fail "PgUp shows an empty log"
keys g
wait_for '$ retirectl --config FILE plan dana ready --events'
ok "Home shows the first line of the job log; PgUp shows rows"
keys G
wait_gone "[scrolled: End returns"
wait_for "result: planned"

keys L
wait_for "Job log: dry-run dana ready (planned)"
wait_for "[following: new lines scroll in]"
keys g
wait_for '$ retirectl --config FILE plan dana ready --events'
wait_for "[f follows]"
keys / ; type_text "would send POST" ; keys Enter
wait_for "match 1 of 4 for \"would send POST\""
keys n
wait_for "match 2 of 4"
keys N
wait_for "match 1 of 4"
ok "full-screen log: top, search with / n N"
keys s
wait_for "log saved ("
saved="$(ls "$XDG_STATE_HOME"/retirectl/logs/plan-dana_ready-*.log)"
grep -qF 'would send POST' "$saved" || fail "the saved log lacks the requests"
[ "$(stat -c %a "$saved")" = 600 ] || fail "the saved log is not 0600"
ok "s saves the log to $saved (0600)"
keys q
wait_for "Learner dana ready"
keys q
wait_for "dana ready"
screen | grep -qF "Learner dana ready" && fail "q in the detail view did not go back to the list"
ok "q closes the log view, then the detail view"
quit_console 0
echo "passed $PASSES checks"
