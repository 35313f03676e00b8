"""Sleep-like API waits: each task "calls an API" that takes --delay seconds (time.sleep,
like waiting on a remote service) and then does a little JSON work.

Forkcast should conclude: waiting-bound (sleep), no CPU to speak of → threads, many
workers.

    python3 examples/sleep_io.py --strategy threads --workers 8
"""
import json
import time

import _common


def call_api(i, delay):
    time.sleep(delay)
    return json.dumps({"id": i, "items": list(range(20))})


def task(args):
    i, delay = args
    return len(json.loads(call_api(i, delay))["items"])


def main():
    p = _common.parser(__doc__.splitlines()[0], default_workers=8)
    p.add_argument("--tasks", type=int, default=64)
    p.add_argument("--delay", type=float, default=0.1)
    args = p.parse_args()
    with _common.Timer("sleep_io", args, tasks=args.tasks):
        _common.run(task, [(i, args.delay) for i in range(args.tasks)], args.strategy, args.workers)


if __name__ == "__main__":
    main()
