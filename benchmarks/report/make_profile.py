#!/usr/bin/env python3
"""Writes a synthetic Forkcast profile (docs/profile-format.md) of about N samples for
the report benchmark: T threads in 4 processes, ~100 distinct deep stacks per thread
mixing Python and native frames, every thread state. Deterministic.

usage: make_profile.py OUT.profile.json[.gz] [SAMPLES=1000000] [THREADS=64]
"""
import gzip, json, sys

out = sys.argv[1]
samples = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
nthreads = int(sys.argv[3]) if len(sys.argv) > 3 else 64
ticks = samples // nthreads
period = 10_000_000
states = [0, 0, 0, 3, 4, 2, 5, 1]  # on_cpu ×3, lock_wait, io_wait, gil_wait, sleep, runnable

frames, frame_index = [], {}
def frame(kind, name, where, line=None):
    key = (kind, name, where, line)
    if key not in frame_index:
        frame_index[key] = len(frames)
        f = {"kind": kind, "name": name, "symbolized": True}
        if kind == "python":
            f["file"] = where; f["line"] = line
        else:
            f["module"] = where; f["offset"] = len(frames) * 16
        frames.append(f)
    return frame_index[key]

stacks, stack_index = [], {}
def stack(fs):
    key = tuple(fs)
    if key not in stack_index:
        stack_index[key] = len(stacks)
        stacks.append({"frames": fs, "truncated": False})
    return stack_index[key]

waits = [{"syscall": "futex", "futex": 4096 + i} for i in range(5)] + [{"syscall": "read", "fd": 5, "fdKind": "pipe", "target": "pipe:[1]"}]
processes = [{"pid": 1000 + 100 * p, "ppid": 1 if p == 0 else 1000, "command": ["python3", "big.py"], "executable": "/usr/bin/python3.11",
              "startNs": 0, "endNs": ticks * period, "exit": {"code": 0}, "runtime": "CPython 3.11.2", "origin": "launched" if p == 0 else "fork"}
             for p in range(4)]
threads = [{"pid": 1000 + 100 * (t % 4), "tid": 5000 + t, "name": "thread-%d" % t, "startNs": 0, "endNs": ticks * period} for t in range(nthreads)]

cycles = []
for t in range(nthreads):
    cyc = []
    for k in range(97):
        depth = 8 + (k * 7 + t) % 24
        fs = []
        for d in range(depth):
            if d % 3 == 0:
                fs.append(frame("python", "py_func_%d" % ((k + d) % 40), "/app/mod%d.py" % (d % 7), 10 + d))
            else:
                fs.append(frame("native", "native_fn_%d" % ((k * d + t) % 300), "/usr/lib/libwork%d.so" % (d % 5)))
        fs.append(frame("native", "start_thread", "/lib/libc.so.6"))
        st = states[(k + t) % len(states)]
        cyc.append((stack(fs), st, (k % 5) if st in (2, 3) else (5 if st == 4 else -1), 1 if st == 0 else 0))
    cycles.append(cyc)

cols = {"t": [], "pid": [], "tid": [], "stack": [], "state": [], "wait": [], "gil": []}
for tick in range(ticks):
    for t in range(nthreads):
        s, st, w, g = cycles[t][(tick // 3 + t) % 97]
        cols["t"].append(tick * period); cols["pid"].append(threads[t]["pid"]); cols["tid"].append(threads[t]["tid"])
        cols["stack"].append(s); cols["state"].append(st); cols["wait"].append(w); cols["gil"].append(g)

n = len(cols["t"])
doc = {
    "format": "forkcast-profile", "format_version": 1,
    "recording": {"tool": "forkcast", "toolVersion": "bench", "mode": "launch", "command": ["python3", "big.py"], "rootPid": 1000,
                  "startedAt": "2026-01-01T00:00:00.000Z", "durationNs": ticks * period, "rateHz": 100.0, "hostname": "bench",
                  "cores": 2, "kernel": "bench", "endReason": "target-exited", "rootExit": {"code": 0}, "notes": []},
    "stats": {"ticks": ticks, "lateTicks": 0, "samplesExpected": n, "samplesTaken": n, "stacksComplete": n, "unwindErrors": 0,
              "inconsistentStacks": 0, "missedStops": 0, "sampleCostMedianNs": 0, "sampleCostP99Ns": 0, "pythonReadErrors": 0, "tracerCPUNs": 0},
    "processes": processes, "threads": threads, "frames": frames, "stacks": stacks, "waits": waits, "samples": cols,
}
data = json.dumps(doc, separators=(",", ":")).encode()
if out.endswith(".gz"):
    data = gzip.compress(data, 6)
open(out, "wb").write(data)
print("%s: %d samples, %d threads, %d frames, %d stacks" % (out, n, nthreads, len(frames), len(stacks)), file=sys.stderr)
