#!/usr/bin/env bash
# Benchmark: `forkcast analyze` on a synthetic profile of 1,000,000 samples (16 threads in
# 4 processes, every state, 2,000 distinct stacks), including reading and decoding the
# gzip file. Prints each run's wall time and the median. Target: under 2 s.
#
#   benchmarks/analyze/run.sh [SAMPLES] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
samples=${1:-1000000}
runs=${2:-5}
work=${TMPDIR:-/tmp}/forkcast-bench-analyze
mkdir -p "$work"
profile="$work/large-$samples.profile.json.gz"

swift build -c release --product forkcast >/dev/null
if [ ! -s "$profile" ]; then
    echo "writing $profile ..."
    FORKCAST_BENCH_PROFILE="$profile" FORKCAST_BENCH_SAMPLES="$samples" \
        swift test --filter SyntheticProfileWriter/testWriteBenchmarkProfile >/dev/null
fi
echo "profile: $profile ($(du -h "$profile" | cut -f1), $samples samples)"

times=()
for i in $(seq "$runs"); do
    start=$(date +%s%N)
    .build/release/forkcast analyze --json "$profile" >/dev/null
    end=$(date +%s%N)
    ms=$(( (end - start) / 1000000 ))
    times+=("$ms")
    printf 'run %d: %d ms\n' "$i" "$ms"
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}')
echo "median: $median ms (target < 2000 ms)"
