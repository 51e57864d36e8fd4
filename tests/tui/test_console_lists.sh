#!/usr/bin/env bash
# The console's scrolling lists share one list widget (src/ui/panel.h, docs/architecture.md): in a
# short terminal End, Home and PgDn move the learner list's selection and keep it on screen, and
# the messages view pages the same way.
source "$(dirname "$0")/lib.sh"

start_sim --learners 200
CFG="$(write_config "environment: staging")"
open_console 110 14 -- --config "$CFG"
wait_for "learner0"
wait_gone "(…)" 20 # every tab's count is known

# the Ready tab, by username: more learners than rows
keys o
wait_for "USERNAME ^"
ready="$(screen | grep -o ' 1 Ready ([0-9]*)' | grep -o '[0-9]*)' | tr -d ')')"
[ "${ready:-0}" -gt 20 ] || fail "the Ready tab has ${ready:-no} learners; the test needs more than a screenful"

# selection_after KEY: presses KEY, then Enter; prints the learner the detail view opened, and
# fails when that learner was not on the screen before Enter (the list must scroll to it).
selection_after() {
  keys "$1"
  sleep 0.3
  local before name
  before="$(screen)"
  keys Enter
  wait_for "Learner learner"
  name="$(screen | grep -o 'Learner learner[0-9]*' | head -1 | sed 's/Learner //')"
  grep -qF "$name" <<<"$before" || fail "after $1 the selected learner $name was not on the screen"
  keys Escape
  wait_for "USERNAME ^"
  echo "$name"
}

first="$(selection_after Home)"
last="$(selection_after End)"
[[ "$last" > "$first" ]] || fail "End selected $last, Home $first"
ok "End selects the last learner ($last) and scrolls to it; Home the first ($first)"

keys Home
paged="$(selection_after NPage)"
[[ "$paged" > "$first" && "$paged" < "$last" ]] || fail "PgDn from the first row selected $paged"
paged2="$(selection_after NPage)"
[[ "$paged2" > "$paged" ]] || fail "a second PgDn selected $paged2 after $paged"
up="$(selection_after PPage)"
[ "$up" = "$paged" ] || fail "PgUp after two PgDn selected $up, not $paged"
ok "PgDn and PgUp move a page and keep the selection shown ($paged, $paged2)"

# the selection stays on its learner across a refresh, and the filter takes it back to the top
keys End
sleep 2.5 # a refresh (console.refresh_seconds: 2)
kept="$(selection_after Down)" # Down at the last row stays there
[ "$kept" = "$last" ] || fail "after a refresh the selection moved from $last to $kept"
ok "the selection keeps its learner across a refresh"

# the messages view: the oldest message is off the screen until End
keys :
type_text bogus
keys Enter
wait_for "unknown command :bogus"
for _ in $(seq 1 15); do keys o; done
wait_for "(o: next column, O: reverse)"
keys M
wait_for "Messages of this session, newest first"
screen | grep -qF "unknown command :bogus" && fail "the oldest message shows before End"
keys End
wait_for "unknown command :bogus"
keys Home
wait_gone "unknown command :bogus"
ok "the messages view pages like the list (End shows the oldest message, Home the newest)"
keys q
wait_for "USERNAME"

quit_console
echo "all $PASSES console list checks passed"
