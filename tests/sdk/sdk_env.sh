# Sourced by the tests/sdk scripts: installs this build into a private prefix $T/prefix (as a
# driver author's machine would have it), exports PKG_CONFIG_PATH and an empty XDG_CONFIG_HOME,
# and removes everything on exit (after running the caller's `on_exit` hook, if defined).
set -euo pipefail
export LC_ALL=C.UTF-8
BUILD=${RETIRECTL_BUILD_DIR:?}
T=$(mktemp -d)
sdk_cleanup() {
  if declare -F on_exit >/dev/null; then on_exit || true; fi
  rm -rf "$T"
}
trap sdk_cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cmake --install "$BUILD" --prefix "$T/prefix" >"$T/install.log" || fail "cmake --install of retirectl failed"
export PKG_CONFIG_PATH="$T/prefix/lib/pkgconfig"
export XDG_CONFIG_HOME="$T/xdg"
mkdir -p "$XDG_CONFIG_HOME"
