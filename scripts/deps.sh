#!/usr/bin/env bash
# Installs the Debian packages retirectl needs to build, test and run, only when missing.
# Safe to run any number of times. Needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(build-essential cmake pkg-config libncurses-dev libcurl4-openssl-dev
          libcjson-dev libyaml-dev libcmocka-dev libmicrohttpd-dev tmux ca-certificates
          libssl-dev libsqlite3-dev libpq-dev postgresql clang curl)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
