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
quit_console 0
echo "passed $PASSES checks"
