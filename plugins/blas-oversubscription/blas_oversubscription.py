#!/usr/bin/env python3
"""Forkcast analyzer: NumPy/BLAS thread oversubscription.

Every process that calls NumPy's linear algebra starts a BLAS thread pool (OpenBLAS,
MKL, BLIS, or OpenMP's libgomp/libomp) sized to all the cores. Under a process pool of
W workers that is W × cores threads fighting for the cores: they queue runnable, spin in
sched_yield, and the "parallel" run gets slower. This analyzer finds those threads by
their frames (the BLAS/OpenMP libraries and their thread entry points), counts them per
process and over the recording, measures how often they waited for a CPU or spun, and
says what to set.
"""

import re
import sys
from collections import Counter, defaultdict

from forkcast_plugin import Profile, serve, stack_labels

NAME = "blas-oversubscription"
VERSION = "1.0.0"

BLAS_MODULE = re.compile(r"lib(scipy_openblas\w*|openblas\w*|blas|cblas|mkl_\w+|gomp|iomp5|omp|blis|flexiblas)[.-]", re.I)
POOL_ENTRY = re.compile(r"^(blas_thread_server|gomp_thread_start|__kmp_launch_worker|__kmp_launch_thread|exec_blas|blas_thread_init|bli_thread)", re.I)
SPIN = re.compile(r"^(sched_yield|__sched_yield|gomp_barrier_wait|gomp_team_barrier_wait|__kmp_wait|__kmp_yield|gomp_spin)")
WANTS_CPU = {"on_cpu", "runnable"}


def is_blas(stack):
    for f in stack:
        module = (f.get("module") or "").rsplit("/", 1)[-1]
        if BLAS_MODULE.search(module + ".") or POOL_ENTRY.match(f.get("name", "")):
            return True
    return False


def library(stack):
    for f in stack:
        m = BLAS_MODULE.search((f.get("module") or "").rsplit("/", 1)[-1] + ".")
        if m:
            name = m.group(1).lower()
            return "OpenMP (" + name + ")" if name in ("gomp", "iomp5", "omp") else ("openblas" if "openblas" in name else name.split("_")[0])
    return "BLAS"


def analyze(profile):
    blas_stack = [is_blas(s) for s in profile.stacks]
    spin_stack = [bool(s) and bool(SPIN.match(s[0].get("name", ""))) and blas_stack[i] for i, s in enumerate(profile.stacks)]
    threads = defaultdict(set)          # pid -> tids seen in BLAS code
    state_counts = Counter()            # state of BLAS samples
    spins = 0
    wanting_per_tick = Counter()        # tick -> BLAS threads on CPU or runnable
    stacks_seen = Counter()
    libs = Counter()
    total_blas = 0
    for t, pid, tid, stack, state, _wait, _gil in profile.samples():
        if not blas_stack[stack]:
            continue
        total_blas += 1
        threads[pid].add(tid)
        state_counts[state] += 1
        if spin_stack[stack]:
            spins += 1
        if state in WANTS_CPU:
            wanting_per_tick[t] += 1
        stacks_seen[stack] += 1
        libs[library(profile.stacks[stack])] += 1
    if total_blas == 0:
        return []
    cores = profile.cores
    pools = {pid: len(tids) for pid, tids in threads.items()}
    total_threads = sum(pools.values())
    ticks = max(1, len({t for t in profile.columns["t"]}))
    mean_wanting = sum(wanting_per_tick.values()) / ticks
    peak_wanting = max(wanting_per_tick.values(), default=0)
    runnable_share = state_counts["runnable"] / total_blas
    spin_share = spins / total_blas
    cpu_seconds = state_counts["on_cpu"] * profile.period_s
    lib = libs.most_common(1)[0][0]
    per_worker = max(1, cores // max(1, len(pools)))
    metrics = {
        "blas_threads": total_threads, "processes": len(pools), "cores": cores,
        "threads_per_core": round(total_threads / cores, 3),
        "mean_threads_wanting_cpu": round(mean_wanting, 3), "peak_threads_wanting_cpu": peak_wanting,
        "runnable_share": round(runnable_share, 4), "spin_share": round(spin_share, 4),
        "blas_cpu_seconds": round(cpu_seconds, 3), "suggested_threads_per_process": per_worker,
    }
    top = [stack_labels(profile.stacks[s]) for s, _ in stacks_seen.most_common(2)]
    where = f"{total_threads} {lib} threads in {len(pools)} process{'es' if len(pools) != 1 else ''}"
    if total_threads <= cores:
        return [{
            "id": f"{NAME}.fits", "severity": "info", "factor": "cpu_starvation",
            "title": f"BLAS thread pools fit the machine: {where} on {cores} cores",
            "detail": f"{round(cpu_seconds, 2)} s of CPU in {lib}; {round(runnable_share * 100)}% of its samples waited for a CPU.",
            "metrics": metrics, "stacks": top[:1],
        }]
    severe = total_threads >= 2 * cores and (runnable_share >= 0.3 or spin_share >= 0.2)
    noticeable = runnable_share >= 0.1 or spin_share >= 0.1 or mean_wanting > cores
    severity = "critical" if severe else "warning" if noticeable else "info"
    env = " ".join(f"{v}={per_worker}" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"))
    detail = (
        f"{where} on {cores} cores ({round(total_threads / cores, 1)} per core): on average {round(mean_wanting, 1)} "
        f"wanted a CPU at once (peak {peak_wanting}); {round(runnable_share * 100)}% of their samples were runnable waiting "
        f"for a core and {round(spin_share * 100)}% spun in a yield/barrier loop. Each process sizes its pool to all cores. "
        f"Give each of the {len(pools)} process{'es' if len(pools) != 1 else ''} {per_worker} thread{'s' if per_worker != 1 else ''}: "
        f"{env} in the workers' environment, or threadpoolctl.threadpool_limits({per_worker})."
    )
    return [{
        "id": f"{NAME}.oversubscribed", "severity": severity, "factor": "cpu_starvation",
        "title": f"NumPy/BLAS threads oversubscribe the CPU: {where} on {cores} cores",
        "detail": detail, "metrics": metrics, "stacks": top,
    }]


def handle(request):
    if request.get("type") != "analyze":
        raise ValueError(f"unexpected request {request.get('type')!r}")
    return {"type": "findings", "findings": analyze(Profile(request["profile"]))}


if __name__ == "__main__":
    sys.exit(serve(handle, NAME, VERSION))
