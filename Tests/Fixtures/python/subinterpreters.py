"""Two subinterpreters, each with its own GIL (3.14's InterpreterPoolExecutor), spin in a
named function while the main interpreter's thread spins in another. Prints "ready" once
both workers run. Needs CPython 3.14+."""
import sys
import time
from concurrent.futures import InterpreterPoolExecutor


def sub_spin(seconds):
    import time
    deadline = time.monotonic() + seconds
    x = 0
    while time.monotonic() < deadline:
        x += 1  # LINE_SUB
    return x


def main_spin(seconds):
    deadline = time.monotonic() + seconds
    x = 0
    while time.monotonic() < deadline:
        x += 1  # LINE_MAIN
    return x


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
    with InterpreterPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(sub_spin, seconds) for _ in range(2)]
        print("ready", flush=True)
        main_spin(seconds)
        for f in futures:
            f.result()


if __name__ == "__main__":
    main()
