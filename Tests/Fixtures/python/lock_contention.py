"""Threads contending on one threading.Lock that the holder keeps across time.sleep:
at any instant one thread sleeps inside the lock and the others wait in acquire
(lock wait at the `acquire` line, not GIL wait: nobody wants the GIL)."""
import sys
import threading
import time

LOCK = threading.Lock()


def contend(stop):
    while not stop.is_set():
        LOCK.acquire()  # LINE_ACQUIRE
        try:
            time.sleep(0.05)  # LINE_SLEEP
        finally:
            LOCK.release()


def main():
    stop = threading.Event()
    threads = [threading.Thread(target=contend, args=(stop,), name=f"contender-{i}") for i in range(4)]
    for t in threads:
        t.start()
    print("ready", " ".join(str(t.native_id) for t in threads), flush=True)
    time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 30.0)
    stop.set()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
