"""The Python program of the same shape as idle_threads.c: THREADS threads, BUSY of them
each doing WORK chunks of pure-Python arithmetic, the others waiting on one
threading.Condition until the work is done (WAKE_MS > 0: timed waits of that length).

Usage: python3 idle_threads.py THREADS BUSY WORK [WAKE_MS]
Prints "work_ns=N" and, with FORKCAST_BENCH_RESULT=PATH, appends one JSON line like the
C program's. work_ns runs from just before the busy threads start to just after they are
joined. Ends by itself.
"""
import json
import os
import resource
import sys
import threading
import time


def chunk(x):
    for _ in range(1000):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
    return x


def busy(n, out, i):
    x = i + 1
    for _ in range(n):
        x = chunk(x)
    out[i] = x


def main():
    if len(sys.argv) < 4:
        print("usage: idle_threads.py THREADS BUSY WORK [WAKE_MS]", file=sys.stderr)
        return 2
    threads, nbusy, work = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    wake_ms = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    cond = threading.Condition()
    state = {"done": False, "waiting": 0}

    def idle():
        with cond:
            state["waiting"] += 1
            cond.notify_all()
            while not state["done"]:
                cond.wait(wake_ms / 1000 if wake_ms > 0 else None)

    idle_threads = [threading.Thread(target=idle, name=f"idle-{i}") for i in range(threads - nbusy)]
    for t in idle_threads:
        t.start()
    with cond:
        while state["waiting"] < len(idle_threads):
            cond.wait()
    out = [0] * nbusy
    began = time.monotonic_ns()
    workers = [threading.Thread(target=busy, args=(work, out, i), name=f"busy-{i}") for i in range(nbusy)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    work_ns = time.monotonic_ns() - began
    with cond:
        state["done"] = True
        cond.notify_all()
    for t in idle_threads:
        t.join()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print(f"work_ns={work_ns}")
    path = os.environ.get("FORKCAST_BENCH_RESULT")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps({"program": "idle_threads.py", "work_ns": work_ns,
                                "cpu_ns": int((ru.ru_utime + ru.ru_stime) * 1e9),
                                "threads": threads, "busy": nbusy}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
