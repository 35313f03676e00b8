#!/usr/bin/env bash
# Records a bundled example (four pure-Python CPU threads fighting over the GIL) and
# prints where the profile went.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p reports
profile="reports/demo-cpu-threads.profile.json.gz"
.build/debug/forkcast record -o "$profile" -- python3 Tests/Fixtures/python/cpu_threads.py 2 4
echo
echo "demo: profile written to $profile"
