#!/usr/bin/env bash
# The demo: records a bundled example (pure-Python CPU work on four threads, fighting
# over the GIL), analyzes it, writes the HTML report, and prints where everything went.
set -euo pipefail
cd "$(dirname "$0")/.."
forkcast=.build/debug/forkcast
mkdir -p reports
profile="reports/demo-cpu-bound.profile.json.gz"
$forkcast record -o "$profile" -- python3 examples/cpu_bound.py --strategy threads --workers 4
echo
$forkcast analyze "$profile"
echo
if $forkcast --help | grep -qE "^ +report( |$)"; then
  html="reports/demo-cpu-bound.html"
  $forkcast report "$profile" --format html -o "$html"
  echo "demo: HTML report: $html"
fi
echo "demo: profile: $profile"
echo "demo: next, measure instead of predicting:"
echo "      $forkcast experiment --workers 1,2 --repeat 3 -- python3 examples/cpu_bound.py"
