"""Four pure-Python CPU threads, each in its own named function, for as long as the
parent lets it run. Prints "ready" (and the worker tids) once every thread is spinning.

The workers never block: on 2 cores they take turns on the GIL, so at any instant at
most one holds it and the rest wait for it (GIL wait)."""
import sys
import threading
import time


def spin_alpha(stop):
    x = 0
    while not stop.is_set():
        x += 1  # LINE_ALPHA
    return x


def spin_beta(stop):
    x = 0
    while not stop.is_set():
        x += 2  # LINE_BETA
    return x


def spin_gamma(stop):
    x = 0
    while not stop.is_set():
        x += 3  # LINE_GAMMA
    return x


def spin_delta(stop):
    x = 0
    while not stop.is_set():
        x += 4  # LINE_DELTA
    return x


def main():
    stop = threading.Event()
    started = []
    lock = threading.Lock()

    def run(fn):
        with lock:
            started.append(threading.get_native_id())
        fn(stop)

    threads = [threading.Thread(target=run, args=(fn,), name="worker-" + fn.__name__)
               for fn in (spin_alpha, spin_beta, spin_gamma, spin_delta)]
    for t in threads:
        t.start()
    while True:
        with lock:
            if len(started) == 4:
                break
        time.sleep(0.01)
    print("ready", " ".join(str(t) for t in started), flush=True)
    duration = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
    time.sleep(duration)
    stop.set()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
