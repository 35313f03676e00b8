"""Fixed-work pure-Python CPU threads, for the overhead benchmark.

THREADS threads each run CHUNKS chunks of a pure-Python arithmetic loop; they fight
over the GIL, as the program issue 2 describes. The work is fixed, so how long it takes
is what a profiler's overhead changes: slowdown = work time profiled / unprofiled.

Usage: cpu_work.py [chunks] [threads]
With FORKCAST_BENCH_RESULT=PATH set, appends one JSON line to PATH:
  {"program": "cpu_work", "work_ns": ..., "cpu_ns": ..., "voluntary_switches": ...,
   "involuntary_switches": ..., "check": ...}
(CPU time and context switches are the whole process's, start-up included.)
work_ns runs from just before the threads start to just after they are joined, so
interpreter and profiler start-up and shut-down are not counted.
"""
import json
import os
import resource
import sys
import threading
import time

STEPS_PER_CHUNK = 1000


def square_sum(start):
    n = 0
    for i in range(start, start + STEPS_PER_CHUNK):
        n += i * i
    return n


def crunch(chunks, results, slot):
    total = 0
    for c in range(chunks):
        total = (total + square_sum(c)) & 0xFFFFFFFF
    results[slot] = total


def main():
    chunks = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    if chunks <= 0 or not 1 <= count <= 64:
        print("usage: cpu_work.py [chunks>0] [threads 1..64]", file=sys.stderr)
        return 2
    results = [0] * count
    threads = [threading.Thread(target=crunch, args=(chunks, results, i), name=f"cpu-{i}") for i in range(count)]
    began = time.monotonic_ns()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    work = time.monotonic_ns() - began
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int((usage.ru_utime + usage.ru_stime) * 1e9)
    out = os.environ.get("FORKCAST_BENCH_RESULT")
    if out:
        with open(out, "a") as f:
            f.write(json.dumps({"program": "cpu_work", "work_ns": work, "cpu_ns": cpu,
                                "voluntary_switches": usage.ru_nvcsw, "involuntary_switches": usage.ru_nivcsw,
                                "check": sum(results)}) + "\n")
    print(f"cpu_work: {count} threads x {chunks} chunks in {work / 1e9:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
