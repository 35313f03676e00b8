#!/usr/bin/env bash
# Overhead benchmark of `forkcast record` (see README.md in this folder).
#   benchmarks/overhead/run.sh            # 7 interleaved rounds (ROUNDS=N to change)
#   QUICK=1 benchmarks/overhead/run.sh    # 2 rounds of short programs, ~2 minutes
# Prepares everything it needs (release build of forkcast, the C program, py-spy,
# perf), then runs bench.py, which prints the table and the targets and writes the
# JSON results file.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$here/build"
mkdir -p "$build"

say() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# The interpreter that runs the Python program (and this script's bench.py). pyenv's
# `python3` is a shell shim: resolve the real executable so profilers see CPython itself.
python_cmd="${PYTHON:-python3}"
command -v "$python_cmd" >/dev/null || die "no $python_cmd: install Python 3 (apt-get install -y python3)"
bench_python="$("$python_cmd" -c 'import os, sys; print(os.path.realpath(sys.executable))')"

# 1. forkcast, release mode.
if [[ -z "${FORKCAST:-}" ]]; then
    say "building forkcast (swift build -c release)"
    (cd "$root" && swift build -c release --product forkcast >"$build/swift-build.log" 2>&1) \
        || { tail -20 "$build/swift-build.log" >&2; die "swift build failed (log: $build/swift-build.log)"; }
    FORKCAST="$root/.build/release/forkcast"
fi
[[ -x "$FORKCAST" ]] || die "forkcast binary not found at $FORKCAST"

# 2. The C program, built like a typical release binary: -O2, unwind tables, no frame pointers.
cc="${CC:-cc}"
command -v "$cc" >/dev/null || die "no C compiler ($cc): apt-get install -y gcc"
"$cc" -O2 -g -pthread -o "$build/mutex_work" "$here/mutex_work.c" || die "could not compile mutex_work.c"

# 3. py-spy (pip), run from the same Python's scripts directory.
scripts="$("$bench_python" -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
py_spy="$scripts/py-spy"
if [[ ! -x "$py_spy" ]]; then
    py_spy="$(command -v py-spy || true)"
fi
if [[ -z "$py_spy" ]]; then
    say "installing py-spy (pip)"
    "$bench_python" -m pip install --quiet py-spy || say "pip install py-spy failed: the py-spy rows are skipped"
    py_spy="$scripts/py-spy"
    [[ -x "$py_spy" ]] || py_spy=""
fi

# 4. perf (Debian: linux-perf). Only the software cpu-clock event is used.
perf_bin="$(command -v perf || true)"
if [[ -z "$perf_bin" ]]; then
    say "installing perf (apt-get install -y linux-perf)"
    apt-get install -y linux-perf >"$build/apt.log" 2>&1 || say "could not install linux-perf: the perf rows are skipped"
    perf_bin="$(command -v perf || true)"
fi
if [[ -n "$perf_bin" ]] && ! "$perf_bin" record -q -e cpu-clock -g -o "$build/probe.perf.data" -- true >/dev/null 2>&1; then
    say "perf record -e cpu-clock does not work here: the perf rows are skipped"
    perf_bin=""
fi
rm -f "$build/probe.perf.data"

export FORKCAST BENCH_PYTHON="$bench_python" PY_SPY="$py_spy" PERF="$perf_bin" MUTEX_BIN="$build/mutex_work"
exec "$bench_python" "$here/bench.py"
