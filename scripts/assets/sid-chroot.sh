#!/usr/bin/env bash
# Builds (once) a Debian sid chroot holding the CPython versions Forkcast is tested on
# beyond the host's 3.11: python3.13, python3.14, python3.15 (Debian's packages only).
# Cached under ~/.cache/forkcast/; rebuilt only when the package list below changes.
#
# Usage: scripts/assets/sid-chroot.sh        prints the chroot's path on stdout
#        FORKCAST_CACHE=DIR overrides ~/.cache/forkcast
#
# Programs in the chroot are run with `chroot DIR python3.14 …` (or `unshare -m --root`)
# and recorded from outside: the container case of the recorder.
set -euo pipefail

cache="${FORKCAST_CACHE:-$HOME/.cache/forkcast}"
packages="python3.13,python3.14,python3.15"
# Debug symbols where sid still ships them (take_gil etc. are static functions).
optional_packages="python3.13-dbg python3.14-dbg python3.15-dbg"
stamp_text="sid $packages | $optional_packages | v1"
dir="$cache/sid-chroot"

if [ -f "$dir/.forkcast-stamp" ] && [ "$(cat "$dir/.forkcast-stamp")" = "$stamp_text" ]; then
  echo "$dir"; exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "sid-chroot: must run as root to build $dir" >&2; exit 1
fi
command -v mmdebstrap >/dev/null || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null
}

mkdir -p "$cache"
exec 9>"$cache/.sid-chroot.lock"
flock 9
# Another run may have finished while we waited for the lock.
if [ -f "$dir/.forkcast-stamp" ] && [ "$(cat "$dir/.forkcast-stamp")" = "$stamp_text" ]; then
  echo "$dir"; exit 0
fi

tmp="$dir.tmp.$$"
rm -rf "$tmp"
echo "sid-chroot: building $dir (Debian sid: $packages; about a minute)" >&2
# The archive is a dated snapshot: its Release files are past their Valid-Until.
mmdebstrap --quiet --variant=apt \
  --aptopt='Acquire::Check-Valid-Until "false"' \
  --include="$packages" \
  --customize-hook='chroot "$1" sh -c "for p in '"$optional_packages"'; do apt-get install -y -qq \$p >/dev/null 2>&1 || echo \"sid-chroot: \$p not available\" >&2; done; apt-get clean"' \
  sid "$tmp" http://deb.debian.org/debian >&2
echo "$stamp_text" > "$tmp/.forkcast-stamp"
rm -rf "$dir"
mv "$tmp" "$dir"
echo "$dir"
