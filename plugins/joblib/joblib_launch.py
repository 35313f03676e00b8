#!/usr/bin/env python3
"""Runs a Python program with joblib's default backend set from the command line.

    python3 joblib_launch.py --backend loky --n-jobs 4 [--inner-threads 1] -- script.py args...
    python3 joblib_launch.py --backend threading --n-jobs 4 -- -m package.module args...

The program runs as __main__ with sys.argv as if started directly; `Parallel()` calls
that do not name a backend use the one given here, and n_jobs=None/-1 uses --n-jobs.
"""

import argparse
import runpy
import sys


def configure(backend, n_jobs, inner_threads):
    import joblib
    kwargs = {"n_jobs": n_jobs}
    if backend == "loky" and inner_threads > 0:
        kwargs["inner_max_num_threads"] = inner_threads
    if hasattr(joblib, "parallel_config"):       # joblib ≥ 1.3
        cm = joblib.parallel_config(backend=backend, **kwargs)
    else:                                          # older: parallel_backend
        cm = joblib.parallel_backend(backend, **kwargs)
    cm.__enter__()   # for the whole program's life
    return cm


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", required=True, choices=["sequential", "threading", "loky", "multiprocessing"])
    parser.add_argument("--n-jobs", type=int, required=True)
    parser.add_argument("--inner-threads", type=int, default=0)
    parser.add_argument("program", nargs=argparse.REMAINDER)
    a = parser.parse_args(argv)
    program = a.program[1:] if a.program[:1] == ["--"] else a.program
    if not program:
        parser.error("no program to run")
    try:
        configure(a.backend, a.n_jobs, a.inner_threads)
    except ImportError:
        print("joblib_launch: joblib is not installed for this Python; running the program unchanged", file=sys.stderr)
    if program[0] == "-m":
        if len(program) < 2:
            parser.error("-m needs a module")
        sys.argv = [program[1]] + program[2:]
        runpy.run_module(program[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = program
        sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.abspath(program[0])))
        runpy.run_path(program[0], run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
