"""A ProcessPoolExecutor whose workers spin in a named function. The start method is
the first argument (fork, spawn, forkserver). Prints "ready" and the worker pids once
every worker is running its task."""
import concurrent.futures
import multiprocessing
import os
import sys
import time


# Both tasks meet here first, so each runs in its own worker: without it, under spawn a
# worker that starts first can take both tasks while the other is still importing.
_barrier = None


def init(barrier):
    global _barrier
    _barrier = barrier


def pool_spin(seconds):
    if _barrier is not None:
        _barrier.wait(timeout=60)
    deadline = time.monotonic() + seconds
    x = 0
    while time.monotonic() < deadline:
        x += 1  # LINE_POOL
    return os.getpid()


def announce(_):
    return os.getpid()


def main():
    method = sys.argv[1] if len(sys.argv) > 1 else "spawn"
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 30.0
    context = multiprocessing.get_context(method)
    with concurrent.futures.ProcessPoolExecutor(max_workers=2, mp_context=context, initializer=init,
                                                initargs=(context.Barrier(2),)) as pool:
        futures = [pool.submit(pool_spin, seconds) for _ in range(2)]
        # The workers exist once the tasks were handed out; give them a moment to start
        # the spin, then tell the test which processes to look at.
        time.sleep(1.0)
        pids = sorted(p.pid for p in pool._processes.values())
        print("ready", " ".join(str(p) for p in pids), flush=True)
        for f in futures:
            f.result()


if __name__ == "__main__":
    main()
