#!/usr/bin/env bash
# Shell completion as a user meets it: the scripts the build generates from the command table
# (<build>/completion/retirectl for bash, _retirectl for zsh, installed by the package), checked
# word by word in bash, then typed with <Tab> into a real bash and a real zsh in tmux.
source "$(dirname "$0")/lib.sh"
: "${RETIRECTL_BUILD_DIR:?set by ctest}"
COMPLETION_DIR="$RETIRECTL_BUILD_DIR/completion"
[ -f "$COMPLETION_DIR/retirectl" ] && [ -f "$COMPLETION_DIR/_retirectl" ] || fail "the build wrote no completion scripts"

# retirectl on PATH, as after an install (a symlink: the program still finds its build tree)
mkdir -p "$TUI_WORK/bin" "$TUI_WORK/cwd"
ln -s "$RETIRECTL_BIN" "$TUI_WORK/bin/retirectl"
export PATH="$TUI_WORK/bin:$PATH"
cd "$TUI_WORK/cwd"
touch prod.yml staging.yaml notes.txt
mkdir conf.d
printf '[retirement_driver]\nGOOD = %s/tests/plugins/good.so:retirectl_driver_good\n' "$RETIRECTL_BUILD_DIR" >extra.cfg

# --- bash, word by word -------------------------------------------------------------------
# complete WORD...: prints the candidates bash offers for the last word (sorted, one line).
complete_words() {
  bash --norc --noprofile -c '
    source "$1"; shift
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _retirectl
    printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' _ "$COMPLETION_DIR/retirectl" "$@"
}
expect() { # expect "WORDS" "WANTED": every wanted word is offered
  local got w
  got=" $(complete_words $1 "${3:-}")"
  for w in $2; do
    case "$got" in *" $w "*) ;; *) fail "bash: '$1 ${3:-}' offers [$got], not $w" ;; esac
  done
}
expect_not() { # expect_not "WORDS" "UNWANTED"
  local got w
  got=" $(complete_words $1 "${3:-}")"
  for w in $2; do
    case "$got" in *" $w "*) fail "bash: '$1 ${3:-}' offers $w: [$got]" ;; esac
  done
}

n=0
for cmd in tui demo queue status plan retire resume rerun reset drivers check-config completion; do
  expect "retirectl" "$cmd"; n=$((n + 1))
done
expect "retirectl" "check-config" "ch"
expect "retirectl" "console" "con"
expect "retirectl console" "--print-keys-man" "--"
ok "bash: all $n commands of the table, an alias (console), and a prefix"

expect "retirectl queue" "--format --output-dir --cool-off-days --shard" "--"
expect "retirectl queue --format" "table json jenkins"
expect "retirectl retire" "--all --jobs --max-learners --dry-run --config_file" "--"
expect "retirectl reset" "--initial-state --rewind-state --start-date" "--"
expect_not "retirectl queue" "--keep --initial-state" "--"
expect "retirectl" "--config --driver-path --theme --no-color --version" "--"
expect "retirectl completion" "bash zsh"
ok "bash: each command's own options (from its --help), fixed choices, global options"

expect "retirectl --config" "prod.yml staging.yaml conf.d"
expect_not "retirectl --config" "notes.txt"
expect "retirectl status bob --config_file" "prod.yml"
expect "retirectl queue --output-dir" "conf.d"
expect_not "retirectl queue --output-dir" "prod.yml"
ok "bash: config files (*.yml, *.yaml and folders), folders for --output-dir"

expect "retirectl --theme" "default light mono"
expect "retirectl rerun bob" "LMS.retirement_retire_forum ECOMMERCE.retire_learner WEBHOOK.notify BRAZE.delete_user"
expect "retirectl rerun bob" "LMS.retirement_retire_forum" "LMS.retirement_retire_fo"
expect_not "retirectl rerun bob" "GOOD.retire"
expect "retirectl --driver-path extra.cfg rerun bob" "GOOD.retire GOOD.config_echo"
expect_not "retirectl rerun" "LMS.retirement_retire_forum"
ok "bash: DRIVER.METHOD from the registry (built-ins, shipped plugins, --driver-path), themes"

