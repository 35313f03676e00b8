#!/usr/bin/env bash
# Rate benchmark of `forkcast record` (see README.md in this folder).
#   benchmarks/rate/run.sh            # 5 interleaved rounds (ROUNDS=N to change)
#   QUICK=1 benchmarks/rate/run.sh    # 2 rounds of short programs
# Builds what it needs (forkcast in release mode, idle_threads.c, py-spy from PyPI), then
# runs bench.py, which prints the table and the targets and writes a JSON results file.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$here/build"
mkdir -p "$build"

say() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

python_cmd="${PYTHON:-python3}"
command -v "$python_cmd" >/dev/null || die "no $python_cmd: install Python 3 (apt-get install -y python3)"
# pyenv's python3 is a shell shim: resolve the real interpreter so profilers see CPython.
bench_python="$("$python_cmd" -c 'import os, sys; print(os.path.realpath(sys.executable))')"

if [[ -z "${FORKCAST:-}" ]]; then
    say "building forkcast (swift build -c release)"
    (cd "$root" && swift build -c release --product forkcast >"$build/swift-build.log" 2>&1) \
        || { tail -20 "$build/swift-build.log" >&2; die "swift build failed (log: $build/swift-build.log)"; }
    FORKCAST="$root/.build/release/forkcast"
fi
[[ -x "$FORKCAST" ]] || die "forkcast binary not found at $FORKCAST"

cc="${CC:-cc}"
command -v "$cc" >/dev/null || die "no C compiler ($cc): apt-get install -y gcc"
# Like a typical release build: -O2, unwind tables, no frame pointers.
"$cc" -O2 -g -pthread -o "$build/idle_threads" "$here/idle_threads.c" || die "could not compile idle_threads.c"

scripts="$("$bench_python" -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
py_spy="$scripts/py-spy"
[[ -x "$py_spy" ]] || py_spy="$(command -v py-spy || true)"
if [[ -z "$py_spy" ]]; then
    say "installing py-spy (pip)"
    "$bench_python" -m pip install --quiet py-spy || say "pip install py-spy failed: the py-spy rows are skipped"
    py_spy="$scripts/py-spy"
    [[ -x "$py_spy" ]] || py_spy=""
fi

[[ -x /usr/lib/postgresql/15/bin/postgres ]] || say "PostgreSQL 15 is not installed (apt-get install -y postgresql-15): its rows are skipped"

export FORKCAST BENCH_PYTHON="$bench_python" PY_SPY="$py_spy" IDLE_BIN="$build/idle_threads"
exec "$bench_python" "$here/bench.py"
