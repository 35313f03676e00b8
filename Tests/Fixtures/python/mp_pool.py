"""A multiprocessing.Pool doing CPU work: the worker processes must be recorded."""
import multiprocessing
import sys
import time


def burn_in_worker(seconds):
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        n += 1
    return n


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    method = sys.argv[2] if len(sys.argv) > 2 else "fork"
    ctx = multiprocessing.get_context(method)
    with ctx.Pool(2) as pool:
        results = pool.map(burn_in_worker, [seconds / 2] * 4)
    print("done", len(results))


if __name__ == "__main__":
    main()
