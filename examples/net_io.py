"""Network I/O against a local server that answers late: each task sends a request and
blocks in recv until the answer comes (--delay seconds later).

Forkcast should conclude: I/O-bound (io_wait on a socket to 127.0.0.1:PORT at
net_io.py fetch) → threads, more workers than cores.

    python3 examples/net_io.py --strategy threads --workers 8
"""
import socket

import _common
import _server


def fetch(args):
    port, i = args
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"GET %d\n" % i)
        f = s.makefile("rb")
        data = f.readline()
        return len(data)


def main():
    p = _common.parser(__doc__.splitlines()[0], default_workers=8)
    p.add_argument("--tasks", type=int, default=64)
    p.add_argument("--delay", type=float, default=0.1, help="seconds the server waits before answering")
    args = p.parse_args()
    port = _server.start(args.delay)
    with _common.Timer("net_io", args, tasks=args.tasks):
        sizes = _common.run(fetch, [(port, i) for i in range(args.tasks)], args.strategy, args.workers)
    assert all(n == 4096 for n in sizes), sizes


if __name__ == "__main__":
    main()
