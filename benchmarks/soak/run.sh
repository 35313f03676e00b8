#!/usr/bin/env bash
# Soak test: records benchmarks/soak/churn.c (hundreds of threads alive at once, threads
# and children created and ended all the time) for SECONDS (default 600) and checks
# forkcast's memory, sample rate, thread/process coverage and that nothing is left stopped.
#
#   benchmarks/soak/run.sh [SECONDS]
#   SOAK_ALIVE=300 SOAK_RATE=50 SOAK_OUT=/tmp/soak benchmarks/soak/run.sh 120
#   FORKCAST=.build/release/forkcast benchmarks/soak/run.sh     (default .build/debug/forkcast)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
seconds="${1:-600}"
forkcast="${FORKCAST:-$root/.build/debug/forkcast}"
if [[ ! -x "$forkcast" ]]; then (cd "$root" && swift build --product forkcast); fi
churn="$(mktemp -d)/churn"
cc -O2 -g -pthread -o "$churn" "$root/benchmarks/soak/churn.c"
exec python3 "$root/benchmarks/soak/soak.py" --forkcast "$forkcast" --churn "$churn" --seconds "$seconds" \
    --alive "${SOAK_ALIVE:-200}" --rate "${SOAK_RATE:-20}" --min-rate-ratio "${SOAK_MIN_RATE_RATIO:-0.5}" \
    ${SOAK_OUT:+--out "$SOAK_OUT"}
