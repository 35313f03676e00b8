"""Mixed CPU + I/O: each task fetches from a local server that answers late, then crunches
the answer in pure Python (GIL held) for about as long.

Forkcast should conclude: half waiting, half GIL-held CPU → hybrid: processes (one per
core) for the Python work, threads inside each to overlap the waits.

    python3 examples/mixed.py --strategy threads --workers 4
"""
import socket

import _common
import _server


def crunch(data, n):
    total = 0
    i = 0
    while i < n:
        total += (i ^ data) % 13
        i += 1
    return total


def task(args):
    port, i, n = args
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"GET %d\n" % i)
        data = len(s.makefile("rb").readline())
    return crunch(data, n)


def main():
    p = _common.parser(__doc__.splitlines()[0])
    p.add_argument("--tasks", type=int, default=16)
    p.add_argument("--delay", type=float, default=0.08)
    p.add_argument("--size", type=int, default=700_000, help="crunch loop iterations per task")
    args = p.parse_args()
    port = _server.start(args.delay)
    with _common.Timer("mixed", args, tasks=args.tasks):
        _common.run(task, [(port, i, args.size) for i in range(args.tasks)], args.strategy, args.workers)


if __name__ == "__main__":
    main()
