#!/usr/bin/env bash
# scripts/fuzz.sh TARGET SECONDS [libFuzzer options...]
# Runs a real fuzzing campaign of tests/fuzz/fuzz_TARGET.c under ASan+UBSan with clang's libFuzzer
# (built in build-fuzz/). The campaign starts from the seed corpus and the kept regressions; new
# interesting inputs go to build-fuzz/corpus/TARGET (the tree's corpus is not touched), crashes to
# build-fuzz/crashes/TARGET/ (copy a crash into tests/fuzz/regressions/TARGET/ once it is fixed, so
# every run replays it). Ends with one line: "TARGET: N executions in S s (asked T s), C crash(es)";
# libFuzzer stops at the first crash, so C is 0 or 1 and S is shorter then.
# Targets: config ep theme json pyrepr url. Needs clang (scripts/deps.sh installs it).
set -euo pipefail
target=${1:?usage: scripts/fuzz.sh TARGET SECONDS [libFuzzer options]}
seconds=${2:?usage: scripts/fuzz.sh TARGET SECONDS [libFuzzer options]}
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
src="$root/tests/fuzz/fuzz_$target.c"
[ -f "$src" ] || { echo "fuzz.sh: no target $target (tests/fuzz/fuzz_$target.c)" >&2; exit 2; }
build="$root/build-fuzz"
flags="-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=undefined"
if [ ! -f "$build/CMakeCache.txt" ]; then
  CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DRETIRECTL_FUZZ=ON \
    -DCMAKE_C_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
fi
cmake --build "$build" --target "fuzz_$target" -j"$(nproc)" >/dev/null
bin=$(find "$build" -name "fuzz_$target" -type f -perm -u+x | head -1)
work="$build/corpus/$target"
crashes="$build/crashes/$target"
mkdir -p "$work" "$crashes"
log="$build/fuzz-$target.log"
seeds=("$root/tests/fuzz/corpus/$target")
[ -d "$root/tests/fuzz/regressions/$target" ] && seeds+=("$root/tests/fuzz/regressions/$target")
started=$SECONDS
marker=$(mktemp)
set +e
ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -artifact_prefix="$crashes/" -print_final_stats=1 "$@" "$work" "${seeds[@]}" >"$log" 2>&1
rc=$?
set -e
took=$((SECONDS - started))
execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
crashed=$(find "$crashes" -type f -newer "$marker" | wc -l) # written by this run
rm -f "$marker"
echo "$target: ${execs:-0} executions in ${took} s (asked $seconds s), $crashed crash(es) (libFuzzer exit $rc; log $log; crash inputs in $crashes)"
[ "$rc" -eq 0 ] || tail -40 "$log" >&2
exit "$rc"
