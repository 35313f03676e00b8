"""Tiny tasks through a pool: thousands of one-multiplication tasks submitted one by one.
Each round trip (pickle, pipe, wake a worker, pickle the result back) costs far more
than the task.

Forkcast should conclude: the workers sit idle waiting for work while start-up and
dispatch dominate → serial (or batch the tasks).

    python3 examples/tiny_tasks.py --strategy processes --workers 2
"""
import _common


def square(x):
    return x * x


def main():
    p = _common.parser(__doc__.splitlines()[0], default_strategy="processes", default_workers=2)
    p.add_argument("--tasks", type=int, default=10000)
    args = p.parse_args()
    with _common.Timer("tiny_tasks", args, tasks=args.tasks):
        results = _common.run(square, range(args.tasks), args.strategy, args.workers)
    assert results[-1] == (args.tasks - 1) ** 2


if __name__ == "__main__":
    main()
