#!/usr/bin/env bash
# The console shows what `retirectl cleanup` would archive and delete: the status bar counts the
# COMPLETE retirements past cleanup's cool-off (37 days, or console.cleanup_cool_off_days) and the
# Complete tab marks them with "c"; after a cleanup-like deletion the count drops.
source "$(dirname "$0")/lib.sh"

cat >"$TUI_WORK/seed.json" <<'JSON'
[{"username": "old_done_a", "state": "COMPLETE", "days_ago": 60},
 {"username": "old_done_b", "state": "COMPLETE", "days_ago": 38},
 {"username": "fresh_done", "state": "COMPLETE", "days_ago": 10},
 {"username": "old_aborted", "state": "ABORTED", "days_ago": 90},
 {"username": "old_pending", "state": "PENDING", "days_ago": 90}]
JSON
start_sim --seed "$TUI_WORK/seed.json"
CFG="$(write_config)"

open_console 120 30 -- --config "$CFG"
wait_for "2 due for cleanup"
ok "status bar counts the completed retirements due for cleanup"

keys 5
wait_for "old_done_a"
line_of() { screen | grep -F "$1" | head -1; }
for u in old_done_a old_done_b; do
  [[ "$(line_of "$u")" =~ ^c\  ]] || fail "$u is not marked 'c' in the Complete tab: $(line_of "$u")"
done
for u in fresh_done old_aborted; do
  [[ "$(line_of "$u")" =~ ^c\  ]] && fail "$u is marked although cleanup would not delete it"
done
ok "Complete tab marks exactly the learners cleanup would delete"

# the LMS deletes one (as cleanup does): the next refresh shows the new count
TOKEN="$(curl -s -X POST "$SIM_URL/oauth2/access_token" -d grant_type=client_credentials \
  -d client_id=retirectl-test-client -d client_secret=s3cret-test-value-9f2c -d token_type=jwt |
  sed -E 's/.*"access_token": ?"([^"]*)".*/\1/')"
curl -s -o /dev/null -X POST -H "Authorization: JWT $TOKEN" -H 'Content-Type: application/json' \
  -d '{"usernames": ["old_done_a"]}' "$SIM_URL/api/user/v1/accounts/retirement_cleanup/"
wait_for "1 due for cleanup" 15
wait_gone "old_done_a" 15
ok "the count follows the LMS"
quit_console

# narrow: the count gives way before the status bar's flags do
open_console 60 20 -- --read-only --config "$CFG"
wait_for "READ-ONLY"
screen | tail -1 | grep -qF "READ-ONLY" || fail "the READ-ONLY flag is cut at 60 columns: $(screen | tail -1)"
open_console 100 20 -- --read-only --config "$CFG"
wait_for "1 due for cleanup"
screen | tail -1 | grep -qF "READ-ONLY" || fail "READ-ONLY missing beside the count: $(screen | tail -1)"
ok "the count never pushes the status bar's flags out"
quit_console

# a longer cool-off configured for the console: nobody due, no count shown
CFG2="$(write_config "" "  cleanup_cool_off_days: 365")"
open_console 120 30 -- --config "$CFG2"
wait_for "refreshed "
keys 5
wait_for "old_done_b"
screen | grep -qF "due for cleanup" && fail "count shown although nobody is past a 365-day cool-off"
[[ "$(line_of old_done_b)" =~ ^c\  ]] && fail "old_done_b marked although inside a 365-day cool-off"
ok "console.cleanup_cool_off_days moves the window"
quit_console
echo "passed $PASSES checks"
