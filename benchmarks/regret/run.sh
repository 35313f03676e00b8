#!/usr/bin/env bash
# Regret of `forkcast experiment`'s advice on real tools and the examples (README.md here).
#   benchmarks/regret/run.sh              # every case (~20–30 min on 2 cores)
#   QUICK=1 benchmarks/regret/run.sh      # smaller inputs
#   ONLY=xz benchmarks/regret/run.sh      # only cases whose name contains "xz"
# Prints a markdown table and writes benchmarks/regret/build/results.json.
# FORKCAST=path uses that binary; otherwise the debug build is built (the timed programs are
# the children, so forkcast's own build mode does not enter the figures).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${OUT:-$here/build}"
mkdir -p "$out"
die() { printf 'regret: %s\n' "$*" >&2; exit 1; }
for tool in xz zstd sort make cc python3; do
    command -v "$tool" >/dev/null || die "$tool is missing: apt-get install -y xz-utils zstd coreutils make gcc python3"
done
# pyenv's python3 is a shell shim: resolve the real interpreter (the swap needs CPython itself).
py="$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))')"
if [[ -z "${FORKCAST:-}" ]]; then
    (cd "$root" && swift build --product forkcast >"$out/swift-build.log" 2>&1) \
        || { tail -20 "$out/swift-build.log" >&2; die "swift build failed (log: $out/swift-build.log)"; }
    FORKCAST="$root/.build/debug/forkcast"
fi
[[ -x "$FORKCAST" ]] || die "forkcast binary not found at $FORKCAST"
uptime >&2
args=(--forkcast "$FORKCAST" --out "$out")
[[ -n "${QUICK:-}" ]] && args+=(--quick)
[[ -n "${ONLY:-}" ]] && args+=(--only "$ONLY")
exec "$py" "$here/regret.py" "${args[@]}"
