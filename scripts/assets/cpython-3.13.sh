#!/usr/bin/env bash
# Builds (once) CPython 3.13 twice from Debian trixie's `python3.13` source package:
#   ~/.cache/forkcast/cpython-3.13/gil/bin/python3.13    default build (with the GIL)
#   ~/.cache/forkcast/cpython-3.13/ft/bin/python3.13t    free-threaded (./configure --disable-gil)
# No PGO/LTO, unstripped (take_gil etc. keep their symbols). A few minutes a build on 2 cores.
# Used by the recorder's Python tests and by `experiment --python python3.13,python3.13t`.
#
# Usage: scripts/assets/cpython-3.13.sh   prints the cache directory (holding gil/ and ft/)
#        FORKCAST_CACHE=DIR overrides ~/.cache/forkcast
#
# The source comes through apt with a private configuration and state directory (a
# deb-src line for trixie; the host's sources are not touched; sid's CPython sources are
# not served by this archive). The archive is a dated snapshot, so Valid-Until is not
# checked. The upstream tarball of the source package (python3.13_*.orig.tar.xz) is
# built as is: Debian's patches adapt it to Debian's file layout, which a build under
# ~/.cache does not want.
set -euo pipefail

cache="${FORKCAST_CACHE:-$HOME/.cache/forkcast}"
out="$cache/cpython-3.13"
stamp_text="trixie python3.13 | gil: default | ft: --disable-gil | no pgo/lto | v1"

# Each flavour is complete once its own stamp is written, so an interrupted run keeps
# the flavour it finished.
flavour_ready() { [ -f "$out/$1/.forkcast-stamp" ] && [ "$(cat "$out/$1/.forkcast-stamp")" = "$stamp_text" ]; }
ready() { flavour_ready gil && [ -x "$out/gil/bin/python3.13" ] && flavour_ready ft && [ -x "$out/ft/bin/python3.13t" ]; }
# The free-threaded install also names itself python3.13 and python3 (hard link and
# symlink to python3.13t): in ft/ only python3.13t may exist, or a lookup of
# `python3.13` through the cache can find the free-threaded build.
unname_ft() { rm -f "$out/ft/bin/python3.13" "$out/ft/bin/python3"; }
if ready; then unname_ft; echo "$out"; exit 0; fi

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
build_deps=(gcc make xz-utils pkg-config libssl-dev libffi-dev zlib1g-dev libbz2-dev liblzma-dev)
missing=()
for p in "${build_deps[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "cpython-3.13: installing build dependencies ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

mkdir -p "$cache"
exec 9>"$cache/.cpython-3.13.lock"
flock 9
# Another run may have finished while we waited for the lock.
if ready; then echo "$out"; exit 0; fi

work="$cache/.cpython-3.13.work.$$"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

# A private apt: sources, lists and downloads all under $work/apt.
apt_dir="$work/apt"
mkdir -p "$apt_dir/sources.list.d" "$apt_dir/state/lists/partial" "$apt_dir/cache/archives/partial"
echo "deb-src http://deb.debian.org/debian trixie main" > "$apt_dir/sources.list"
apt_opts=(
  -o "Dir::Etc::sourcelist=$apt_dir/sources.list"
  -o "Dir::Etc::sourceparts=$apt_dir/sources.list.d"
  -o "Dir::State=$apt_dir/state"
  -o "Dir::Cache=$apt_dir/cache"
  -o "Acquire::Check-Valid-Until=false"
  -o "APT::Sandbox::User=root"
)
echo "cpython-3.13: fetching trixie's python3.13 source package" >&2
apt-get -qq "${apt_opts[@]}" update >&2
(cd "$work" && apt-get -qq "${apt_opts[@]}" source --download-only python3.13 >&2)
orig=$(ls "$work"/python3.13_*.orig.tar.xz | head -n1)
[ -n "$orig" ] || { echo "cpython-3.13: no python3.13 orig tarball in trixie's source package" >&2; exit 1; }
echo "cpython-3.13: building $(basename "$orig") (gil and free-threaded; a few minutes each)" >&2

jobs=$(nproc 2>/dev/null || echo 2)
build_one() { # flavour configure-flags...
  local flavour=$1; shift
  flavour_ready "$flavour" && return 0
  local src="$work/src-$flavour"
  mkdir -p "$src"
  tar -xJf "$orig" -C "$src" --strip-components=1
  (
    cd "$src"
    # No test modules: the tests need none, and compiling Lib/test's .pyc files at
    # install time is most of the install.
    ./configure --prefix="$out/$flavour" --without-ensurepip --disable-test-modules "$@" \
      > "$work/configure-$flavour.log" 2>&1 || { tail -n 30 "$work/configure-$flavour.log" >&2; exit 1; }
    make -j"$jobs" > "$work/make-$flavour.log" 2>&1 || { tail -n 40 "$work/make-$flavour.log" >&2; exit 1; }
    make install DESTDIR="$work/dest-$flavour" > "$work/install-$flavour.log" 2>&1 ||
      { tail -n 30 "$work/install-$flavour.log" >&2; exit 1; }
  )
  # Configured with its final prefix and installed under a DESTDIR: move it in place.
  rm -rf "${out:?}/$flavour"
  mkdir -p "$out"
  mv "$work/dest-$flavour$out/$flavour" "$out/$flavour"
  echo "$stamp_text" > "$out/$flavour/.forkcast-stamp"
}
build_one gil
build_one ft --disable-gil
unname_ft

"$out/gil/bin/python3.13" -c 'import sys; assert sys._is_gil_enabled()' >&2
"$out/ft/bin/python3.13t" -c 'import sys, sysconfig; assert sysconfig.get_config_var("Py_GIL_DISABLED") == 1; assert not sys._is_gil_enabled()' >&2
echo "$out"
