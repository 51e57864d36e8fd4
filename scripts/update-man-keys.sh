#!/usr/bin/env bash
# Regenerates the KEYS section of docs/retirectl.1 from the console's key table
# (`retirectl tui --print-keys-man`); the unit test test_ui_keys checks they match.
# usage: scripts/update-man-keys.sh [path/to/retirectl]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$here/build/src/cli/retirectl}"
man="$here/docs/retirectl.1"
keys="$("$bin" tui --print-keys-man)"
python3 - "$man" "$keys" <<'PY'
import sys
path, keys = sys.argv[1], sys.argv[2]
text = open(path).read()
start = text.index(".SH KEYS\n")
end = text.index("\n.SH ", start + 1) + 1
open(path, "w").write(text[:start] + keys.rstrip("\n") + "\n" + text[end:])
PY
