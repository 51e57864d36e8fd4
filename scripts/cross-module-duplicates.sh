#!/bin/sh
# Lists the copy-paste pairs (from the `duplicates` tool) whose two sides lie in
# two different modules of src/, sim/ and plugins/ (a module is a file's folder,
# e.g. src/engine, src/ui, sim/vendor, plugins/hubspot). Usage:
#   scripts/cross-module-duplicates.sh [MOST]     (default 60 rows)
# Used to measure the repeats issue 15 asks to remove; it changes nothing.
set -eu
most=${1:-60}
cd "$(dirname "$0")/.."
duplicates --most 200 --seconds 120 | awk -v most="$most" '
    /^D[0-9]+ / {
        a = $2; b = $4
        sub(/:[0-9-]+$/, "", a); sub(/:[0-9-]+$/, "", b)
        if (a !~ /^(src|sim|plugins)\// || b !~ /^(src|sim|plugins)\//) next
        da = a; db = b; sub(/\/[^\/]*$/, "", da); sub(/\/[^\/]*$/, "", db)
        if (da == db) next
        n++
        if (n <= most) print
        next
    }
    /^(left out|incomplete):/ { print }
    END { printf "%d cross-module pairs\n", n }'
