#!/usr/bin/env bash
# The console's marked bulk has retire --all's circuit breaker (the engine's job pool): when a
# service is broken, console.max_consecutive_failures learners in a row failing in the same
# DRIVER.method stop the queue instead of failing every marked learner. The console says why and
# how many wait, the status bar and the jobs view show it, and R starts the queue again once the
# service is fixed.
source "$(dirname "$0")/lib.sh"

cat >"$TUI_WORK/seed.json" <<'JSON'
[{"username": "brk_1", "state": "PENDING", "days_ago": 30},
 {"username": "brk_2", "state": "PENDING", "days_ago": 30},
 {"username": "brk_3", "state": "PENDING", "days_ago": 30},
 {"username": "brk_4", "state": "PENDING", "days_ago": 30},
 {"username": "brk_5", "state": "PENDING", "days_ago": 30}]
JSON
start_sim --seed "$TUI_WORK/seed.json" --legacy-mailings
# the forum service refuses everyone
curl -s -X POST "$SIM_URL/__sim/faults" -H 'Content-Type: application/json' -d '{"rules": [
  {"endpoint": "retire_forum", "status": 403, "body": {"detail": "forum: service account disabled"}}]}' >/dev/null
CFG="$(write_config "environment: staging" "  workers: 1
  max_consecutive_failures: 2")"

open_console 160 30 -- --config "$CFG"
wait_for "Ready (5)"
wait_for "brk_5"
keys '*'
wait_for "5 learners marked"
keys r
wait_for "Retire 5 learners?"
keys y
wait_for "Queue stopped: 2 jobs in a row failed in LMS.retirement_retire_forum" 30
screen | grep -q "(last: 403 Client Error: Forbidden" || fail "the stop message lacks the last failure"
wait_for "+3 queued (stopped)" 5
ok "two learners in a row fail in the same step: the queue stops, says why, and 3 wait"

errored=0 pending=0
for u in brk_1 brk_2 brk_3 brk_4 brk_5; do
  case "$(learner_state "$CFG" "$u")" in
    ERRORED) errored=$((errored + 1)) ;;
    PENDING) pending=$((pending + 1)) ;;
  esac
done
[ "$errored" = 2 ] && [ "$pending" = 3 ] || fail "after the stop: $errored ERRORED and $pending PENDING, want 2 and 3"
ok "only the two failed learners were touched (ERRORED); the three queued are still PENDING"

keys J
wait_for "QUEUE STOPPED: 2 jobs in a row failed in LMS.retirement_retire_forum" 5
wait_for "0 running, 3 queued, 0 done, 2 failed or refused" 5
ok "the jobs view counts as the pool does and says the queue is stopped"

# the service is fixed: R starts the rest
curl -s -X DELETE "$SIM_URL/__sim/faults" >/dev/null
keys R
wait_for "0 running, 0 queued, 3 done, 2 failed or refused" 30
keys M
wait_for "queue started again: 3 queued action(s)" 5
keys q
for u in brk_1 brk_2 brk_3 brk_4 brk_5; do
  s="$(learner_state "$CFG" "$u")"
  [ "$s" = COMPLETE ] || [ "$s" = ERRORED ] || fail "$u is $s after the restarted queue"
done
ok "R starts the stopped queue again: the three waiting learners complete"
keys q
quit_console 0
echo "passed $PASSES checks"
