#!/usr/bin/env bash
# Runs the libFuzzer targets (built by fuzz/build.sh) over their corpora.
#
#   fuzz/run.sh --ci            ~60 s of fuzzing in all (split over the targets)
#   fuzz/run.sh [SECONDS]       SECONDS per target (default 600)
#   fuzz/run.sh SECONDS TARGET  one target (profile | proc | elf)
#
# Seeds come from fuzz/seeds/TARGET and fuzz/regressions/TARGET; the growing corpus is
# kept in fuzz/.build/corpus/TARGET (not in git). A crash, leak or timeout stops the run
# with a non-zero exit; its input is written to fuzz/.build/crashes/TARGET/. Turn it into
# a regression test by copying it into fuzz/regressions/TARGET/ (replayed by
# Tests/ForkcastHardeningTests/FuzzRegressionTests.swift) and fixing the reader.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/fuzz/.build"
all_targets=(profile proc elf)

seconds=600
if [[ "${1:-}" == "--ci" ]]; then seconds=$(( 60 / ${#all_targets[@]} )); shift
elif [[ -n "${1:-}" ]]; then seconds="$1"; shift; fi
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=("${all_targets[@]}")

"$root/fuzz/build.sh" "${targets[@]}" || exit 1

# Swift's own crash handler would run first and confuse ASan's report (it reads memory
# ASan has poisoned); let libFuzzer report the trap with its stack.
export SWIFT_BACKTRACE=enable=no
status=0
total_runs=0
for t in "${targets[@]}"; do
    mkdir -p "$out/corpus/$t" "$out/crashes/$t" "$root/fuzz/regressions/$t"
    log="$out/$t.log"
    # -timeout: one input taking over 10 s is a hang; -rss_limit_mb: a reader that
    # balloons on a small input is a bug too. Inputs up to 1 MiB (huge maps files).
    "$out/fuzz-$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=1048576 \
        -artifact_prefix="$out/crashes/$t/" -print_final_stats=1 \
        "$out/corpus/$t" "$root/fuzz/seeds/$t" "$root/fuzz/regressions/$t" >"$log" 2>&1
    rc=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    runs=${runs:-0}
    total_runs=$(( total_runs + runs ))
    if [[ $rc -ne 0 ]]; then
        status=1
        echo "fuzz $t: FAILED after $runs executions (exit $rc); input in $out/crashes/$t/, log $log"
        grep -m3 -E 'ERROR|Fatal error|panic|deadly signal' "$log" | sed 's/^/    /'
    else
        echo "fuzz $t: $runs executions in ${seconds}s, no crash (corpus: $(ls "$out/corpus/$t" | wc -l) inputs)"
    fi
done
echo "fuzz: $total_runs executions in all"
exit $status
