"""Tests: python3 -m unittest discover -s plugins/pickle-cost"""

import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pickle_cost as plugin  # noqa: E402
from forkcast_plugin import Profile  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PICKLE = "/usr/lib/python3.11/lib-dynload/_pickle.cpython-311-x86_64-linux-gnu.so"


def pool_profile(ticks=100):
    """A parent pickling tasks in submit_all() and a worker that reads (blocked on a pipe),
    unpickles and works, in a cycle of 10 ticks."""
    frames = [{"kind": "native", "name": "save_bytes", "module": PICKLE},                       # 0
              {"kind": "python", "name": "dumps", "file": "/usr/lib/python3.11/multiprocessing/reduction.py", "line": 51},
              {"kind": "python", "name": "submit_all", "file": "/app/pool.py", "line": 20},  # 2
              {"kind": "native", "name": "load", "module": PICKLE},                          # 3
              {"kind": "python", "name": "_process_worker", "file": "/usr/lib/python3.11/concurrent/futures/process.py", "line": 245},
              {"kind": "python", "name": "work", "file": "/app/pool.py", "line": 8},         # 5
              {"kind": "native", "name": "__libc_read", "module": "/lib/libc.so.6"}]         # 6
    stacks = [{"frames": [0, 1, 2]}, {"frames": [3, 4]}, {"frames": [5, 4]}, {"frames": [6, 4]}]
    cols = {k: [] for k in ("t", "pid", "tid", "stack", "state", "wait", "gil")}

    def add(t, pid, stack, state, wait=-1):
        for k, v in zip(("t", "pid", "tid", "stack", "state", "wait", "gil"), (t, pid, pid, stack, state, wait, 0)):
            cols[k].append(v)
    for t in range(ticks):
        add(t * 10_000_000, 1, 0, 0 if t % 2 == 0 else 5)      # parent: half pickling, half sleeping
        phase = t % 10
        if phase < 3:
            add(t * 10_000_000, 2, 3, 4, 0)                     # worker: blocked reading the pipe
        elif phase < 5:
            add(t * 10_000_000, 2, 1, 0)                        # unpickling
        else:
            add(t * 10_000_000, 2, 2, 0)                        # working
    return {"recording": {"cores": 2, "rateHz": 100, "rootPid": 1}, "frames": frames, "stacks": stacks,
            "waits": [{"syscall": "read", "fd": 3, "fdKind": "pipe"}], "threads": [], "processes": [], "samples": cols}


class PickleCostTests(unittest.TestCase):
    def test_cost_split_by_direction_site_and_task(self):
        [f] = plugin.analyze(Profile(pool_profile()))
        m = f["metrics"]
        self.assertAlmostEqual(m["pickle_seconds"], 0.5)        # 50 parent ticks × 10 ms
        self.assertAlmostEqual(m["unpickle_seconds"], 0.2)      # 20 worker ticks
        self.assertEqual(m["tasks_estimated"], 10)              # one wake from the pipe per cycle
        self.assertAlmostEqual(m["seconds_per_task"], 0.07)
        self.assertIn("submit_all (pool.py:20)", f["detail"])
        self.assertEqual(f["severity"], "critical")             # 0.7 s of 1.3 s on CPU
        self.assertEqual(f["factor"], "ipc")

    def test_directions(self):
        self.assertEqual(plugin.direction({"name": "load", "module": PICKLE}), "unpickle")
        self.assertEqual(plugin.direction({"name": "save_dict", "module": PICKLE}), "pickle")
        self.assertEqual(plugin.direction({"name": "loads", "file": "/usr/lib/python3.11/pickle.py", "kind": "python"}), "unpickle")
        self.assertIsNone(plugin.direction({"name": "loads", "file": "/app/json_stuff.py", "kind": "python"}))

    def test_call_site_of_a_queue_feeder_thread_is_the_queue(self):
        stack = [{"kind": "native", "name": "save_bytes", "module": PICKLE},
                 {"kind": "python", "name": "ForkingPickler.dumps", "file": "/usr/lib/python3.11/multiprocessing/reduction.py", "line": 51},
                 {"kind": "python", "name": "Queue._feed", "file": "/usr/lib/python3.11/multiprocessing/queues.py", "line": 244},
                 {"kind": "python", "name": "Thread.run", "file": "/usr/lib/python3.11/threading.py", "line": 975}]
        self.assertEqual(plugin.call_site(stack), "Queue._feed (queues.py:244)")

    def test_no_pickling_no_finding(self):
        doc = pool_profile()
        doc["stacks"] = [{"frames": [5]}] * 4
        self.assertEqual(plugin.analyze(Profile(doc)), [])

    def test_protocol_error_message_on_bad_request(self):
        stdin = json.dumps({"type": "hello", "protocol_version": 1}) + "\n" + json.dumps({"type": "analyze"}) + "\n"
        r = subprocess.run([sys.executable, os.path.join(HERE, "pickle_cost.py")], input=stdin, capture_output=True, text=True)
        lines = r.stdout.splitlines()
        self.assertEqual(json.loads(lines[1])["type"], "error")
        self.assertIn("KeyError", json.loads(lines[1])["message"])
        self.assertNotEqual(r.returncode, 0)


if __name__ == "__main__":
    unittest.main()
