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
# sanitizer build: the projects compiled here link the instrumented mock host library; CMake and
# the compile checks read CFLAGS / CXXFLAGS / LDFLAGS
if [ -n "${RETIRECTL_SDK_SANITIZE:-}" ]; then
  export CFLAGS="$RETIRECTL_SDK_SANITIZE" CXXFLAGS="$RETIRECTL_SDK_SANITIZE" LDFLAGS="$RETIRECTL_SDK_SANITIZE"
fi
mkdir -p "$XDG_CONFIG_HOME"
