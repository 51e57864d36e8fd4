#!/usr/bin/env bash
# Installs the Debian packages retirectl needs to build, test and run, only when missing.
# Safe to run any number of times. Needs root (or sudo) only when something is missing.
# zsh: the completion test; debhelper, dpkg-dev, fakeroot, lintian: scripts/package-test.sh.
set -euo pipefail

packages=(build-essential cmake pkg-config libncurses-dev libcurl4-openssl-dev
          libcjson-dev libyaml-dev libcmocka-dev libmicrohttpd-dev tmux ca-certificates
          libssl-dev libsqlite3-dev libpq-dev postgresql clang zlib1g-dev curl
          zsh debhelper dpkg-dev fakeroot lintian)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# node and npm run the test tools below; machines usually have them (NodeSource builds bundle
# npm), Debian's packages are the fallback.
if ! command -v npm >/dev/null 2>&1; then missing+=(nodejs npm); fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#packages[@]} packages present"
else
  echo "deps: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Test tools from the npm registry, pinned by build-tools/package-lock.json, installed into
# build-tools/node_modules (never a global path): s3rver, the S3 API the cleanup tests use.
tools="$(cd "$(dirname "$0")/.." && pwd)/build-tools"
if [ ! -f "$tools/node_modules/s3rver/package.json" ] ||
   ! cmp -s "$tools/package-lock.json" "$tools/node_modules/.package-lock.json.installed" 2>/dev/null; then
  echo "deps: installing test tools into build-tools/node_modules (npm ci)"
  (cd "$tools" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$tools/package-lock.json" "$tools/node_modules/.package-lock.json.installed"
else
  echo "deps: test tools present in build-tools/node_modules"
fi
