"""A local TCP server that answers late: for each line received it waits --delay seconds,
then sends back a payload. Used by net_io.py and mixed.py (started as a child process).

    python3 examples/slow_server.py --port 0 --delay 0.1    # prints the port on stdout
"""
import argparse
import socket
import sys
import threading
import time


def handle(conn, delay, size):
    with conn:
        f = conn.makefile("rb")
        for line in f:
            if not line.strip():
                break
            time.sleep(delay)
            conn.sendall(b"x" * (size - 1) + b"\n")


def serve(port, delay, size, ready=None):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(128)
    if ready is not None:
        ready(srv.getsockname()[1])
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=handle, args=(conn, delay, size), daemon=True).start()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--delay", type=float, default=0.1)
    p.add_argument("--size", type=int, default=4096)
    args = p.parse_args()

    def ready(port):
        print(port, flush=True)
        sys.stdout.close()

    serve(args.port, args.delay, args.size, ready)


if __name__ == "__main__":
    main()
