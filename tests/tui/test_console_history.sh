#!/usr/bin/env bash
# The retirement history in the console (docs/history.md): after a failure recorded by the CLI,
# a fresh console shows the Failed tab's REASON column ("403 forum: permission denied") and the
# detail's history fields (the request, the status, what the server said, earlier jobs); the
# Stuck tab tells a job running now ("running on HOST, pid N, for 5s") from one whose process is
# gone ("stuck: the job of HOST, pid N is gone"); the learner's lease (src/engine/lease.h) comes
# first: a job whose supervisor died while its worker still holds the learner is running.
source "$(dirname "$0")/lib.sh"

SEED="$TUI_WORK/seed.json"
cat >"$SEED" <<'JSON'
{"learners": [
  {"username": "kim_fail", "state": "PENDING", "days_ago": 10, "user_id": 7001},
  {"username": "slow_one", "state": "PENDING", "days_ago": 10, "user_id": 7002},
  {"username": "gone_one", "state": "PENDING", "days_ago": 10, "user_id": 7003},
  {"username": "orphan_one", "state": "PENDING", "days_ago": 10, "user_id": 7004}
]}
JSON
start_sim --seed "$SEED"
CFG="$(write_config)"
export XDG_STATE_HOME="$TUI_WORK/state"
curl -s -X POST "$SIM_URL/__sim/faults" -d '{"rules": [
  {"endpoint": "retire_forum", "username": "kim_fail", "status": 403, "body": {"detail": "forum: permission denied"}},
  {"endpoint": "retire_forum", "username": "slow_one", "latency_ms": 60000},
  {"endpoint": "retire_forum", "username": "gone_one", "latency_ms": 60000},
  {"endpoint": "retire_forum", "username": "orphan_one", "latency_ms": 60000}]}' >/dev/null

"$RETIRECTL_BIN" --config "$CFG" retire kim_fail --reason "TICKET-7" >"$TUI_WORK/kim.out" 2>&1 && fail "kim_fail should fail"
# a retirement running now, and one whose supervisor (and worker) were killed mid-step
"$RETIRECTL_BIN" --config "$CFG" retire slow_one >"$TUI_WORK/slow.out" 2>&1 &
SLOW=$!
setsid "$RETIRECTL_BIN" --config "$CFG" retire gone_one >"$TUI_WORK/gone.out" 2>&1 &
GONE=$!
# ... and one whose supervisor alone was killed: its worker still holds the lease mid-step
setsid "$RETIRECTL_BIN" --config "$CFG" retire orphan_one >"$TUI_WORK/orphan.out" 2>&1 &
ORPH=$!
for _ in $(seq 1 100); do
  [ "$(learner_state "$CFG" gone_one)" = RETIRING_FORUMS ] && [ "$(learner_state "$CFG" slow_one)" = RETIRING_FORUMS ] &&
    [ "$(learner_state "$CFG" orphan_one)" = RETIRING_FORUMS ] && break
  sleep 0.1
done
sleep 0.5
kill -9 -- "-$GONE" 2>/dev/null || kill -9 "$GONE"
wait "$GONE" 2>/dev/null || true
kill -9 "$ORPH"
wait "$ORPH" 2>/dev/null || true
trap 'kill -9 -- "-$ORPH" 2>/dev/null || true; tui_cleanup' EXIT

open_console 200 30 "XDG_STATE_HOME=$XDG_STATE_HOME" -- --config "$CFG"
wait_for "refreshed "
keys 3
wait_for "REASON"
wait_for "403 forum: permission denied"
ok "Failed tab: REASON column from the history after a fresh start"
# at 80 columns the reason still shows beside the learner (the name column narrows, and the
# reason takes the place of AGE and CHANGED when even that is not enough)
tmx resize-window -t tui -x 80 -y 24
wait_gone "permission denied" # the 80-column frame is drawn
screen | grep -F "kim_fail" | grep -qF "403 forum: perm" || fail "no reason beside kim_fail at 80 columns"
tmx resize-window -t tui -x 200 -y 30
wait_for "CHANGED"
ok "Failed tab at 80 columns: the reason stays readable"

keys Enter
wait_for "history.failure.server"
wait_for "forum: permission denied"
wait_for "POST /api/discussion/v1/accounts/retire_forum/"
wait_for "history.failure.reason"
wait_for "TICKET-7"
wait_for "history.jobs[0]"
ok "detail: the last failure record and the learner's jobs"
keys Escape

keys 4
wait_for "JOB"
wait_for "running on $(hostname), pid $SLOW, for"
wait_for "stuck: the job of $(hostname), pid $GONE is gone"
ok "Stuck tab: a running job told apart from one whose process is gone"
# the history's row says pid ORPH is gone, but the lease is held (by its worker): running
screen | grep -F "orphan_one" | grep -qF "running on $(hostname), pid $ORPH (ended; its worker finishes the step), for" ||
  fail "orphan_one (its worker holds the lease) is not shown running: $(screen | grep -F orphan_one)"
ok "Stuck tab: a learner whose lease is held is running even when the history's pid is gone"
kill -9 -- "-$ORPH" 2>/dev/null || true

# a second signal stops the step in flight (the first lets it finish: a minute here)
kill "$SLOW" 2>/dev/null || true
sleep 0.3
kill "$SLOW" 2>/dev/null || true
wait "$SLOW" 2>/dev/null || true
quit_console 0
ok "quits cleanly"
