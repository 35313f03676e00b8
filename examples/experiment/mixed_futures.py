"""An unmodified concurrent.futures program whose tasks both wait and compute.

Each of 48 tasks waits 60 ms (a slow service) and then spends ~30 ms of pure-Python CPU.
At equal worker counts, threads overlap the waits but the GIL serializes the CPU;
processes compute in parallel but each overlaps only one wait at a time; hybrid
(processes each running a few threads) does both, so it wins on a 2-core machine.
"""
import time
from concurrent.futures import ThreadPoolExecutor


def task(i):
    time.sleep(0.06)
    total = 0
    for k in range(360_000):
        total += k * k % 7
    return total + i


def main():
    with ThreadPoolExecutor(max_workers=4) as ex:
        print(sum(ex.map(task, range(48))))


if __name__ == "__main__":
    main()
