#!/usr/bin/env bash
# Installs what Forkcast needs on a Debian machine, only what is missing.
# Usage: scripts/setup.sh [--test]   (--test adds what the test suite needs)
set -euo pipefail

want_tests=0
[ "${1:-}" = "--test" ] && want_tests=1

apt_packages=(libunwind-dev libelf-dev zlib1g-dev liblzma-dev pkg-config gcc python3.11-dbg)
if [ "$want_tests" = 1 ]; then
  # nodejs and python3-pyflakes lint the embedded assets (assets/README.md).
  apt_packages+=(g++ binutils nodejs python3-pyflakes)
  # Real servers from Debian's packages (Tests/ForkcastTestSupport/RealServers.swift),
  # gdb for the unwinding-parity test, mmdebstrap for the container test's chroot.
  apt_packages+=(postgresql postgresql-contrib nginx-light redis-server redis-tools memcached
                 libmemcached-tools wrk gdb mmdebstrap)
fi

missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "setup: Swift 6 is required (https://www.swift.org/install/linux/)" >&2
  exit 1
fi

if [ "$want_tests" = 1 ]; then
  # Real consumers of the report formats: headless Chromium, Go's pprof, jsonschema.
  Tests/ForkcastReportTests/browser/ensure-chromium.sh >/dev/null
  py=python3
  pip_missing=()
  $py -c "import jsonschema" 2>/dev/null || pip_missing+=(jsonschema)
  if [ "${#pip_missing[@]}" -gt 0 ]; then
    echo "setup: pip installing ${pip_missing[*]}" >&2
    $py -m pip install -q "${pip_missing[@]}"
  fi
  # Test interpreters beyond the host's 3.11 (docs/python.md), cached under
  # ~/.cache/forkcast/: CPython 3.13, 3.14, 3.15 in a Debian sid chroot, and 3.13 with
  # and without the GIL (3.13t) built from trixie's python3.13 source package.
  scripts/assets/sid-chroot.sh >/dev/null
  scripts/assets/cpython-3.13.sh >/dev/null
fi
echo "setup: ok" >&2
