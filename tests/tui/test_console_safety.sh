#!/usr/bin/env bash
# Safety for bulk and cool-off (docs/console.md): S1 more marked learners than console.max_bulk
# need the typed count; S2 a learner still in cool-off is warned about; S3 the typed production
# confirmation also accepts the LMS user id; S4 the reason/ticket field, required with
# console.require_reason, reaches the audit log.
source "$(dirname "$0")/lib.sh"

start_sim --demo --legacy-mailings
AUDIT="$TUI_WORK/audit.log"

# ---- S1: console.max_bulk 3, seven learners marked
CFG="$(write_config "environment: staging
audit_log: $AUDIT" "  max_bulk: 3")"
open_console 150 40 -- --config "$CFG"
wait_for "carol_ready"
keys '*'
wait_for "7 learners marked"
keys r
wait_for "Retire 7 learners?"
wait_for "7 learners is more than console.max_bulk (3)"
wait_for 'LARGE BATCH: type `retire 7` to confirm'
keys y
type_text "7" ; keys Enter
wait_for "does not match"
[ "$(learner_state "$CFG" carol_ready)" = PENDING ] || fail "a bulk retire over max_bulk ran without the typed count"
type_text "retire 7" ; keys Enter
for i in $(seq 1 150); do [ "$(learner_state "$CFG" carol_ready)" = COMPLETE ] && break; sleep 0.1; done
[ "$(learner_state "$CFG" carol_ready)" = COMPLETE ] || fail "the typed bulk retire did not run"
ok "more than console.max_bulk marked learners need \`retire N\` typed"

# ---- S2: a learner still in cool-off is warned about
keys 2
wait_for "alice_pending"
keys / ; type_text alice ; keys Enter r
wait_for "Retire 1 learner?"
wait_for "WARNING: alice_pending is still in the cool-off period:"
wait_for "the learner may still cancel"
keys n
ok "retiring a learner in cool-off warns in the dialog"
quit_console 0

# ---- S4: require_reason: y alone is refused; the reason reaches the audit log
RCFG="$(write_config "environment: staging
audit_log: $AUDIT" "  require_reason: true")"
open_console 150 40 -- --config "$RCFG"
wait_for "3 Failed (2)"
keys 3 / ; type_text heidi ; keys Enter u
wait_for "Resume 1 learner?"
wait_for "Reason or ticket (required): _"
keys Tab y
wait_for "a reason or ticket is required (console.require_reason)"
type_text "GDPR-4711 per DPO"
keys Enter y
for i in $(seq 1 150); do [ "$(learner_state "$RCFG" heidi_errored)" = COMPLETE ] && break; sleep 0.1; done
[ "$(learner_state "$RCFG" heidi_errored)" = COMPLETE ] || fail "resume with a reason did not run"
grep '"action":"resume"' "$AUDIT" | grep -qF '"reason":"GDPR-4711 per DPO (from the console)"' ||
  fail "the reason is not in the audit log: $(grep resume "$AUDIT" | tail -1)"
ok "a required reason is asked for and written to the audit log"
quit_console 0

# ---- S3: production: a username that cannot be typed is confirmed with the user id
curl -s -X POST "$SIM_URL/__sim/learners" -H 'Content-Type: application/json' \
  -d '{"username":"rtl\u202egnp.exe","state":"PENDING","days_ago":30}' >/dev/null
uid="$(curl -s "$SIM_URL/__sim/learners" | python3 -c '
import json,sys
for l in json.load(sys.stdin):
    if l.get("original_username","").startswith("rtl"): print(l["user"]["id"])')"
[ -n "$uid" ] || fail "the sim did not add the learner"
PCFG="$(write_config "environment: production
audit_log: $AUDIT")"
open_console 150 40 -- --config "$PCFG"
wait_for "gnp.exe"
keys / ; type_text gnp ; keys Enter r
wait_for "PRODUCTION: type the username (or user id) to confirm"
type_text "TICKET-9" ; keys Enter
type_text 'rtl\u{202E}gnp.exe' ; keys Enter
wait_for "does not match"
type_text "$uid" ; keys Enter
for i in $(seq 1 150); do
  st="$(curl -s "$SIM_URL/__sim/learners?username=rtl%E2%80%AEgnp.exe" | python3 -c 'import json,sys; print(json.load(sys.stdin)["current_state"]["state_name"])')"
  [ "$st" = COMPLETE ] && break; sleep 0.1
done
[ "$st" = COMPLETE ] || fail "typing the user id did not retire the learner ($st)"
ok "production typed confirmation accepts the LMS user id ($uid)"
quit_console 0
echo "passed $PASSES checks"
