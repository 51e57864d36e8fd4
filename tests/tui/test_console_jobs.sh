#!/usr/bin/env bash
# Jobs from the console against retirectl-sim: decline and confirm, a retirement whose steps turn
# done, a failing step's message (fault injection) and resume, rerun one step, dry-run preview,
# cancel a running job, marked learners, and typed confirmation in production.
source "$(dirname "$0")/lib.sh"

cat >"$TUI_WORK/faults.json" <<'JSON'
{"rules": [
  {"endpoint": "unenroll", "username": "zhang_wei", "status": 403, "times": 1,
   "body": "{\"detail\": \"enrollment service refused\"}"},
  {"endpoint": "retire_forum", "username": "jose_nunez", "latency_ms": 2500},
  {"endpoint": "retire_forum", "username": "dana ready", "actions": [500, 500, "pass"]},
  {"endpoint": "retire_forum", "username": "alice_pending", "latency_ms": 2000}
]}
JSON
start_sim --demo --legacy-mailings --faults "$TUI_WORK/faults.json"
CFG="$(write_config "environment: staging")"

open_console 130 40 -- --config "$CFG"
wait_for "carol_ready"

# decline: nothing changes
keys / ; type_text carol_ready ; keys Enter
wait_for "Ready 1/"
keys r
wait_for "Retire 1 learner?"
wait_for "1. run   PATCH RETIRING_FORUMS, call LMS.retirement_retire_forum, PATCH FORUMS_COMPLETE"
keys n
wait_for "cancelled: nothing was changed"
[ "$(learner_state "$CFG" carol_ready)" = PENDING ] || fail "declining changed the learner"
ok "retire asks first, showing every step; n declines and nothing changes"

# confirm: watch the steps turn done
keys Enter
wait_for "Learner carol_ready"
keys r
wait_for "Retire 1 learner?"
keys y
wait_for "Pipeline: retire job complete" 30
wait_for "[x] 4. RETIRING_LMS"
screen | grep -qF "[x] 1. RETIRING_FORUMS" || fail "step 1 not shown done"
wait_for "result: complete (exit status 0)"
[ "$(learner_state "$CFG" carol_ready)" = COMPLETE ] || fail "carol_ready is not COMPLETE at the LMS"
ok "retire runs; every step turns done; learner COMPLETE"

# dry-run preview: requests shown, nothing changes
keys Escape Escape
wait_for "dana ready"
keys / ; type_text "dana" ; keys Enter p
wait_for "Learner dana ready"
wait_for "DRY-RUN: nothing is changed" 20
wait_for "would send POST $SIM_URL/api/user/v1/accounts/retire/" 20
wait_for "result: planned" 20
[ "$(learner_state "$CFG" "dana ready")" = PENDING ] || fail "the dry-run changed dana ready"
ok "dry-run preview shows each step's request and changes nothing"

# a step that fails twice with 500 shows as retrying (attempt, countdown), then completes
keys r
wait_for "Retire 1 learner?"
keys y
wait_for "retrying: attempt" 10
wait_for "Pipeline: retire job complete" 30
screen | grep -qF "[x] 1. RETIRING_FORUMS" || fail "the retried step is not done"
ok "a retried step shows attempt and countdown, then done"

# a failing step shows its message; resume continues
keys Escape Escape
keys / ; type_text zhang ; keys Enter Enter
wait_for "Learner zhang_wei"
keys r
wait_for "Retire 1 learner?"
keys y
wait_for "Pipeline: retire job errored" 30
wait_for "FAILED: 403"
screen | grep -qF "[!] 3. RETIRING_ENROLLMENTS" || fail "the failed step is not marked"
# the message line says where it failed and what to do before the (long) reason
# (the message is set when the job's process is reaped, a moment after its last event is drawn)
wait_for "retire zhang_wei failed at RETIRING_ENROLLMENTS, now in Failed: Enter shows the step, u resumes."
screen | grep -qF "[x] 2. RETIRING_EMAIL_LISTS" || fail "steps before the failure not done"
[ "$(learner_state "$CFG" zhang_wei)" = ERRORED ] || fail "zhang_wei not ERRORED at the LMS"
ok "a failing step shows its message; the learner is ERRORED"
keys u
wait_for "Resume 1 learner?"
wait_for "zhang_wei: now ERRORED (last RETIRING_ENROLLMENTS)"
wait_for "forced back to EMAIL_LISTS_COMPLETE"
wait_for "3. run   PATCH RETIRING_ENROLLMENTS"
keys y
wait_for "Pipeline: resume job complete" 30
[ "$(learner_state "$CFG" zhang_wei)" = COMPLETE ] || fail "resume did not complete zhang_wei"
ok "resume continues from the failed step to COMPLETE"

