"""Tests: python3 -m unittest discover -s plugins/joblib (joblib itself is not needed: a
stand-in module records what the launcher configured)."""

import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import joblib_strategy as plugin  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def launch(strategy, workers, command=("python3", "job.py", "--n", "5")):
    r = plugin.handle({"type": "launch", "workload": {"command": list(command), "environment": {"A": "1"}},
                       "strategy": strategy, "workers": workers})
    [spec] = r["specs"]
    return spec


class JoblibStrategyTests(unittest.TestCase):
    def test_plans(self):
        self.assertEqual(plugin.plan("serial", 8), ("sequential", 1, 1))
        self.assertEqual(plugin.plan("threads", 8), ("threading", 8, 1))
        self.assertEqual(plugin.plan("processes", 8), ("loky", 8, 1))
        self.assertEqual(plugin.plan("hybrid", 8), ("loky", 4, 2))
        with self.assertRaises(ValueError):
            plugin.plan("gpu", 2)

    def test_spec_wraps_the_program_and_limits_blas(self):
        spec = launch("processes", 4)
        self.assertEqual(spec["command"][0], "python3")
        self.assertTrue(spec["command"][1].endswith("joblib_launch.py"))
        self.assertEqual(spec["command"][-3:], ["job.py", "--n", "5"])
        self.assertEqual(spec["environment"]["OPENBLAS_NUM_THREADS"], "1")
        self.assertEqual(spec["environment"]["A"], "1")
        self.assertEqual(spec["environment"]["FORKCAST_WORKERS"], "4")

    def test_rejects_non_python_programs(self):
        with self.assertRaises(ValueError):
            launch("threads", 2, ("./a.out",))

    def test_launcher_sets_the_backend_before_the_program_runs(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "joblib.py"), "w") as f:   # a stand-in for joblib
                f.write("import json, os\n"
                        "class _C:\n"
                        "    def __init__(self, **kw): self.kw = kw\n"
                        "    def __enter__(self): os.environ['SEEN'] = json.dumps(self.kw, sort_keys=True)\n"
                        "def parallel_config(**kw): return _C(**kw)\n")
            with open(os.path.join(d, "job.py"), "w") as f:
                f.write("import os, sys\nprint(os.environ['SEEN'], sys.argv[1:], __name__)\n")
            spec = launch("hybrid", 4, ("python3", os.path.join(d, "job.py"), "x"))
            env = dict(os.environ, **spec["environment"], PYTHONPATH=d)
            out = subprocess.run([sys.executable] + spec["command"][1:], env=env, capture_output=True, text=True, check=True).stdout
            self.assertIn('{"backend": "loky", "inner_max_num_threads": 2, "n_jobs": 2}', out)
            self.assertIn("['x'] __main__", out)


if __name__ == "__main__":
    unittest.main()
