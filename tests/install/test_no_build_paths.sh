#!/usr/bin/env bash
# Installs this build (cmake --install, unstripped) into a temporary prefix and checks that no
# installed program or plugin names the source or the build folder of this machine: debug
# information and __FILE__ go through -ffile-prefix-map / -fmacro-prefix-map (CMakeLists.txt).
# The Debian package test (scripts/package-test.sh) checks the stripped packages the same way.
set -euo pipefail
src="$(cd "$RETIRECTL_SOURCE_DIR" && pwd -P)"
bld="$(cd "$RETIRECTL_BUILD_DIR" && pwd -P)"
prefix="$(mktemp -d "${TMPDIR:-/tmp}/retirectl-install.XXXXXX")"
trap 'rm -rf "$prefix"' EXIT
cmake --install "$bld" --prefix "$prefix" >"$prefix.log" 2>&1 || { cat "$prefix.log" >&2; rm -f "$prefix.log"; exit 1; }
rm -f "$prefix.log"
checked=0 leaks=0
while IFS= read -r f; do
  checked=$((checked + 1))
  n=$(strings -a "$f" | grep -cF -e "$src" -e "$bld" || true)
  if [ "$n" != 0 ]; then
    echo "FAIL: ${f#"$prefix"/} names the build machine's folders $n times, e.g.:" >&2
    strings -a "$f" | grep -F -e "$src" -e "$bld" | head -3 | sed 's/^/  /' >&2
    leaks=$((leaks + 1))
  fi
done < <(find "$prefix" -type f \( -perm -u+x -o -name '*.so' \) | sort)
[ "$checked" -ge 3 ] || { echo "FAIL: only $checked programs and plugins were installed" >&2; exit 1; }
[ "$leaks" = 0 ] || exit 1
echo "no source or build path in $checked installed programs and plugins"
