#!/usr/bin/env bash
# Builds the profile-io benchmark in release mode and runs it on a 1,000,000-sample
# synthetic profile. Extra arguments go to the benchmark (--samples N, --repeat R,
# --no-baseline). Not part of `swift test`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
swift build -c release --package-path "$here" --product ProfileIOBench >&2
exec "$here/.build/release/ProfileIOBench" "$@"
