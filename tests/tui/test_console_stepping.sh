#!/usr/bin/env bash
# Stepping through failures with no surprises (docs/console.md): the words of each dialog match
# what happens. B1 rerun a failed step then continue without calling it again; B8 cancel during a
# retry says ERRORED; B3 a learner worked on elsewhere is refused with where and since when; B7 a
# step whose driver cannot load is listed as "fail"; B9 the dry-run counts add up.
source "$(dirname "$0")/lib.sh"

cat >"$TUI_WORK/faults.json" <<'JSON'
{"rules": [
  {"endpoint": "retire_forum", "username": "carol_ready", "status": 500, "times": 1000},
  {"endpoint": "retire_forum", "username": "jose_nunez", "latency_ms": 6000}
]}
JSON
start_sim --demo --legacy-mailings --faults "$TUI_WORK/faults.json"
export TUI_RETRY_SECONDS=60
CFG="$(write_config "environment: staging")"

# sim_count USER SERVICE: how many times SERVICE retired USER at the sim
sim_count() {
  curl -s "$SIM_URL/__sim/learners?username=$1" | python3 -c "import json,sys; print(json.load(sys.stdin)['retired_in']['$2'])"
}
# sim_requests PATH: how many requests the sim got whose path contains PATH
sim_requests() {
  curl -s "$SIM_URL/__sim/requests?path=$1" | python3 -c "import json,sys; print(len(json.load(sys.stdin)))"
}

open_console 150 40 -- --config "$CFG"
wait_for "carol_ready"

# ---- B1: x on the failed step reruns it; success offers to continue; the step is not called again
keys 3 / ; type_text grace ; keys Enter
wait_for "3 Failed 1/2"
keys Enter
wait_for "Learner grace_errored"
keys x
wait_for "Rerun failed step 1 (LMS.retirement_retire_forum) for grace_errored?"
wait_for "call LMS.retirement_retire_forum, then on success PATCH"
wait_for "FORUMS_COMPLETE (ERRORED with the reason on failure)"
wait_for "On success you are asked to continue from step 2 (RETIRING_EMAIL_LISTS); step 1 is not called again."
keys y
wait_for "Continue grace_errored from step 2?" 30
wait_for "Step 1 (LMS.retirement_retire_forum) succeeded; grace_errored is now FORUMS_COMPLETE at the LMS."
wait_for "1. skip  RETIRING_FORUMS -> FORUMS_COMPLETE"
wait_for "2. run   PATCH RETIRING_EMAIL_LISTS"
[ "$(learner_state "$CFG" grace_errored)" = FORUMS_COMPLETE ] || fail "after the rerun grace_errored is $(learner_state "$CFG" grace_errored), not FORUMS_COMPLETE as the dialog says"
[ "$(sim_count grace_errored forum)" = 1 ] || fail "forum retired $(sim_count grace_errored forum) times after the rerun"
ok "rerun of the failed step leaves the learner at the step's end state and offers to continue"
keys y
wait_for "Pipeline: retire job complete" 30
[ "$(learner_state "$CFG" grace_errored)" = COMPLETE ] || fail "continue did not complete grace_errored"
[ "$(sim_count grace_errored forum)" = 1 ] || fail "the forum step was called again: retired_in.forum $(sim_count grace_errored forum)"
[ "$(sim_requests retire_forum)" = 1 ] || fail "$(sim_requests retire_forum) requests to retire_forum, wanted 1"
screen | grep -qF "[-] 1. RETIRING_FORUMS" || fail "step 1 not shown skipped in the continue job"
ok "continue runs steps 2-4 only: one forum call in all, learner COMPLETE"

# a step that did not fail keeps the bracket, and the dialog says the learner goes back
keys Escape Escape 1 / ; type_text frank ; keys Enter Enter
wait_for "Learner frank_enrolled"
keys k k
keys x
wait_for "Rerun LMS.retirement_retire_forum for frank_enrolled?"
wait_for "then back to ENROLLMENTS_COMPLETE on"
keys n
wait_for "cancelled: nothing was changed"
ok "rerun of a step that did not fail says the learner goes back to its state"

# ---- B8: cancel while the step is retrying says ERRORED, and it is
keys Escape Escape / ; type_text carol ; keys Enter Enter
wait_for "Learner carol_ready"
keys r
wait_for "Retire 1 learner?"
keys y
wait_for "retrying: attempt" 20
# the retry line shows the remaining budget (http.max_retry_seconds 60)
for i in $(seq 1 40); do screen | grep -qE 'retrying: attempt [0-9]+, next in [0-9.]+ s, gives up in (5[0-9]|60)s' && break; sleep 0.1; done
screen | grep -qE 'retrying: attempt [0-9]+, next in [0-9.]+ s, gives up in (5[0-9]|60)s' || fail "the retry line does not show the remaining budget"
keys c
wait_for "Cancel the retire job for carol_ready?"
wait_for "is being retried: cancelling stops the retries"
wait_for "the learner ends ERRORED with the last error as the reason"
keys y
wait_for "Pipeline: retire job errored" 30
[ "$(learner_state "$CFG" carol_ready)" = ERRORED ] || fail "after cancel during a retry carol_ready is $(learner_state "$CFG" carol_ready)"
ok "cancel during a retry: the dialog says ERRORED, the learner is ERRORED"

