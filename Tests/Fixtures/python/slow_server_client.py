"""A client blocked reading a local socket whose server answers late.

The server thread accepts, waits `delay` seconds, then answers; the main thread sits in
recv() the whole time: I/O wait on a socket.
"""
import socket
import sys
import threading
import time


def serve_late(listener, delay, rounds):
    for _ in range(rounds):
        conn, _ = listener.accept()
        with conn:
            conn.recv(16)
            time.sleep(delay)
            conn.sendall(b"answer")


def read_from_slow_server(port):
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"question")
        return s.recv(16)


def main():
    delay = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    server = threading.Thread(target=serve_late, args=(listener, delay, rounds), name="late-server", daemon=True)
    server.start()
    for _ in range(rounds):
        read_from_slow_server(port)
    print("done")


if __name__ == "__main__":
    main()
