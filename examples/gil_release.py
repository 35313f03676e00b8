"""GIL-releasing C work: hashing (hashlib) or compressing (zlib) large buffers. CPython
releases the GIL inside these calls, so threads run them in parallel.

Forkcast should conclude: CPU-bound but the GIL is released → threads, one per core
(no need to copy the buffers to other processes).

    python3 examples/gil_release.py --strategy threads --workers 2 --algo sha256
"""
import hashlib
import os
import zlib

import _common

BUFFER = os.urandom(1 << 20) * 16  # 16 MiB, made once (fork shares it with workers)


def digest(args):
    algo, rounds = args
    out = 0
    for _ in range(rounds):
        if algo == "zlib":
            out ^= len(zlib.compress(BUFFER, 1))
        else:
            out ^= int.from_bytes(hashlib.sha256(BUFFER).digest()[:4], "little")
    return out


def main():
    p = _common.parser(__doc__.splitlines()[0], default_workers=2)
    p.add_argument("--algo", choices=("sha256", "zlib"), default="sha256")
    p.add_argument("--tasks", type=int, default=8)
    p.add_argument("--rounds", type=int, default=5, help="passes over the 16 MiB buffer per task")
    args = p.parse_args()
    with _common.Timer("gil_release", args, algo=args.algo, tasks=args.tasks):
        _common.run(digest, [(args.algo, args.rounds)] * args.tasks, args.strategy, args.workers)


if __name__ == "__main__":
    main()
