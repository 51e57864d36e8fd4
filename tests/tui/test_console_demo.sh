#!/usr/bin/env bash
# `retirectl demo`: starts retirectl-sim on a free port with the demo learners, opens the console
# on a generated config (environment: demo), and stops the sim and removes its temp folder on exit.
source "$(dirname "$0")/lib.sh"

export TMPDIR="$TUI_WORK"
open_console 120 30 "RETIRECTL_SIM_BIN=$RETIRECTL_SIM_BIN" "TMPDIR=$TUI_WORK" -- demo
wait_for "carol_ready" 20
wait_for " demo "
wait_for "3 Failed (2)"
wait_for "4 Stuck (2)"
demo_dir="$(ls -d "$TUI_WORK"/retirectl-demo-* 2>/dev/null | head -1)"
[ -n "$demo_dir" ] && [ -f "$demo_dir/config.yml" ] || fail "no demo config in a private temp folder"
[ "$(stat -c %a "$demo_dir/config.yml")" = 600 ] || fail "the demo config (it holds a secret) is not private"
port="$(grep -o '127.0.0.1:[0-9]*' "$demo_dir/config.yml" | head -1 | cut -d: -f2)"
# the sim is a child of this console's retirectl process
cpid="$(console_pid)" || fail "no console process"
sim_pid=""
for f in /proc/[0-9]*/stat; do
  read -r pid _ _ ppid _ <"$f" 2>/dev/null || continue
  [ "$ppid" = "$cpid" ] || continue
  if (tr '\0' ' ' <"/proc/$pid/cmdline") 2>/dev/null | grep -q "retirectl-sim --port 0 --demo"; then sim_pid="$pid"; fi
done
[ -n "$sim_pid" ] || fail "no retirectl-sim process for the demo"
ok "demo starts the sim (port $port) and opens the console on it"

# a full retirement works in the demo
keys / ; type_text carol ; keys Enter Enter
wait_for "Learner carol_ready"
keys r
wait_for "Retire 1 learner?"
keys y
wait_for "Pipeline: retire job complete" 30
ok "a demo retirement completes"

quit_console 0
for i in $(seq 1 100); do [ -d "/proc/$sim_pid" ] || break; sleep 0.05; done
[ ! -d "/proc/$sim_pid" ] || fail "the demo sim is still running after the console exited"
[ ! -e "$demo_dir" ] || fail "the demo temp folder was not removed"
ok "the sim stops and the temp folder goes when the console exits"
echo "passed $PASSES checks"