# rerun one step: pick it in the pipeline
keys Escape Escape
keys 3 / ; type_text grace ; keys Enter Enter
wait_for "Learner grace_errored"
keys x
wait_for "Rerun failed step 1 (LMS.retirement_retire_forum) for grace_errored?"
keys y
wait_for "Job log: rerun LMS.retirement_retire_forum (complete)" 30
wait_for "Continue grace_errored from step 2?"
keys n
wait_for "cancelled: nothing was changed"
wait_for "LMS.retirement_retire_forum done for learner grace_errored"
ok "rerun of one step runs as a job with its result in the log"

# or pick the driver method in the drivers view (declined here)
keys d
wait_for "x on a method reruns it for grace_errored"
wait_for "      LMS.retirement_retire_forum"
for i in $(seq 1 30); do
  screen | grep -qF "Rerun LMS.retirement_retire_forum for grace_errored?" && break
  keys j x
  sleep 0.1
  if screen | grep -qF "Rerun "; then screen | grep -qF "Rerun LMS.retirement_retire_forum for" || keys n; fi
done
wait_for "Rerun LMS.retirement_retire_forum for grace_errored?"
wait_for "Step 1: PATCH RETIRING_FORUMS, call LMS.retirement_retire_forum"
keys n
wait_for "cancelled: nothing was changed"
keys Escape
wait_for "Learner grace_errored"
ok "a driver method picked in the drivers view can be rerun (confirmation shown, declined)"

# cancel: a slow step (2.5 s of latency) finishes, then the job stops
keys Escape Escape 1
keys / ; type_text jose ; keys Enter Enter
wait_for "Learner jose_nunez"
keys r
wait_for "Retire 1 learner?"
keys y
wait_for "running" 10
for i in $(seq 1 40); do screen | grep -qE '\[>\] 1\. RETIRING_FORUMS .*running [0-9]+\.[0-9] s' && break; sleep 0.05; done
screen | grep -qE '\[>\] 1\. RETIRING_FORUMS .*running [0-9]+\.[0-9] s' || fail "the running step shows no elapsed time"
keys c
wait_for "Cancel the retire job for jose_nunez?"
keys y
wait_for "cancel sent" 5
wait_for "Pipeline: retire job cancelled" 30
st="$(learner_state "$CFG" jose_nunez)"
case "$st" in FORUMS_COMPLETE|EMAIL_LISTS_COMPLETE) ;; *) fail "after cancel jose_nunez is in $st";; esac
ok "cancel stops after the step in flight ($st)"

# marked learners: two at once
keys Escape Escape 1 Escape
wait_for "erin_forums_done"
keys / ; type_text "_done" ; keys Enter
wait_for "olivia_lms_done"
keys g Space Space
keys r
wait_for "Retire 2 learners?"
# several learners: what runs, that it cannot be undone, and a count per state come before the steps
wait_for "for each of the 2 learners"
screen | grep -qF "cannot be undone" || fail "the irreversible-deletion line is not at the top of a marked retire"
screen | grep -qE "Now: 1 (FORUMS|LMS)_COMPLETE, 1 (LMS|FORUMS)_COMPLETE" || fail "no per-state count in the marked retire dialog"
keys y
for u in erin_forums_done olivia_lms_done; do
  for i in $(seq 1 100); do [ "$(learner_state "$CFG" $u)" = COMPLETE ] && break; sleep 0.1; done
  [ "$(learner_state "$CFG" $u)" = COMPLETE ] || fail "$u not COMPLETE after the marked retire"
done
ok "marked learners retired together"

# reset a learner's state: pick the target state, see the exact command, confirm
keys Escape Escape 5
keys / ; type_text mallory ; keys Enter
wait_for "mallory_aborted"
keys S
wait_for "Reset mallory_aborted (now ABORTED) to:"
wait_for "PENDING"
# the last step's end state is after every step, not "before step N"
wait_for "LMS_COMPLETE  (after the last step: retire only marks it COMPLETE)"
keys Enter
wait_for "Reset mallory_aborted to PENDING?"
wait_for "retirectl reset --initial-state ABORTED --new-state PENDING --start-date"
wait_for "No other learner in the list matches."
keys y
for i in $(seq 1 100); do [ "$(learner_state "$CFG" mallory_aborted)" = PENDING ] && break; sleep 0.1; done
[ "$(learner_state "$CFG" mallory_aborted)" = PENDING ] || fail "reset did not move mallory_aborted to PENDING"
wait_for "reset to PENDING mallory_aborted: complete"
ok "reset moves the learner to the chosen state after confirmation"
quit_console 0

