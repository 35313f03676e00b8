"""A hot threading.Lock: every worker updates shared state under one lock and does its
slow part (a simulated write to a remote store, time.sleep) while holding it.

Forkcast should conclude: lock contention dominates → "fix this lock first", showing the
`with LOCK:` line in update() and the holder; more threads only queue on it.

    python3 examples/hot_lock.py --strategy threads --workers 4
"""
import threading
import time

import _common

LOCK = threading.Lock()
STATE = {"count": 0}


def update(args):
    rounds, hold = args
    for _ in range(rounds):
        with LOCK:
            STATE["count"] += 1
            time.sleep(hold)  # the slow part, inside the critical section
        sum(range(200))  # a little work outside it
    return rounds


def main():
    p = _common.parser(__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=60, help="lock rounds per worker task")
    p.add_argument("--hold", type=float, default=0.005, help="seconds the lock is held per round")
    args = p.parse_args()
    tasks = max(args.workers, 1)
    with _common.Timer("hot_lock", args, rounds=args.rounds):
        _common.run(update, [(args.rounds, args.hold)] * tasks, args.strategy, args.workers)


if __name__ == "__main__":
    main()
