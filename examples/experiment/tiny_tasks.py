"""An unmodified concurrent.futures program whose tasks are tiny (a multiply each).

Handing 20 000 calls (TINY_TASKS) of a microsecond each to a pool costs far more than doing them:
serial (the swap's in-thread executor) wins, and processes lose by the most (each call
is pickled and sent over a pipe).
"""
import os
from concurrent.futures import ThreadPoolExecutor


def square(x):
    return x * x


def main():
    with ThreadPoolExecutor(max_workers=4) as ex:
        total = sum(ex.map(square, range(int(os.environ.get("TINY_TASKS", "20000")))))
    print(total)


if __name__ == "__main__":
    main()
