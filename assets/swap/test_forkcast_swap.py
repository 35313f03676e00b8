"""Tests of the executor swap: python3 -m unittest discover -s assets/swap

Each swap test runs a small program in a fresh interpreter with this folder first on
PYTHONPATH, exactly as `forkcast experiment` does, and asserts on what the program saw
(the executor's class, which process and thread ran each call) and on the swap report.
The Swift test ForkcastExperimentTests.SwapPythonTests runs this file and the linters.
"""

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import forkcast_swap  # noqa: E402  (imported without FORKCAST_STRATEGY: install() is a no-op)

# The program under test: creates the executor named on its command line, runs four calls
# and prints one JSON line saying what it got and where each call ran.
PROGRAM = textwrap.dedent("""
    import concurrent.futures, json, multiprocessing, multiprocessing.pool, os, sys, threading

    def where(x):
        return [x * x, os.getpid(), threading.current_thread().name]

    def fail(x):
        raise ValueError("boom %d" % x)

    if __name__ == "__main__":
        kind = sys.argv[1]
        if kind == "ThreadPoolExecutor":
            ex = concurrent.futures.ThreadPoolExecutor(max_workers=7)
        elif kind == "ProcessPoolExecutor":
            ex = concurrent.futures.ProcessPoolExecutor(max_workers=7)
        elif kind == "Pool":
            ex = multiprocessing.Pool(7)
        else:
            ex = multiprocessing.pool.ThreadPool(7)
        if hasattr(ex, "submit"):
            calls = list(ex.map(where, range(4)))
            try:
                ex.submit(fail, 3).result()
                error = None
            except ValueError as e:
                error = str(e)
            ex.shutdown()
        else:
            calls = ex.map(where, range(4))
            try:
                ex.apply(fail, (3,))
                error = None
            except ValueError as e:
                error = str(e)
            ex.close()
            ex.join()
        print(json.dumps({"class": type(ex).__name__, "pid": os.getpid(), "calls": calls, "error": error}))
""")


