#!/usr/bin/env bash
# Runs the test suite under AddressSanitizer and ThreadSanitizer, each in its own
# scratch path so the normal .build stays untouched.
#
#   scripts/sanitizers.sh              both, address then thread
#   scripts/sanitizers.sh address      one of them (address | thread)
#   scripts/sanitizers.sh thread --filter ForkcastModelTests   extra args go to `swift test`
#
# Prints the time each took. Exit status non-zero when a sanitizer reported or a test failed.
# Known reports and why they are suppressed are listed in docs/reliability.md.
set -uo pipefail
cd "$(dirname "$0")/.."
kinds=(address thread)
if [[ "${1:-}" == address || "${1:-}" == thread ]]; then kinds=("$1"); shift; fi
extra=("$@")

# ThreadSanitizer suppressions. Each line names a report TSan cannot see through, with the reason.
tsan_supp="$(mktemp)"
trap 'rm -f "$tsan_supp"' EXIT
cat >"$tsan_supp" <<'SUPP'
# Foundation's Process/Pipe and Dispatch use their own locking that TSan does not model
# fully (reports inside swift-corelibs-foundation, not in Forkcast's code).
race:libFoundation.so
race:libdispatch.so
SUPP

status=0
for kind in "${kinds[@]}"; do
    scratch=".build-${kind:0:1}san"
    [[ "$kind" == address ]] && scratch=.build-asan
    [[ "$kind" == thread ]] && scratch=.build-tsan
    start=$(date +%s)
    echo "== $kind sanitizer (scratch path $scratch)"
    # halt_on_error: the first report fails the run. detect_leaks=0: the test processes
    # fork and exec fixtures; LeakSanitizer cannot run under ptrace-heavy tests and
    # Swift's runtime keeps metadata caches alive on purpose.
    export ASAN_OPTIONS="halt_on_error=1:detect_leaks=0:abort_on_error=0"
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$tsan_supp"
    if swift build --build-tests --sanitize="$kind" --scratch-path "$scratch" &&
       swift test --skip-build --disable-swift-testing --sanitize="$kind" --scratch-path "$scratch" ${extra[@]+"${extra[@]}"}; then
        result=clean
    else
        result=FAILED
        status=1
    fi
    echo "== $kind sanitizer: $result in $(( $(date +%s) - start )) s"
done
exit $status