# ---- B3: a job elsewhere (a CLI retire on this host) is refused with host, pid and since
"$RETIRECTL_BIN" --config "$CFG" retire jose_nunez --events >"$TUI_WORK/bg.out" 2>&1 &
BG=$!
keys Escape Escape 4
for i in $(seq 1 100); do [ "$(learner_state "$CFG" jose_nunez)" = RETIRING_FORUMS ] && break; sleep 0.05; done
wait_for "jose_nunez" 10
keys / ; type_text jose ; keys Enter
keys u
wait_for "jose_nunez is running elsewhere: host $(hostname), pid $BG, since" 5
screen | grep -qF "Resume 1 learner?" && fail "a resume dialog opened for a learner worked on elsewhere"
# the holder comes from the learner's lease (src/engine/lease.h): its command as the CLI names it
screen | grep -qF "ago): retirectl retire" || fail "the refusal does not name the lease holder's command (retirectl retire)"
screen | grep -qF -- "--events" && fail "the refusal shows the process scan's command line, not the lease holder"
keys x
wait_for "jose_nunez is running elsewhere: host $(hostname), pid $BG" 5
ok "a learner whose lease another process holds (pid $BG) is refused with host, pid, command and since"
wait "$BG" || true
keys Escape

# ... and one whose working state changed moments ago at the LMS (another host: pid unknown)
now="$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)"
curl -s -X POST "$SIM_URL/__sim/learners" -H 'Content-Type: application/json' \
  -d "{\"username\":\"lena_busy\",\"state\":\"RETIRING_ENROLLMENTS\",\"last_state\":\"EMAIL_LISTS_COMPLETE\",\"days_ago\":10,\"modified\":\"$now\"}" >/dev/null
keys / ; type_text lena ; keys Enter
wait_for "lena_busy" 10
screen | grep -qE '^~ +lena_busy' || fail "the list does not mark lena_busy as running elsewhere (~)"
keys u
wait_for "lena_busy is running elsewhere: its working state changed at" 5
# cross-host evidence only: the dialog offers --force, typed (tests/tui/test_console_force.sh)
wait_for "Type \`force lena_busy\` to run it with --force"
keys Escape
wait_for "cancelled: nothing was changed"
keys Enter
wait_for "Learner lena_busy"
wait_for "[>] 3. RETIRING_ENROLLMENTS" 5
wait_for "running elsewhere: its working state changed at"
keys Escape
ok "a working state changed within step_timeout_seconds is refused (pid unknown)"
keys Escape / ; type_text judy ; keys Enter
wait_for "judy_stuck"
keys u
wait_for "Resume 1 learner?"
keys n
ok "a stale working state (stuck) can still be resumed"
quit_console 0

# ---- B7, B9: a pipeline step whose driver cannot load
cat >"$TUI_WORK/broken.cfg" <<'CFG'
[retirement_driver]
MISSING = does_not_exist.so:retirectl_driver_missing
CFG
BCFG="$TUI_WORK/broken.yml"
sed "s/^  - \['RETIRING_LMS'.*/&\n  - ['RETIRING_NOTES', 'NOTES_COMPLETE', 'MISSING', 'retire']/" "$CFG" >"$BCFG"
grep -q MISSING "$BCFG" || fail "could not write the broken config"
open_console 150 40 -- --config "$BCFG" --driver-path "$TUI_WORK/broken.cfg"
wait_for "dana ready"
keys / ; type_text dana ; keys Enter p
wait_for "result: planned" 20
wait_for "Dry run: 4 of 5 steps would run, 0 would be skipped, 1 cannot"
ok "the dry-run counts add up (4 of 5 run, 1 cannot)"
keys r
wait_for "Retire 1 learner?"
wait_for "5. fail  MISSING.retire cannot run: driver MISSING"
screen | grep -qF "5. run   PATCH RETIRING_NOTES" && fail "the retire dialog lists the broken step as run"
wait_for "it refuses this learner and changes"
keys n
ok "the retire dialog lists a step whose driver cannot load as fail"
keys q
wait_for "THE PIPELINE CANNOT RUN (d shows the drivers): step 5 MISSING.retire"
keys d
wait_for "THE PIPELINE CANNOT RUN: step 5 MISSING.retire"
wait_for "P LMS "
wait_for "LMS.retirement_retire_forum  <- pipeline step 1"
screen | grep -qF "(paths are relative to the entry-point file)" && fail "the full error shows before Enter"
keys G Enter
wait_for "(paths are relative to the entry-point file)"
keys Enter
wait_gone "(paths are relative to the entry-point file)"
ok "drivers view: pipeline marker, banner, Enter expands the full load error"
quit_console 0
echo "passed $PASSES checks"
