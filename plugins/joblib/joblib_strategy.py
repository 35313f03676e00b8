#!/usr/bin/env python3
"""Forkcast strategy: joblib programs, without editing them.

A program written with `joblib.Parallel(n_jobs=...)` picks its backend in code. This
strategy launches it through `joblib_launch.py`, which sets joblib's default backend
(`parallel_config`) before the program starts, so `Parallel(n_jobs=-1)` / `n_jobs=None`
calls follow the experiment's (strategy, workers):

  serial     backend "sequential", 1 job
  threads    backend "threading", W jobs          (GIL-releasing work: NumPy, I/O)
  processes  backend "loky", W jobs, 1 BLAS thread each (no oversubscription)
  hybrid     backend "loky", W/2 processes × 2 inner threads each

It also sets OMP/OpenBLAS/MKL thread counts so NumPy inside the workers does not
multiply the cores, and FORKCAST_STRATEGY / FORKCAST_WORKERS for programs that read them.
"""

import os
import sys

from forkcast_plugin import serve

NAME = "joblib"
VERSION = "1.0.0"
HERE = os.path.dirname(os.path.abspath(__file__))
BLAS_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def plan(strategy, workers):
    """(backend, n_jobs, inner threads per worker) for a strategy."""
    w = max(1, int(workers))
    if strategy == "serial":
        return "sequential", 1, 1
    if strategy == "threads":
        return "threading", w, 1
    if strategy == "processes":
        return "loky", w, 1
    if strategy == "hybrid":
        inner = 2 if w >= 2 else 1
        return "loky", max(1, w // inner), inner
    raise ValueError(f"unknown strategy {strategy!r} (this plugin launches serial, threads, processes, hybrid)")


def split_python(command):
    """(interpreter, program args) for a Python command line, or raise."""
    if not command:
        raise ValueError("the workload has no command")
    exe = os.path.basename(command[0])
    if exe.startswith("python"):
        return command[0], command[1:]
    if command[0].endswith(".py"):
        return sys.executable or "python3", command
    raise ValueError(f"{command[0]} is not a Python program (run it as `python3 script.py ...`)")


def launch(request):
    workload = request["workload"]
    backend, jobs, inner = plan(request["strategy"], request["workers"])
    python, args = split_python(workload["command"])
    env = dict(workload.get("environment") or {})
    threads_per_job = inner if backend == "loky" else (1 if backend == "threading" and jobs > 1 else 0)
    if threads_per_job:
        for v in BLAS_VARS:
            env[v] = str(threads_per_job)
    env["FORKCAST_STRATEGY"] = request["strategy"]
    env["FORKCAST_WORKERS"] = str(max(1, int(request["workers"])))
    command = [python, os.path.join(HERE, "joblib_launch.py"), "--backend", backend, "--n-jobs", str(jobs),
               "--inner-threads", str(inner), "--"] + args
    spec = {"command": command, "environment": env}
    if workload.get("working_directory"):
        spec["working_directory"] = workload["working_directory"]
    return {"type": "launch_specs", "specs": [spec]}


def handle(request):
    if request.get("type") != "launch":
        raise ValueError(f"unexpected request {request.get('type')!r}")
    return launch(request)


if __name__ == "__main__":
    sys.exit(serve(handle, NAME, VERSION))
