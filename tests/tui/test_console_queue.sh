#!/usr/bin/env bash
# The console's batch queue, scheduled by the engine's job pool: with console.workers 1, three
# marked learners run one at a time; one taken out of the queue (c on it while it waits) is never
# started, and the status bar and the jobs view count running, queued and done as the pool does.
source "$(dirname "$0")/lib.sh"

cat >"$TUI_WORK/seed.json" <<'JSON'
[{"username": "pool_a", "state": "PENDING", "days_ago": 30},
 {"username": "pool_b", "state": "PENDING", "days_ago": 30},
 {"username": "pool_c", "state": "PENDING", "days_ago": 30}]
JSON
cat >"$TUI_WORK/faults.json" <<'JSON'
{"rules": [
  {"endpoint": "retire_forum", "username": "pool_a", "latency_ms": 1500},
  {"endpoint": "retire_forum", "username": "pool_b", "latency_ms": 1500},
  {"endpoint": "retire_forum", "username": "pool_c", "latency_ms": 1500}
]}
JSON
start_sim --seed "$TUI_WORK/seed.json" --legacy-mailings --faults "$TUI_WORK/faults.json"
CFG="$(write_config "environment: staging" "  workers: 1")"

open_console 120 30 -- --config "$CFG"
wait_for "Ready (3)"
wait_for "pool_c"
keys '*'
wait_for "3 learners marked"
keys r
wait_for "Retire 3 learners?"
keys y
wait_for "jobs 1 +2 queued" 5
ok "three marked learners with console.workers 1: one runs, two wait"

# the last one in the queue (#2 of 2), from the jobs view
keys J
wait_for "Jobs of this session: 1 running, 2 queued"
LAST="$(screen | sed -nE 's/^queued +(pool_[abc]) +retire +#2 of 2.*/\1/p' | head -1)"
[ -n "$LAST" ] || fail "no queued job listed as #2 of 2: $(screen)"
keys q
keys / ; type_text "$LAST" ; keys Enter
keys c
wait_for "$LAST taken out of the queue: nothing was started for it"
wait_for "+1 queued" 5
ok "a queued learner taken out of the queue leaves one queued"

# the other two complete one after the other; the removed one is never started
for i in $(seq 1 200); do screen | grep -qE 'jobs [1-9]|[0-9]+ queued' || break; sleep 0.1; done
keys J
wait_for "Jobs of this session: 0 running, 0 queued, 2 done" 10
for u in pool_a pool_b pool_c; do
  if [ "$u" = "$LAST" ]; then
    [ "$(learner_state "$CFG" "$u")" = PENDING ] || fail "$u was taken out of the queue but its state is $(learner_state "$CFG" "$u")"
  else
    [ "$(learner_state "$CFG" "$u")" = COMPLETE ] || fail "$u not COMPLETE after the queued retire"
  fi
done
ok "the learners left in the queue complete; the one taken out stays PENDING"
keys q
quit_console 0
echo "passed $PASSES checks"
