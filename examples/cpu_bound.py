"""Pure-Python CPU work: every task loops in the interpreter holding the GIL.

Forkcast should conclude: CPU-bound, GIL held → processes, one per core. Under
--strategy threads the threads mostly wait for the GIL (gil_wait) and parallelism stays ≈ 1.

    python3 examples/cpu_bound.py --strategy threads --workers 4
"""
import _common


def spin(n):
    total = 0
    i = 0
    while i < n:
        total += i * i % 7
        i += 1
    return total


def main():
    p = _common.parser(__doc__.splitlines()[0])
    p.add_argument("--tasks", type=int, default=8)
    p.add_argument("--size", type=int, default=1_000_000, help="loop iterations per task")
    args = p.parse_args()
    with _common.Timer("cpu_bound", args, tasks=args.tasks):
        results = _common.run(spin, [args.size] * args.tasks, args.strategy, args.workers)
    assert len(results) == args.tasks


if __name__ == "__main__":
    main()
