import numpy as np
from concurrent.futures import ProcessPoolExecutor

def work(i):
    a = np.random.default_rng(i).random((500, 500))
    for _ in range(12):
        a = a @ a
        a /= np.abs(a).max()
    return float(a.sum())

if __name__ == "__main__":
    with ProcessPoolExecutor(4) as ex:
        print(sum(ex.map(work, range(8))))
