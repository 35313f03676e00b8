#!/usr/bin/env bash
# Overhead benchmark of `forkcast record` (see README.md in this folder).
#   benchmarks/overhead/run.sh            # 7 interleaved rounds (ROUNDS=N to change)
#   QUICK=1 benchmarks/overhead/run.sh    # 2 rounds of short programs, ~2 minutes
# Prepares everything it needs (release build of forkcast, the C program, py-spy,
# perf), then runs bench.py, which prints the table and the targets and writes the
# JSON results file.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="$here/build"
# shellcheck source=../lib.sh
source "$here/../lib.sh"

# The interpreter that runs the Python program (and this script's bench.py).
bench_resolve_python
# 1. forkcast, release mode.
bench_build_forkcast
# 2. The C program, built like a typical release binary.
bench_compile_c mutex_work
# 3. py-spy (pip), run from the same Python's scripts directory.
bench_find_py_spy

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
