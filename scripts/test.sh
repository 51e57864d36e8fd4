#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test through ctest.
#   scripts/test.sh              normal build in ./build, then the packages (scripts/package-test.sh)
#   scripts/test.sh --sanitize   AddressSanitizer + UBSan build in ./build-asan
# Warnings are errors when CI=true (or RETIRECTL_WERROR=ON).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh

build=build
opts=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
if [ "${1:-}" = "--sanitize" ]; then
  build=build-asan
  opts+=(-DRETIRECTL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
fi
if [ "${CI:-}" = "true" ] || [ "${RETIRECTL_WERROR:-}" = "ON" ]; then
  opts+=(-DRETIRECTL_WERROR=ON)
fi

cmake -S . -B "$build" "${opts[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)"
export LC_ALL=C.UTF-8
if [ "$build" = build-asan ]; then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
(cd "$build" && ctest --output-on-failure -j"$(nproc)" --timeout 900)
# The Debian packages, built and used from a temporary root: once, not in the sanitizer pass.
if [ "$build" = build ]; then bash scripts/package-test.sh; fi
