#!/usr/bin/env bash
# What reading Python costs per CPython version (see README.md in this folder).
#   benchmarks/python/run.sh            # 3 interleaved rounds, ~10 minutes on 2 cores
#   QUICK=1 benchmarks/python/run.sh    # 1 round of a shorter program, ~3 minutes
# Interpreters: Debian's /usr/bin/python3.11; a 3.12 if one is installed (pyenv or
# FORKCAST_PYTHON312); 3.13 and 3.13t built by scripts/assets/cpython-3.13.sh; 3.13,
# 3.14 and 3.15 in the sid chroot of scripts/assets/sid-chroot.sh (as root). Missing
# ones are skipped and listed. ONLY=3.11,3.14 restricts them.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if [[ -z "${FORKCAST:-}" ]]; then
    echo "bench-python: building forkcast (swift build -c release)" >&2
    (cd "$root" && swift build -c release --product forkcast >/dev/null) || { echo "bench-python: swift build failed" >&2; exit 1; }
    FORKCAST="$root/.build/release/forkcast"
fi
if [[ -z "${PY_SPY+x}" ]]; then
    PY_SPY="$(command -v py-spy || true)"
    if [[ -z "$PY_SPY" ]]; then
        python3 -m pip install --quiet py-spy >&2 || echo "bench-python: pip install py-spy failed: no py-spy rows" >&2
        PY_SPY="$(command -v py-spy || true)"
    fi
fi
export FORKCAST PY_SPY
uptime >&2
exec python3 "$here/bench.py"
