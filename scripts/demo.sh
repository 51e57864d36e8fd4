#!/usr/bin/env bash
# Installs what is missing, builds, and opens the console on the demo simulator.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
exec build/src/cli/retirectl demo "$@"
