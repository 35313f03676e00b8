"""An unmodified concurrent.futures program: I/O-bound tasks on a process pool.

Each task waits 50 ms (`IO_POOL_WAIT` seconds; a stand-in for a slow peer) and does almost no CPU work, so worker
processes buy nothing threads would not: a thread pool at the same concurrency does the
same waiting without starting processes. Output: the results, the same under every strategy.
"""
import os
import time
from concurrent.futures import ProcessPoolExecutor

TASKS = int(os.environ.get("IO_POOL_TASKS", "24"))
WAIT = float(os.environ.get("IO_POOL_WAIT", "0.05"))


def fetch(i):
    time.sleep(WAIT)
    return i * 3


def main():
    with ProcessPoolExecutor(max_workers=4) as ex:
        results = list(ex.map(fetch, range(TASKS)))
    print(sum(results))


if __name__ == "__main__":
    main()
