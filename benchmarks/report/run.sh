#!/bin/sh
# Report benchmark: renders a ~1,000,000-sample profile to HTML (and the exports) with a
# release build, and loads the HTML in headless Chromium. Prints time and size per
# format, and the page's time to interactive. Budgets (issue 6): HTML < 3 s and < 10 MB,
# interactive < 2 s. Not a test: figures vary with the machine.
#
# usage: benchmarks/report/run.sh [SAMPLES=1000000] [THREADS=64]
set -e
cd "$(dirname "$0")/../.."
samples=${1:-1000000}
threads=${2:-64}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
swift build -c release --product forkcast >/dev/null
bin=$(swift build -c release --show-bin-path)/forkcast
python3 benchmarks/report/make_profile.py "$work/big.profile.json.gz" "$samples" "$threads"
now() { date +%s.%N; }
echo "format      seconds   bytes"
for fmt in html json speedscope folded chrome pprof; do
    t0=$(now)
    "$bin" report "$work/big.profile.json.gz" --format "$fmt" -o "$work/out.$fmt" >/dev/null
    t1=$(now)
    printf '%-10s %8.2f %10d\n' "$fmt" "$(echo "$t1 - $t0" | bc)" "$(stat -c %s "$work/out.$fmt")"
done
# The CLI times above include reading the profile (json renders in milliseconds, so its
# line is mostly the read). Render-only figures, in-process, release build:
FORKCAST_BENCH="$samples" FORKCAST_BENCH_OUT="$work" swift test -c release --filter RenderBenchmark 2>&1 | grep '^bench:' || true
if command -v chromium >/dev/null 2>&1; then
    # Reports carry no test hook: add the tests' self-test as a second inline script.
    python3 - "$work/out.html" Tests/ForkcastReportTests/browser/selftest.js "$work/selftest.html" <<'PY'
import sys
page, script, out = sys.argv[1:]
html = open(page, encoding="utf-8").read()
at = html.rindex("</body>")
open(out, "w", encoding="utf-8").write(html[:at] + "<script>\n" + open(script, encoding="utf-8").read() + "</script>\n" + html[at:])
PY
    t0=$(now)
    chromium --headless=new --disable-gpu --no-sandbox --user-data-dir="$work/chrome" --window-size=1280,1600 \
        --dump-dom "file://$work/selftest.html" 2>/dev/null > "$work/dom.html"
    t1=$(now)
    ready=$(sed -n 's/.*"readyMs":\([0-9]*\).*/\1/p' "$work/dom.html")
    errors=$(sed -n 's/.*"errors":\[\([^]]*\)\].*/\1/p' "$work/dom.html" | head -c 300)
    echo "chromium: script done ${ready} ms after navigation start; whole headless run $(echo "$t1 - $t0" | bc) s; errors: [${errors}]"
else
    echo "chromium not installed: skipped the page-load measurement"
fi
