#!/usr/bin/env bash
# Light on the LMS (docs/console.md): one token for the console, its fetch children and its jobs, the
# visible tab refreshed every refresh_seconds while the operator is active and everything every
# background_refresh_seconds when idle, COMPLETE/ABORTED only for history_days.
source "$(dirname "$0")/lib.sh"

start_sim --demo --legacy-mailings
count() { curl -s "$SIM_URL/__sim/requests?path=$1" | python3 -c "import json,sys; print(len(json.load(sys.stdin)))"; }
CFG="$(write_config "environment: staging" "  idle_seconds: 2
  background_refresh_seconds: 4
  history_days: 20")"
sed -i 's/^  refresh_seconds: 2$/  refresh_seconds: 1/' "$CFG"
open_console 120 30 -- --config "$CFG"
wait_for "carol_ready"
wait_for "5 Complete (1)"
sleep 1
tokens0="$(count access_token)"
[ "$tokens0" -ge 1 ] || fail "no token fetched at all"
# COMPLETE/ABORTED came from retirements_by_status_and_date since history_days ago
since="$(date -u -d '20 days ago' +%Y-%m-%d)"
curl -s "$SIM_URL/__sim/requests?path=retirements_by_status_and_date" | grep -qF "start_date=$since" ||
  fail "COMPLETE/ABORTED were not fetched with start_date=$since"
curl -s "$SIM_URL/__sim/requests?path=retirement_queue" | grep -q 'states=COMPLETE' &&
  fail "COMPLETE learners were fetched from the whole queue"
ok "COMPLETE/ABORTED fetched for history_days only (since $since)"

# active: the visible tab refreshes every second, with the token the console already holds
q0="$(count retirement_queue)"
for i in 1 2 3 4 5 6; do keys j; sleep 0.5; done
q1="$(count retirement_queue)"
[ $((q1 - q0)) -ge 2 ] || fail "only $((q1 - q0)) list requests in 3 s while the operator is active"
ok "active: the visible tab refreshes every refresh_seconds ($((q1 - q0)) requests in 3 s)"

# idle: after idle_seconds everything refreshes every background_refresh_seconds
sleep 3
q2="$(count retirement_queue)"
sleep 8
q3="$(count retirement_queue)"
# three list requests a refresh (PENDING, the pipeline's states, ERRORED), one refresh every 4 s (at most 3 in 8 s; before: 8 refreshes)
[ $((q3 - q2)) -le 9 ] || fail "$((q3 - q2)) list requests in 8 s while idle (background every 4 s)"
[ $((q3 - q2)) -ge 1 ] || fail "no refresh at all in 8 s while idle"
tokens1="$(count access_token)"
[ "$tokens1" = "$tokens0" ] || fail "$((tokens1 - tokens0)) more token fetches: the token is not reused"
ok "idle: $((q3 - q2)) list requests in 8 s; no new token ($tokens0 in all)"

# a record fetch (the detail view) reuses the token too
keys Enter
wait_for "current_state.state_name"
[ "$(count access_token)" = "$tokens0" ] || fail "opening the record fetched another token"
ok "the record fetch reuses the console's token"
# a job the console starts gets the console's token too (RETIRECTL_TOKEN_FD)
who="$(screen | sed -n 's/^Learner //p' | head -1)"
keys r
wait_for "Retire 1 learner?"
keys y
wait_for "Pipeline: retire job complete" 30
# (counted before learner_state: that runs `retirectl status`, which fetches its own token)
tokens_after="$(count access_token)"
[ "$(learner_state "$CFG" "$who")" = COMPLETE ] || fail "the retire of $who did not complete"
if [ "$tokens_after" != "$tokens0" ]; then
  curl -s "$SIM_URL/__sim/requests" | python3 -c 'import json,sys; [print(r["seq"], r["method"], r["path"][:50], r["status"]) for r in json.load(sys.stdin)]' | tail -25 >&2
  fail "the retire job fetched $((tokens_after - tokens0)) token(s) of its own"
fi
ok "a job started by the console reuses its token"
quit_console 0

# B6: a wrong client_secret (401 from the token endpoint) says what to check first
BAD="$TUI_WORK/bad.yml"
sed 's/^client_secret: .*/client_secret: not-the-secret/' "$CFG" >"$BAD"
open_console 150 30 -- --config "$BAD"
wait_for "LMS refused the credentials: check client_id and client_secret" 10
screen | grep -qF "LMS not reachable" && fail "a rejected secret is reported as the LMS not being reachable"
ok "401 from the token endpoint: check client_id and client_secret comes first"
quit_console 0
echo "passed $PASSES checks"
