"""Shared by the example workloads: the --strategy/--workers options and one function that
runs a list of tasks serially, on threads, on processes, or hybrid (processes each running a
thread pool).

The executors are looked up on `concurrent.futures` at call time, so a tool that swaps
`ThreadPoolExecutor` for `ProcessPoolExecutor` (or back) before the program runs changes
these programs without editing them.
"""
import argparse
import concurrent.futures as cf
import math
import os
import sys
import time

STRATEGIES = ("serial", "threads", "processes", "hybrid")


def parser(description, default_strategy="threads", default_workers=4):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--strategy", choices=STRATEGIES, default=default_strategy,
                   help="how to run the tasks (default: %(default)s)")
    p.add_argument("--workers", type=int, default=default_workers,
                   help="threads or processes to use (default: %(default)s)")
    p.add_argument("--quiet", action="store_true", help="do not print the timing line")
    return p


def _run_chunk_threads(fn, items, threads):
    with cf.ThreadPoolExecutor(max_workers=threads) as ex:
        return list(ex.map(fn, items))


def run(fn, items, strategy, workers):
    """Runs fn over items with the strategy; returns the results in order."""
    items = list(items)
    workers = max(1, workers)
    if strategy == "serial":
        return [fn(x) for x in items]
    if strategy == "threads":
        with cf.ThreadPoolExecutor(max_workers=workers) as ex:
            futures = [ex.submit(fn, x) for x in items]
            return [f.result() for f in futures]
    if strategy == "processes":
        with cf.ProcessPoolExecutor(max_workers=workers) as ex:
            futures = [ex.submit(fn, x) for x in items]
            return [f.result() for f in futures]
    if strategy == "hybrid":
        procs = max(1, min(workers, os.cpu_count() or 1))
        threads = max(1, math.ceil(workers / procs))
        chunks = [items[i::procs] for i in range(procs)]
        with cf.ProcessPoolExecutor(max_workers=procs) as ex:
            parts = list(ex.map(_run_chunk_threads, [fn] * procs, chunks, [threads] * procs))
        # Undo the round-robin split.
        out = [None] * len(items)
        for i, part in enumerate(parts):
            out[i::procs] = part
        return out
    raise ValueError(f"unknown strategy {strategy}")


class Timer:
    """Prints one line on stderr: what ran and how long it took."""

    def __init__(self, name, args, **extra):
        self.name, self.args, self.extra = name, args, extra

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        if not getattr(self.args, "quiet", False):
            wall = time.perf_counter() - self.start
            extra = " ".join(f"{k}={v}" for k, v in self.extra.items())
            print(f"{self.name}: strategy={self.args.strategy} workers={self.args.workers} {extra} wall={wall:.2f}s",
                  file=sys.stderr)
        return False
