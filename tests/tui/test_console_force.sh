#!/usr/bin/env bash
# Resume of a learner whose working state changed within step_timeout_seconds (docs/console.md,
# "Running elsewhere"): the CLI refuses it with exit 253 unless --force. The console explains it
# and offers --force only through a typed confirmation (`force NAME`):
#   A. the console's own check (a fresh working state at the LMS) opens the resume dialog in force mode;
#   B. a refusal by the CLI itself (exit 253; here the config's step_timeout_seconds grew after the
#      console read it) is explained and followed by the force dialog.
source "$(dirname "$0")/lib.sh"

start_sim --demo
CFG="$(write_config "step_timeout_seconds: 3600")"

now="$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)"
for u in lena_busy fay_busy; do
  curl -s -X POST "$SIM_URL/__sim/learners" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$u\",\"state\":\"RETIRING_ENROLLMENTS\",\"last_state\":\"EMAIL_LISTS_COMPLETE\",\"days_ago\":10,\"modified\":\"$now\"}" >/dev/null
done

# ---- A: the console's check: the resume dialog asks for `force lena_busy`
open_console 150 40 -- --config "$CFG"
wait_for "refreshed "
keys 4 / ; type_text lena ; keys Enter
wait_for "lena_busy" 10
keys u
wait_for "lena_busy is running elsewhere: its working state changed at" 5
wait_for "--force runs it anyway"
wait_for "Type \`force lena_busy\` to run it with --force"
keys y
type_text "lena_busy" ; keys Enter
wait_for "that does not match"
[ "$(learner_state "$CFG" lena_busy)" = RETIRING_ENROLLMENTS ] || fail "a wrong confirmation changed lena_busy"
keys Escape
wait_for "cancelled: nothing was changed"
ok "a fresh working state: the resume dialog offers --force only typed, y and a wrong text do nothing"
keys u
wait_for "Type \`force lena_busy\`"
type_text "force lena_busy" ; keys Enter
wait_for "resume lena_busy: complete" 30
[ "$(learner_state "$CFG" lena_busy)" = COMPLETE ] || fail "after the forced resume lena_busy is $(learner_state "$CFG" lena_busy)"
ok "typing force NAME resumes with --force: the learner is COMPLETE"
quit_console 0

# ---- B: the CLI refuses (253); the console explains and offers the force dialog
CFG2="$(write_config "step_timeout_seconds: 1")"
open_console 150 40 -- --config "$CFG2"
wait_for "refreshed "
sleep 1.2 # fay_busy's change is now older than the console's 1 s window
sed -i 's/^step_timeout_seconds: 1$/step_timeout_seconds: 3600/' "$CFG2"
keys 4 / ; type_text fay ; keys Enter
wait_for "fay_busy" 10
keys u
wait_for "Resume 1 learner?"
keys y
wait_for "Force the resume of fay_busy?" 20
wait_for "The CLI refused the resume of fay_busy (exit 253); nothing was changed"
wait_for "less than step_timeout_seconds"
wait_for "Type \`force fay_busy\`"
[ "$(learner_state "$CFG" fay_busy)" = RETIRING_ENROLLMENTS ] || fail "the refused resume changed fay_busy"
ok "the CLI's refusal (exit 253) is explained and the force dialog opens"
type_text "force fay_busy" ; keys Enter
wait_for "resume fay_busy: complete" 30
[ "$(learner_state "$CFG" fay_busy)" = COMPLETE ] || fail "after the forced resume fay_busy is $(learner_state "$CFG" fay_busy)"
ok "the force dialog runs resume --force: the learner is COMPLETE"
quit_console 0