# production: the confirmation is typing the username
PCFG="$(write_config "environment: production")"
open_console 120 30 -- --config "$PCFG"
wait_for "production"
keys / ; type_text frank ; keys Enter
wait_for "Ready 1/"
keys r
wait_for "PRODUCTION: type the username"
# production: console.require_reason defaults to true, so the reason field comes first
wait_for "Reason or ticket (required): _"
keys Enter
wait_for "a reason or ticket is required"
type_text "TICKET-7"
keys Enter
type_text "frank"
keys Enter
wait_for "does not match"
[ "$(learner_state "$PCFG" frank_enrolled)" = ENROLLMENTS_COMPLETE ] || fail "a wrong confirmation changed frank_enrolled"
keys Escape
wait_for "cancelled: nothing was changed"
keys r
wait_for "PRODUCTION: type the username"
type_text "TICKET-7"
keys Enter
type_text "frank_enrolled"
keys Enter
for i in $(seq 1 100); do [ "$(learner_state "$PCFG" frank_enrolled)" = COMPLETE ] && break; sleep 0.1; done
[ "$(learner_state "$PCFG" frank_enrolled)" = COMPLETE ] || fail "typed confirmation did not retire frank_enrolled"
ok "production asks for the username typed exactly"
quit_console 0

# console.workers: 1 runs marked learners one at a time; the rest wait in the queue
WCFG="$(write_config "environment: staging" "  workers: 1")"
open_console 120 30 -- --config "$WCFG"
wait_for "2 Pending (2)"
keys 2
wait_for "bob.cooloff"
keys '*'
wait_for "2 learners marked"
keys r
wait_for "Retire 2 learners?"
wait_for "1 at a time (console.workers)"
keys y
wait_for "jobs 1 +1 queued" 5
# the jobs view: the running job with its step, the queued one with its position
keys J
wait_for "Jobs of this session: 1 running, 1 queued"
screen | grep -qE '^queued +(alice_pending|bob\.cooloff) +retire +#1 of 1' || fail "the queued job is not listed with its position"
screen | grep -qE '^running +(alice_pending|bob\.cooloff) +retire' || fail "the running job is not listed"
for u in alice_pending bob.cooloff; do
  for i in $(seq 1 150); do [ "$(learner_state "$WCFG" $u)" = COMPLETE ] && break; sleep 0.1; done
  [ "$(learner_state "$WCFG" $u)" = COMPLETE ] || fail "$u not COMPLETE after the queued retire"
done
wait_for "Jobs of this session: 0 running, 0 queued, 2 done"
screen | grep -qE '^complete +bob\.cooloff +retire +exit 0 ' || fail "a finished job is not listed with its outcome"
ok "marked learners run console.workers at a time; the jobs view shows running, queued (#1 of 1), done"
# the message history keeps every message, newest first
keys M
wait_for "Messages of this session, newest first"
[ "$(screen | grep -cE '^[0-9:]{8}  retire (alice_pending|bob\.cooloff): complete')" = 2 ] || fail "the message history lacks a job's message"
ok "the message history keeps both jobs' messages"
keys q : ; type_text "history bob" ; keys Tab Enter
wait_for "Jobs of this session for bob.cooloff"
screen | grep -qE '^complete +bob\.cooloff' || fail ":history does not list bob.cooloff's job"
screen | grep -qE '^complete +alice_pending' && fail ":history lists another learner's job"
ok ":history USER lists that learner's jobs"
keys q
wait_gone "+1 queued"
quit_console 0

# the quit dialog says what is running while it is open, and says so when the last job has ended
curl -s -X POST "$SIM_URL/__sim/learners" -H 'Content-Type: application/json' \
  -d '{"username":"quinn_slow","state":"PENDING","days_ago":30}' >/dev/null
curl -s -X POST "$SIM_URL/__sim/faults" -H 'Content-Type: application/json' \
  -d '{"endpoint": "retire_forum", "username": "quinn_slow", "latency_ms": 2500}' >/dev/null
open_console 120 30 -- --config "$CFG"
wait_for "quinn_slow"
keys / ; type_text quinn_slow ; keys Enter r
wait_for "Retire 1 learner?"
keys y
wait_for "jobs 1 |" 5
keys Q
wait_for "Quit the console?"
wait_for "1 job is still running. They are not stopped"
wait_for "All jobs have finished: quitting now leaves nothing behind." 30
screen | grep -qF "1 job is still running" && fail "the quit dialog still says a job runs after it ended"
[ "$(learner_state "$CFG" quinn_slow)" = COMPLETE ] || fail "quinn_slow did not finish while the quit dialog was open"
keys y
expect_restored 0
ok "the open quit dialog follows the jobs: it says when the last one has finished"
echo "passed $PASSES checks"
