"""An unmodified concurrent.futures program: CPU-bound pure-Python work on a thread pool.

Under the GIL threads cannot run it in parallel; the executor swap shows that processes
do (on a machine with 2+ cores). Output: the results, the same under every strategy.
"""
import os
from concurrent.futures import ThreadPoolExecutor

# Iterations per task (tests make it smaller); the program is otherwise unmodified.
SIZE = int(os.environ.get("CPU_FUTURES_SIZE", "1500000"))


def burn(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def main():
    with ThreadPoolExecutor(max_workers=4) as ex:
        results = list(ex.map(burn, [SIZE] * 8))
    print(sum(results))


if __name__ == "__main__":
    main()