def run(kind, strategy, workers=2, extra_env=None, program=PROGRAM, path=HERE):
    """Runs PROGRAM under the swap; returns (its JSON line, the swap report's lines)."""
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "prog.py")
        with open(script, "w") as f:
            f.write(program)
        report = os.path.join(tmp, "swaps.jsonl")
        env = dict(os.environ, PYTHONPATH=path, FORKCAST_STRATEGY=strategy, FORKCAST_WORKERS=str(workers),
                   FORKCAST_HYBRID_THREADS="2", FORKCAST_SWAP_REPORT=report)
        env.update(extra_env or {})
        done = subprocess.run([sys.executable, script, kind], env=env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise AssertionError("program failed (%d): %s" % (done.returncode, done.stderr))
        swaps = []
        if os.path.exists(report):
            with open(report) as f:
                swaps = [json.loads(line) for line in f]
        out = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else None
        return out, swaps, done.stderr


class SwapTests(unittest.TestCase):
    def assertSwap(self, swaps, requested, replacement, workers):
        self.assertEqual([(s["requested"], s["replacement"], s["workers"]) for s in swaps],
                         [(requested, replacement, workers)])

    def test_threads_replace_a_process_pool(self):
        out, swaps, _ = run("ProcessPoolExecutor", "threads", workers=3)
        self.assertEqual(out["class"], "ThreadPoolExecutor")
        self.assertEqual([c[0] for c in out["calls"]], [0, 1, 4, 9])
        self.assertEqual({c[1] for c in out["calls"]}, {out["pid"]}, "threads run in the program's process")
        self.assertEqual(out["error"], "boom 3")
        self.assertSwap(swaps, "ProcessPoolExecutor", "ThreadPoolExecutor", 3)
        self.assertEqual(swaps[0]["pid"], out["pid"])

    def test_processes_replace_a_thread_pool(self):
        out, swaps, _ = run("ThreadPoolExecutor", "processes")
        self.assertEqual(out["class"], "ProcessPoolExecutor")
        self.assertNotIn(out["pid"], {c[1] for c in out["calls"]}, "every call ran in a worker process")
        self.assertEqual(out["error"], "boom 3")
        self.assertSwap(swaps, "ThreadPoolExecutor", "ProcessPoolExecutor", 2)

    def test_serial_runs_each_call_in_the_calling_thread(self):
        out, swaps, _ = run("Pool", "serial", workers=4)
        self.assertEqual(out["class"], "ExecutorPool")
        self.assertEqual([c[1:] for c in out["calls"]], [[out["pid"], "MainThread"]] * 4)
        self.assertEqual(out["error"], "boom 3")
        self.assertSwap(swaps, "Pool", "SerialPool", 1)

    def test_hybrid_runs_threads_inside_worker_processes(self):
        out, swaps, _ = run("ProcessPoolExecutor", "hybrid", workers=2)
        self.assertEqual(out["class"], "HybridExecutor")
        self.assertEqual([c[0] for c in out["calls"]], [0, 1, 4, 9])
        for _, pid, thread in out["calls"]:
            self.assertNotEqual(pid, out["pid"])
            self.assertTrue(thread.startswith("forkcast-hybrid-"), thread)
        self.assertEqual(out["error"], "boom 3")
        # FORKCAST_WORKERS processes × FORKCAST_HYBRID_THREADS threads: 2 × 2 = 4 workers in all.
        self.assertSwap(swaps, "ProcessPoolExecutor", "HybridExecutor", 4)

    def test_thread_pool_becomes_a_process_pool(self):
        out, swaps, _ = run("ThreadPool", "processes")
        self.assertEqual(out["class"], "Pool")
        self.assertNotIn(out["pid"], {c[1] for c in out["calls"]})
        self.assertSwap(swaps, "ThreadPool", "Pool", 2)

    def test_no_or_unknown_strategy_swaps_nothing(self):
        for strategy in ("", "fibers"):
            out, swaps, _ = run("ThreadPoolExecutor", strategy)
            self.assertEqual(out["class"], "ThreadPoolExecutor", strategy)
            self.assertEqual(swaps, [], strategy)

    def test_the_standard_library_keeps_its_own_executors(self):
        program = textwrap.dedent("""
            import asyncio, json, threading
            async def main():
                return await asyncio.get_running_loop().run_in_executor(None, lambda: threading.current_thread().name)
            print(json.dumps({"thread": asyncio.run(main())}))
        """)
        out, swaps, _ = run("-", "serial", program=program)
        self.assertNotEqual(out["thread"], "MainThread", "asyncio's default executor is a real thread pool")
        self.assertEqual(swaps, [])

    def test_a_shadowed_sitecustomize_still_runs(self):
        with tempfile.TemporaryDirectory() as other:
            with open(os.path.join(other, "sitecustomize.py"), "w") as f:
                f.write("import builtins\nbuiltins.CHAINED = 'yes'\n")
            program = "import json, builtins\nprint(json.dumps({'chained': getattr(builtins, 'CHAINED', None)}))\n"
            out, _, stderr = run("-", "threads", program=program, path=HERE + os.pathsep + other)
        self.assertEqual(out["chained"], "yes", stderr)

    def test_a_thread_pool_replaced_by_processes_does_not_rerun_an_unguarded_script(self):
        # No `if __name__ == "__main__"` guard and a spawn default (as forkserver is from
        # CPython 3.14): the replacing process pool must fork, or each worker would import
        # the script as __mp_main__ and run it again.
        program = textwrap.dedent("""
            import concurrent.futures, json, multiprocessing, os
            multiprocessing.set_start_method("spawn", force=True)
            def square(x):
                return x * x
            with concurrent.futures.ThreadPoolExecutor(4) as ex:
                print(json.dumps({"pid": os.getpid(), "results": list(ex.map(square, range(4)))}))
        """)
        for strategy in ("processes", "hybrid"):
            with tempfile.TemporaryDirectory() as tmp:
                script = os.path.join(tmp, "prog.py")
                with open(script, "w") as f:
                    f.write(program)
                env = dict(os.environ, PYTHONPATH=HERE, FORKCAST_STRATEGY=strategy, FORKCAST_WORKERS="2",
                           FORKCAST_HYBRID_THREADS="2")
                done = subprocess.run([sys.executable, script], env=env, capture_output=True, text=True, timeout=120)
            self.assertEqual(done.returncode, 0, done.stderr)
            lines = done.stdout.strip().splitlines()
            self.assertEqual(len(lines), 1, "%s: the script ran %d times: %s" % (strategy, len(lines), lines))
            self.assertEqual(json.loads(lines[0])["results"], [0, 1, 4, 9])

    def test_interpreters_need_cpython_3_14(self):
        if sys.version_info >= (3, 14):
            out, swaps, _ = run("ThreadPoolExecutor", "interpreters")
            self.assertEqual(out["class"], "InterpreterPoolExecutor")
            self.assertEqual([c[0] for c in out["calls"]], [0, 1, 4, 9])
            self.assertSwap(swaps, "ThreadPoolExecutor", "InterpreterPoolExecutor", 2)
        else:
            with self.assertRaises(AssertionError) as failed:
                run("ThreadPoolExecutor", "interpreters")
            self.assertIn("the interpreters strategy needs CPython 3.14+", str(failed.exception))

    def test_bad_worker_counts_fall_back_to_one(self):
        out, swaps, _ = run("ThreadPoolExecutor", "threads", extra_env={"FORKCAST_WORKERS": "many"})
        self.assertSwap(swaps, "ThreadPoolExecutor", "ThreadPoolExecutor", 1)
        self.assertEqual(len(out["calls"]), 4)


class InProcessTests(unittest.TestCase):
    """The executors' own behaviour, imported directly (install() is not called)."""

    def test_serial_executor_and_pool_api(self):
        pool = forkcast_swap.ExecutorPool(forkcast_swap.SerialExecutor())
        self.assertEqual(pool.map(abs, [-1, -2]), [1, 2])
        self.assertEqual(pool.starmap(pow, [(2, 3), (3, 2)]), [8, 9])
        got = []
        result = pool.map_async(abs, [-3], callback=got.append)
        self.assertEqual(result.get(timeout=5), [3])
        self.assertEqual(got, [[3]])
        errors = []
        failing = pool.apply_async(int, ("x",), error_callback=errors.append)
        failing.wait(5)
        self.assertFalse(failing.successful())
        self.assertIsInstance(errors[0], ValueError)
        self.assertEqual(sorted(pool.imap_unordered(abs, [-2, -1])), [1, 2])
        pool.close()
        pool.join()
        with self.assertRaises(ValueError):
            pool.apply(abs, (1,))

    def test_serial_executor_refuses_work_after_shutdown(self):
        ex = forkcast_swap.SerialExecutor()
        self.assertEqual(ex.submit(threading.current_thread).result(), threading.current_thread())
        ex.shutdown()
        with self.assertRaises(RuntimeError):
            ex.submit(abs, 1)

    def test_install_without_a_strategy_changes_nothing(self):
        import concurrent.futures
        before = concurrent.futures.ThreadPoolExecutor
        forkcast_swap.install()
        self.assertIs(concurrent.futures.ThreadPoolExecutor, before)


if __name__ == "__main__":
    unittest.main()
