#!/usr/bin/env python3
"""Tracer CPU per sample of two forkcast binaries, side by side (interleaved rounds) on
idle_threads: what a change to the per-tick path costs or saves, end to end.

  benchmarks/rate/tracer_cost.py OLD_FORKCAST NEW_FORKCAST IDLE_THREADS_BIN [ROUNDS]

Rows: 160 threads (2 busy) at 1000 Hz, 2,000 threads (2 busy, each idle one waking once a
second) at 100 Hz. Prints the median over rounds of stats.tracerCPUNs / samplesTaken,
the reused share, and new/old. Standard library only."""
import json, os, statistics, subprocess, sys, tempfile

old, new, idle = sys.argv[1:4]
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 3
rows = [("c160@1000", ["160", "2", "300000"], "1000"), ("c2000@100", ["2000", "2", "300000", "1000"], "100")]
results = {}
with tempfile.TemporaryDirectory() as tmp:
    for r in range(rounds):
        for label, args, rate in rows:
            for name, binary in (("old", old), ("new", new)):
                out = os.path.join(tmp, "p.json")
                subprocess.run([binary, "record", "-q", "--rate", rate, "-o", out, "--", idle, *args],
                               check=True, stdout=subprocess.DEVNULL)
                st = json.load(open(out))["stats"]
                results.setdefault((label, name), []).append(
                    (st["tracerCPUNs"] / max(1, st["samplesTaken"]), st["reusedSamples"] / max(1, st["samplesTaken"]),
                     st["samplesTaken"] / max(1, st["samplesExpected"])))
print(f"load average: {open('/proc/loadavg').read().split()[:3]}  rounds: {rounds}")
print(f"{'row':12} {'old µs/sample':>14} {'new µs/sample':>14} {'new/old':>8} {'reused old/new':>15} {'of asked old/new':>17}")
for label, _, _ in rows:
    o, n = results[(label, "old")], results[(label, "new")]
    mo, mn = statistics.median(x[0] for x in o) / 1000, statistics.median(x[0] for x in n) / 1000
    ro, rn = statistics.median(x[1] for x in o), statistics.median(x[1] for x in n)
    ao, an = statistics.median(x[2] for x in o), statistics.median(x[2] for x in n)
    print(f"{label:12} {mo:14.2f} {mn:14.2f} {mn / mo:7.2f}x {ro:7.0%}/{rn:<7.0%} {ao:8.0%}/{an:<8.0%}")
