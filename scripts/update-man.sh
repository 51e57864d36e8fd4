#!/usr/bin/env bash
# Regenerates the generated sections of docs/retirectl.1: KEYS from the console's key table
# (`retirectl tui --print-keys-man`; unit test test_ui_keys checks they match), and GLOBAL OPTIONS
# and COMMANDS from the command table (`retirectl completion man`; tui/test_completion checks
# they match).
# usage: scripts/update-man.sh [path/to/retirectl]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$here/build/src/cli/retirectl}"
man="$here/docs/retirectl.1"
keys="$("$bin" tui --print-keys-man)"
commands="$("$bin" completion man)"
python3 - "$man" "$keys" "$commands" <<'PY'
import sys
path, keys, commands = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(path).read()
# each (first heading, last heading) span is replaced up to the next heading after the last one
for first, last, new in ((".SH KEYS\n", ".SH KEYS\n", keys),
                         (".SH GLOBAL OPTIONS\n", ".SH COMMANDS\n", commands)):
    start = text.index(first)
    end = text.index("\n.SH ", text.index(last, start)) + 1
    text = text[:start] + new.rstrip("\n") + "\n" + text[end:]
open(path, "w").write(text)
PY
