#!/usr/bin/env bash
# Rate benchmark of `forkcast record` (see README.md in this folder).
#   benchmarks/rate/run.sh            # 5 interleaved rounds (ROUNDS=N to change)
#   QUICK=1 benchmarks/rate/run.sh    # 2 rounds of short programs
# Builds what it needs (forkcast in release mode, idle_threads.c, py-spy from PyPI), then
# runs bench.py, which prints the table and the targets and writes a JSON results file.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="$here/build"
# shellcheck source=../lib.sh
source "$here/../lib.sh"

bench_resolve_python
bench_build_forkcast
bench_compile_c idle_threads
bench_find_py_spy

[[ -x /usr/lib/postgresql/15/bin/postgres ]] || say "PostgreSQL 15 is not installed (apt-get install -y postgresql-15): its rows are skipped"

export FORKCAST BENCH_PYTHON="$bench_python" PY_SPY="$py_spy" IDLE_BIN="$build/idle_threads"
exec "$bench_python" "$here/bench.py"
