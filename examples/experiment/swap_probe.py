"""Reports where its tasks ran: an unmodified concurrent.futures / multiprocessing script.

Usage: swap_probe.py futures-threads|futures-processes|pool|threadpool|dummy [spawn]

Each task sleeps 50 ms (so concurrent tasks overlap) and returns (pid, thread name).
Prints one JSON line: the executor class, the main pid, the distinct pids and the
distinct (pid, thread) pairs the tasks ran on, and the results (to check correctness).
"""
import json
import os
import sys
import threading
import time


def task(x):
    time.sleep(0.05)
    return (os.getpid(), threading.current_thread().name, x * x)


def main():
    api = sys.argv[1] if len(sys.argv) > 1 else "futures-threads"
    if len(sys.argv) > 2:
        import multiprocessing
        multiprocessing.set_start_method(sys.argv[2])
    items = list(range(8))
    if api == "futures-threads":
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(max_workers=3) as ex:
            kind = type(ex).__name__
            out = list(ex.map(task, items))
    elif api == "futures-processes":
        import concurrent.futures
        with concurrent.futures.ProcessPoolExecutor(3) as ex:
            kind = type(ex).__name__
            out = [f.result() for f in [ex.submit(task, x) for x in items]]
    elif api == "pool":
        from multiprocessing import Pool
        with Pool(3) as pool:
            kind = type(pool).__name__
            out = pool.map(task, items)
    elif api == "threadpool":
        from multiprocessing.pool import ThreadPool
        pool = ThreadPool(3)
        kind = type(pool).__name__
        out = pool.starmap(task, [(x,) for x in items])
        pool.close()
        pool.join()
    elif api == "dummy":
        import multiprocessing.dummy
        with multiprocessing.dummy.Pool(3) as pool:
            kind = type(pool).__name__
            out = list(pool.imap(task, items))
    else:
        sys.exit("unknown api " + api)
    print(json.dumps({
        "executor": kind,
        "main_pid": os.getpid(),
        "main_thread": threading.current_thread().name,
        "pids": sorted({p for p, _, _ in out}),
        "workers": sorted({"%d/%s" % (p, t) for p, t, _ in out}),
        "results": [r for _, _, r in out],
    }))


if __name__ == "__main__":
    main()
