#!/bin/sh
# Prints the N longest C functions (default 15) in src/, sim/ and plugins/, as
# "LINES  FILE:START-END  NAME", longest first. Lengths are ctags' start and end
# lines of each function definition (universal-ctags, package universal-ctags).
# Usage: scripts/longest-functions.sh [N] [DIR...]
set -eu
n=${1:-15}
[ $# -gt 0 ] && shift
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- src sim plugins
ctags -x --languages=C --kinds-C=f --fields=+ne \
      --_xformat='%{line} %{end} %{input} %{name}' -R "$@" |
    awk '$2 ~ /^[0-9]+$/ { printf "%5d  %s:%d-%d  %s\n", $2 - $1 + 1, $3, $1, $2, $4 }' |
    sort -k1,1nr -k2,2 | head -n "$n"
