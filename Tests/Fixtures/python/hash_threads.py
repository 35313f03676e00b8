"""Threads hashing large buffers with hashlib.sha256: the C code releases the GIL for
buffers over 2 KiB, so the workers are on CPU without the GIL, in C extension frames."""
import hashlib
import sys
import threading
import time

DATA = b"x" * (64 << 20)


def hash_forever(stop):
    n = 0
    while not stop.is_set():
        hashlib.sha256(DATA).digest()  # LINE_HASH
        n += 1
    return n


def main():
    stop = threading.Event()
    threads = [threading.Thread(target=hash_forever, args=(stop,), name=f"hasher-{i}") for i in range(2)]
    for t in threads:
        t.start()
    print("ready", " ".join(str(t.native_id) for t in threads), flush=True)
    time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 30.0)
    stop.set()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
