"""Tests: python3 -m unittest discover -s plugins/blas-oversubscription"""

import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blas_oversubscription as plugin  # noqa: E402
from forkcast_plugin import Profile  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
BLAS = "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0"


def profile(processes, threads_per_process, cores, runnable_every=2, ticks=100):
    """Worker processes, each with a main thread in dgemm and BLAS pool threads."""
    frames = [{"kind": "native", "name": "dgemm_kernel", "module": BLAS, "symbolized": True},
              {"kind": "native", "name": "blas_thread_server", "module": BLAS, "symbolized": True},
              {"kind": "native", "name": "sched_yield", "module": "/lib/libc.so.6", "symbolized": True},
              {"kind": "python", "name": "work", "file": "/app/w.py", "line": 3, "symbolized": True}]
    stacks = [{"frames": [0, 3]}, {"frames": [0, 1]}, {"frames": [2, 1]}]
    cols = {k: [] for k in ("t", "pid", "tid", "stack", "state", "wait", "gil")}
    threads = []
    for p in range(processes):
        pid = 100 + p * 10
        for k in range(threads_per_process):
            threads.append({"pid": pid, "tid": pid + k, "name": "python3", "startNs": 0})
    for t in range(ticks):
        for th in threads:
            k = th["tid"] - th["pid"]
            cols["t"].append(t * 10_000_000)
            cols["pid"].append(th["pid"])
            cols["tid"].append(th["tid"])
            cols["stack"].append(0 if k == 0 else (2 if t % 5 == 0 else 1))
            cols["state"].append(1 if (t + k) % runnable_every == 0 else 0)
            cols["wait"].append(-1)
            cols["gil"].append(0)
    return {"format": "forkcast-profile", "format_version": 1,
            "recording": {"cores": cores, "rateHz": 100, "command": ["python3", "w.py"], "rootPid": 100},
            "processes": [{"pid": 100 + p * 10} for p in range(processes)], "threads": threads,
            "frames": frames, "stacks": stacks, "waits": [], "samples": cols}


class BlasTests(unittest.TestCase):
    def test_oversubscribed_pool_is_a_finding_with_the_fix(self):
        [f] = plugin.analyze(Profile(profile(processes=4, threads_per_process=4, cores=4)))
        self.assertEqual(f["id"], "blas-oversubscription.oversubscribed")
        self.assertEqual(f["metrics"]["blas_threads"], 16)
        self.assertEqual(f["metrics"]["processes"], 4)
        self.assertEqual(f["metrics"]["suggested_threads_per_process"], 1)
        self.assertIn("OPENBLAS_NUM_THREADS=1", f["detail"])
        self.assertEqual(f["severity"], "critical")
        self.assertTrue(f["stacks"] and "blas_thread_server" in " ".join(f["stacks"][0]))

    def test_format_version_2_reads_the_same(self):
        """Version 2 names mapping rows and thread rows; the SDK fills module, pid and tid."""
        v1 = profile(processes=4, threads_per_process=4, cores=4)
        v2 = json.loads(json.dumps(v1))
        v2["format_version"] = 2
        files = sorted({f["module"] for f in v2["frames"] if "module" in f})
        v2["mappings"] = [{"file": f} for f in files]
        for f in v2["frames"]:
            if "module" in f:
                f["mapping"] = files.index(f.pop("module"))
        rows = {(t["pid"], t["tid"]): i for i, t in enumerate(v2["threads"])}
        cols = v2["samples"]
        cols["thread"] = [rows[k] for k in zip(cols.pop("pid"), cols.pop("tid"))]
        self.assertEqual(plugin.analyze(Profile(v2)), plugin.analyze(Profile(v1)))

    def test_pool_within_the_cores_is_only_information(self):
        [f] = plugin.analyze(Profile(profile(processes=1, threads_per_process=2, cores=4)))
        self.assertEqual(f["severity"], "info")
        self.assertEqual(f["id"], "blas-oversubscription.fits")

    def test_no_blas_no_finding(self):
        doc = profile(processes=1, threads_per_process=1, cores=2)
        for fr in doc["frames"]:
            fr["module"] = "/usr/bin/python3"
            fr["name"] = "PyEval"
        self.assertEqual(plugin.analyze(Profile(doc)), [])

    def test_protocol_round_trip(self):
        stdin = json.dumps({"type": "hello", "protocol_version": 1}) + "\n" + json.dumps(
            {"type": "analyze", "profile": profile(2, 3, 2), "analysis": {}}) + "\n"
        out = subprocess.run([sys.executable, os.path.join(HERE, "blas_oversubscription.py")], input=stdin,
                             capture_output=True, text=True, check=True).stdout.splitlines()
        self.assertEqual(json.loads(out[0])["type"], "hello")
        response = json.loads(out[1])
        self.assertEqual(response["type"], "findings")
        self.assertEqual(response["findings"][0]["metrics"]["blas_threads"], 6)


if __name__ == "__main__":
    unittest.main()
