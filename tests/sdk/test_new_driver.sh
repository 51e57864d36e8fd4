#!/usr/bin/env bash
# The scaffold, end to end, as a driver author would use it: install retirectl (this build) into a
# private prefix (sdk_env.sh), `retirectl new-driver ACME_ARCHIVE`, build the project against the installed
# prefix with pkg-config, run its unit test (the mock host), `cmake --install` it (the .so into the
# plugin folder, the entry-point file into drivers.d), try it with driver-run, then retire a
# learner through it in a pipeline against retirectl-sim; the installed retirectl finds the
# driver through the prefix's drivers.d alone. Prints the time from new-driver to the
# learner's COMPLETE (a figure, not a pass/fail condition).
SIM=${RETIRECTL_SIM_BIN:?}
SIM_PID=
on_exit() { if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; fi; }
. "$(dirname "$0")/sdk_env.sh"
RETIRECTL="$T/prefix/bin/retirectl" # the installed copy: it reads the prefix's drivers.d

start=$(date +%s.%N)
"$RETIRECTL" new-driver ACME_ARCHIVE "$T/acme" >"$T/new.out" || fail "new-driver failed: $(cat "$T/new.out")"
for f in acme_archive.c test_acme_archive.c acme_archive.cfg.in CMakeLists.txt README.md; do
  [ -f "$T/acme/$f" ] || fail "new-driver did not write $f"
done
# a second run into the same folder refuses to overwrite
if "$RETIRECTL" new-driver ACME_ARCHIVE "$T/acme" >/dev/null 2>&1; then fail "new-driver overwrote a project"; fi

cmake -S "$T/acme" -B "$T/acme/build" -DCMAKE_C_FLAGS="${CFLAGS:-} -Werror" >"$T/configure.log" 2>&1 || fail "configure: $(cat "$T/configure.log")"
cmake --build "$T/acme/build" >"$T/build.log" 2>&1 || fail "build: $(cat "$T/build.log")"
[ -f "$T/acme/build/acme_archive.so" ] || fail "no acme_archive.so (PREFIX \"\")"
nm -D --defined-only "$T/acme/build/acme_archive.so" | grep -q " retirectl_driver_acme_archive$" || fail "descriptor not exported"
(cd "$T/acme/build" && ctest --output-on-failure >"$T/ctest.log" 2>&1) || fail "the scaffold's unit test: $(cat "$T/ctest.log")"
grep -q "1 tests passed\|100% tests passed, 0 tests failed out of 1" "$T/ctest.log" || fail "the unit test did not run: $(cat "$T/ctest.log")"
cmake --install "$T/acme/build" >"$T/install2.log" 2>&1 || fail "install of the driver: $(cat "$T/install2.log")"
EP="$T/prefix/lib/retirectl/drivers.d/acme_archive.cfg"
[ -f "$EP" ] || fail "the entry-point file is not in drivers.d"
[ -f "$T/prefix/lib/retirectl/plugins/acme_archive/acme_archive.so" ] || fail "the .so is not in the plugin folder"

# the simulator, with a state table built from the pipeline
cat >"$T/pipeline.yml" <<YAML
retirement_pipeline:
  - ['RETIRING_FORUMS', 'FORUMS_COMPLETE', 'LMS', 'retirement_retire_forum']
  - ['RETIRING_ACME_ARCHIVE', 'ACME_ARCHIVE_COMPLETE', 'ACME_ARCHIVE', 'retire_learner']
  - ['RETIRING_LMS', 'LMS_COMPLETE', 'LMS', 'retirement_lms_retire']
YAML
"$SIM" --port 0 --pipeline-config "$T/pipeline.yml" --client-secret "sdk-S3cret-$$" >"$T/sim.out" 2>"$T/sim.err" &
SIM_PID=$!
for _ in $(seq 100); do grep -q "listening on" "$T/sim.out" && break; sleep 0.05; done
URL=$(grep -o "http://127.0.0.1:[0-9]*" "$T/sim.out" | head -1)
[ -n "$URL" ] || fail "the simulator did not start: $(cat "$T/sim.err")"
curl -sf -X POST "$URL/__sim/learners" -d '[{"username": "jane", "days_ago": 12}]' >/dev/null || fail "seeding"

cat >"$T/config.yml" <<YAML
client_id: retirectl-test-client
client_secret: sdk-S3cret-$$
base_urls:
  lms: $URL/
acme_archive:
  base_url: $URL/vendor/webhook/acme
  api_token: acme-T0ken-$$
YAML
cat "$T/pipeline.yml" >>"$T/config.yml"
chmod 600 "$T/config.yml"

# driver-run with a learner file, dry run: nothing is sent
cat >"$T/learner.json" <<JSON
{"user": {"id": 424242, "username": "zed"}, "original_username": "zed", "retired_username": "retired__user_zed"}
JSON
"$RETIRECTL" --config "$T/config.yml" driver-run ACME_ARCHIVE.retire_learner --learner "$T/learner.json" --dry-run \
  >"$T/dry.out" || fail "driver-run --dry-run: $(cat "$T/dry.out")"
grep -q "would send: POST $URL/vendor/webhook/acme/learners/424242/retire" "$T/dry.out" || fail "dry run: $(cat "$T/dry.out")"
grep -q "Authorization: Bearer \*\*\*\*\*\*\*\*" "$T/dry.out" || fail "token not masked: $(cat "$T/dry.out")"

"$RETIRECTL" --config "$T/config.yml" check-config >"$T/check.out" || fail "check-config: $(cat "$T/check.out")"
"$RETIRECTL" --config "$T/config.yml" retire jane >"$T/retire.out" 2>"$T/retire.err" || fail "retire: $(cat "$T/retire.out" "$T/retire.err")"
record=$(curl -sf "$URL/__sim/learners?username=jane")
end=$(date +%s.%N)
echo "$record" | grep -Eq '"current_state": *\{[^}]*"state_name": *"COMPLETE"' || fail "jane is not COMPLETE: $record"
grep -q "ACME_ARCHIVE.retire_learner" "$T/retire.out" || fail "the step did not run: $(cat "$T/retire.out")"
log=$(curl -sf "$URL/__sim/requests?path=/vendor/webhook/acme/learners/")
echo "$log" | grep -q "/retire" || fail "the driver's POST did not reach the service: $log"
echo "$log" | grep -q "Bearer acme-T0ken-$$" || fail "no bearer token in: $log"
if grep -q "acme-T0ken-$$" "$T/retire.out" "$T/retire.err"; then fail "the token was printed"; fi
awk -v s="$start" -v e="$end" 'BEGIN { printf "new-driver to a learner COMPLETE through ACME_ARCHIVE: %.1f s\n", e - s }'
echo "ok"
