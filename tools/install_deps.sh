#!/usr/bin/env bash
# Installs what Chartkeeper needs to build and test on Debian 12 (with --fuzz: to fuzz), and
# nothing else:
# Debian packages (apt) that are missing, and the pinned npm packages in package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config bzip2
  libboost1.81-dev libssl-dev libsqlite3-dev libzstd-dev
  rapidjson-dev libexpat1-dev libcli11-dev libtomlplusplus-dev libspdlog-dev libfmt-dev libexpected-dev
  libbz2-dev zlib1g-dev libarchive-dev libre2-dev libicu-dev libargon2-dev libqrencode-dev
  libgtest-dev libgmock-dev libbenchmark-dev wrk openssl curl
  python3  # tools/verify_audit_export.py (and its tests), bench/search_scale.sh's $everything walkers
)
# `--fuzz`: also clang and its libFuzzer runtime, for `make fuzz` only.
if [ "${1:-}" = "--fuzz" ]; then
  packages+=(clang libclang-rt-14-dev)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Node.js may come from elsewhere (with its own npm); only install Debian's when absent.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if ((${#missing[@]})); then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  echo "installing Debian packages: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
