#!/bin/sh
# Regenerates docs/report-screenshot.png: an example report (synthetic Python workers
# profile analyzed by forkcast + a sample experiment, from Tests/ForkcastTestSupport/ReportFixtures.swift)
# rendered by `forkcast report` and shot in headless Chromium. DARK=1 for the dark theme.
set -e
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
FORKCAST_EXAMPLE_DIR="$work" swift test --filter ExampleInputs >/dev/null
swift build --product forkcast >/dev/null
"$(swift build --show-bin-path)/forkcast" report "$work/example.profile.json" \
    "$work/example.experiment.json" -o "$work/example.html" >/dev/null
dark=""
[ -n "$DARK" ] && dark="--force-dark-mode --blink-settings=preferredColorScheme=0"
chromium --headless=new --disable-gpu --no-sandbox --user-data-dir="$work/chrome" --hide-scrollbars $dark \
    --window-size=1280,${HEIGHT:-2000} --virtual-time-budget=3000 --run-all-compositor-stages-before-draw \
    --screenshot="${OUT:-docs/report-screenshot.png}" "file://$work/example.html" 2>/dev/null
echo "${OUT:-docs/report-screenshot.png}"