# --- real shells in tmux ------------------------------------------------------------------
start_shell() { # start_shell NAME COMMAND...: a fresh tmux session "tui" running the shell, prompt "NAME> "
  local name=$1
  shift
  tmx has-session -t keep >/dev/null 2>&1 || tmx new-session -d -s keep -x 20 -y 5 "sleep 100000"
  tmx kill-session -t tui >/dev/null 2>&1 || true
  tmx new-session -d -s tui -x 160 -y 30 -c "$TUI_WORK/cwd" "env PATH='$PATH' TERM=screen PS1='$name> ' $*"
  wait_for "$name>"
}

start_shell bash bash --norc --noprofile
type_text "source '$COMPLETION_DIR/retirectl'; echo loaded-\$?"; keys Enter
wait_for "loaded-0"
type_text "retirectl rerun bob LMS.retirement_retire_fo"; keys Tab
wait_for "retirectl rerun bob LMS.retirement_retire_forum"
keys C-c
type_text "retirectl --theme li"; keys Tab
wait_for "retirectl --theme light"
keys C-c
type_text "retirectl che"; keys Tab
wait_for "retirectl check-config"
ok "bash: <Tab> completes a command, a theme and a DRIVER.METHOD"

start_shell zsh zsh -f
type_text "fpath=('$COMPLETION_DIR' \$fpath); autoload -U compinit; compinit -u -D; bindkey -e; echo loaded-\$?"
keys Enter
wait_for "loaded-0"
type_text "retirectl que"; keys Tab
wait_for "zsh> retirectl queue"
type_text "--form"; keys Tab
wait_for "retirectl queue --format"
keys Tab
wait_for "jenkins"
screen | grep -q "table" || fail "zsh: --format offers no 'table'"
keys C-c
type_text "retirectl rerun bob LMS.retirement_retire_fo"; keys Tab
wait_for "retirectl rerun bob LMS.retirement_retire_forum"
keys C-c
type_text "retirectl --config pr"; keys Tab
wait_for "retirectl --config prod.yml"
ok "zsh: the installed _retirectl (autoloaded from \$fpath) completes commands, options, choices, methods, configs"

# --- the man page's COMMANDS section is made from the same table --------------------------
: "${RETIRECTL_SOURCE_DIR:?set by ctest}"
# GLOBAL OPTIONS and COMMANDS: up to the heading after COMMANDS
awk '/^\.SH GLOBAL OPTIONS$/ { on = 1 } on && /^\.SH / && seen { exit } /^\.SH COMMANDS$/ { seen = 1 } on { print }' \
  "$RETIRECTL_SOURCE_DIR/docs/retirectl.1" >"$TUI_WORK/man-commands"
retirectl completion man >"$TUI_WORK/gen-commands"
diff -u "$TUI_WORK/man-commands" "$TUI_WORK/gen-commands" >"$TUI_WORK/man.diff" ||
  fail "docs/retirectl.1's COMMANDS differ from \`retirectl completion man\` (run scripts/update-man.sh): $(head -20 "$TUI_WORK/man.diff")"
grep -qF '\fBrerun\fR \fIUSER\fR \fIDRIVER.METHOD\fR' "$TUI_WORK/gen-commands" || fail "the generated COMMANDS lack rerun's positionals"
grep -qF '\fB\-\-format\fR \fItable|json|jenkins\fR' "$TUI_WORK/gen-commands" || fail "the generated COMMANDS lack queue's --format choices"
grep -qF 'circuit breaker: after N learners in a row fail' "$TUI_WORK/gen-commands" || fail "the generated COMMANDS lack option descriptions"
ok "the man page's GLOBAL OPTIONS and COMMANDS sections are generated from the command table (retirectl completion man)"
