"""Four pure-Python CPU-bound threads: they fight over the GIL."""
import sys
import threading
import time


def spin_cpu(deadline):
    n = 0
    while time.monotonic() < deadline:
        for i in range(1000):
            n += i * i
    return n


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=spin_cpu, args=(deadline,), name=f"cpu-{i}") for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("done")


if __name__ == "__main__":
    main()
