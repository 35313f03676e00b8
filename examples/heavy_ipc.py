"""Heavy IPC: large payloads through a process pool. Each task ships a 16 MiB buffer to a
worker that computes a cheap checksum (zlib.adler32, which releases the GIL) — moving the
data costs far more than the work.

Forkcast should conclude: pickling, unpickling and pipe transfer dominate the CPU time →
threads (they share the buffer in memory; the work releases the GIL).

    python3 examples/heavy_ipc.py --strategy processes --workers 2
"""
import os
import zlib

import _common


def checksum(payload):
    return zlib.adler32(payload)


def main():
    p = _common.parser(__doc__.splitlines()[0], default_strategy="processes", default_workers=2)
    p.add_argument("--tasks", type=int, default=24)
    p.add_argument("--mib", type=int, default=16, help="payload size in MiB")
    args = p.parse_args()
    block = os.urandom(1 << 20)
    payloads = [block * args.mib for _ in range(args.tasks)]
    with _common.Timer("heavy_ipc", args, tasks=args.tasks, mib=args.mib):
        _common.run(checksum, payloads, args.strategy, args.workers)


if __name__ == "__main__":
    main()
