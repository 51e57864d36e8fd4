#!/usr/bin/env bash
# Follows docs/writing-a-driver.md literally: in an empty folder, with this build installed in a
# private prefix (sdk_env.sh) whose bin/ is first on PATH, it writes every `<!-- file: NAME -->`
# block to NAME, compiles every `<!-- compile: c -->` / `<!-- compile: c++ -->` block against
# the installed header (pkg-config retirectl-driver, -Wall -Wextra -Werror, hidden visibility,
# then checks the descriptor is exported), and runs every `<!-- step -->` block in order in one
# bash session with -e. The guide's last step must leave the learner COMPLETE.
. "$(dirname "$0")/sdk_env.sh"
DOC=${RETIRECTL_SOURCE_DIR:?}/docs/writing-a-driver.md
export PATH="$T/prefix/bin:$PATH"
W="$T/work"
mkdir -p "$W"

# split the guide into its annotated blocks: files, compile checks and steps (in order)
awk -v dir="$T/blocks" '
  /^<!-- (step|file: [^ ]+|compile: [a-z+]+) -->$/ { mark = $0; sub(/^<!-- /, "", mark); sub(/ -->$/, "", mark); next }
  /^```/ {
    if (inblock) { inblock = 0; close(out); next }
    if (mark != "") { n++; out = sprintf("%s/%03d %s", dir, n, mark); gsub(/: /, ":", out); inblock = 1; mark = ""; next }
    skip = !skip; next
  }
  inblock { print > out }
' <(mkdir -p "$T/blocks"; cat "$DOC")

steps=0 files=0 compiled=0
# the guide stops its simulator itself; the trap only covers a step that failed before that
# (a kill of an already reaped pid must not turn a passing run into a failure under set -e)
echo 'trap '"'"'if [ -n "${SIM_PID:-}" ]; then kill "$SIM_PID" 2>/dev/null || true; fi'"'"' EXIT' >"$T/steps.sh"
echo 'set -e -x' >>"$T/steps.sh"
for b in "$T"/blocks/*; do
  kind=${b##*/}; kind=${kind#* }
  case "$kind" in
    step) cat "$b" >>"$T/steps.sh"; steps=$((steps + 1)) ;;
    file:*) cp "$b" "$W/${kind#file:}"; files=$((files + 1)) ;;
    compile:c)
      cc ${CFLAGS:-} -std=c11 -Wall -Wextra -Werror -fPIC -fvisibility=hidden -shared $(pkg-config --cflags retirectl-driver) \
        -x c "$b" -o "$T/block.so" $(pkg-config --libs retirectl-driver) || fail "the C block $b does not compile"
      nm -D --defined-only "$T/block.so" | grep -q " retirectl_driver_" || fail "the C block $b exports no descriptor"
      compiled=$((compiled + 1)) ;;
    compile:c++)
      c++ ${CXXFLAGS:-} -std=c++17 -Wall -Wextra -Werror -pedantic -Wold-style-cast -fPIC -fvisibility=hidden -shared \
        $(pkg-config --cflags retirectl-driver) -x c++ "$b" -o "$T/block.so" $(pkg-config --libs retirectl-driver) \
        || fail "the C++ block $b does not compile"
      nm -D --defined-only "$T/block.so" | grep -q " retirectl_driver_" || fail "the C++ block $b exports no descriptor"
      compiled=$((compiled + 1)) ;;
    *) fail "unknown block annotation '$kind' in $DOC" ;;
  esac
done
[ "$steps" -ge 5 ] && [ "$files" -ge 3 ] && [ "$compiled" -ge 2 ] \
  || fail "expected the guide's annotated blocks (got $steps steps, $files files, $compiled compiled)"
(cd "$W" && bash "$T/steps.sh") >"$T/steps.out" 2>&1 || { cat "$T/steps.out" >&2; fail "a step of $DOC failed (see above)"; }
# no grep -q after a pipe: under pipefail, the first grep dying of SIGPIPE would fail the check
grep -v "^+" "$T/steps.out" | grep "COMPLETE" >/dev/null || { cat "$T/steps.out" >&2; fail "the learner did not end COMPLETE"; }
grep -q "ACME_CRM 0.1.0 (plugin, ABI 2)" "$T/steps.out" || fail "drivers did not list the installed driver"
echo "ok: $steps steps, $files files, $compiled compiled blocks of $DOC"
