#!/usr/bin/env python3
"""What reading Python costs, per CPython version: `forkcast record` with and without
Python frames (`--no-python`) and py-spy, on the same fixed-work program
(benchmarks/overhead/cpu_work.py: 4 pure-Python CPU threads), side by side, interleaved
over rounds (round 1: every interpreter × every variant, round 2: the same, …).

Per (interpreter, variant): slowdown = median over rounds of (work time profiled / work
time unprofiled in the same round, same interpreter); the recorder's own figures (cost
of one sample, median and p99; tracer CPU per sample; share of worker samples with a
Python frame; Python-read errors); and the **Python read cost per sample** = median cost
with Python − median cost with `--no-python`, same interpreter, same rate, same rounds.

run.sh prepares everything and calls this; see README.md. Standard library only.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOAD = os.path.join(HERE, "..", "overhead", "cpu_work.py")
CACHE = os.environ.get("FORKCAST_CACHE") or os.path.expanduser("~/.cache/forkcast")
CHROOT = os.path.join(CACHE, "sid-chroot")
INSIDE = "/opt/forkcast-bench"


def env_int(name, default):
    v = os.environ.get(name, "")
    try:
        return int(v) if v else default
    except ValueError:
        sys.exit(f"bench-python: {name} must be an integer, got {v!r}")


QUICK = os.environ.get("QUICK", "") not in ("", "0")
ROUNDS = env_int("ROUNDS", 1 if QUICK else 3)
CHUNKS = env_int("PY_CHUNKS", 800 if QUICK else 2500)
THREADS = env_int("THREADS", 4)
RATES = [int(r) for r in os.environ.get("RATES", "100,1000").split(",") if r.strip()]
FORKCAST = os.environ["FORKCAST"]
PY_SPY = os.environ.get("PY_SPY") or None
ONLY = set(filter(None, os.environ.get("ONLY", "").split(",")))


def interpreters():
    """(name, argv prefix, path of the workload as the interpreter sees it, result dir on
    the host, result dir as the interpreter sees it); missing ones are listed and skipped."""
    found, missing = [], []
    host = [("3.11", "/usr/bin/python3.11")]
    pyenv = os.path.join(os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv")), "versions")
    py312 = os.environ.get("FORKCAST_PYTHON312") or next(
        (os.path.join(pyenv, v, "bin/python3.12") for v in sorted(os.listdir(pyenv), reverse=True)
         if v.startswith("3.12")), None) if os.path.isdir(pyenv) or os.environ.get("FORKCAST_PYTHON312") else None
    host.append(("3.12", py312))
    host.append(("3.13 (built)", os.path.join(CACHE, "cpython-3.13/gil/bin/python3.13")))
    host.append(("3.13t (built)", os.path.join(CACHE, "cpython-3.13/ft/bin/python3.13t")))
    for name, path in host:
        if path and os.access(path, os.X_OK):
            found.append((name, [path], WORKLOAD, None))
        else:
            missing.append(f"{name} ({path or 'none installed'})")
    for v in ("3.13", "3.14", "3.15"):
        py = os.path.join(CHROOT, "usr/bin", f"python{v}")
        if os.access(py, os.X_OK) and os.geteuid() == 0:
            found.append((f"{v} (sid)", ["/usr/sbin/chroot", CHROOT, f"python{v}"], f"{INSIDE}/cpu_work.py", CHROOT))
        else:
            missing.append(f"{v} (sid chroot: scripts/assets/sid-chroot.sh, as root)")
    if ONLY:
        found = [i for i in found if i[0].split()[0] in ONLY]
    return found, missing


def variants():
    out = [("none", None)]
    for r in RATES:
        out += [("forkcast", r), ("forkcast --no-python", r)]
    if PY_SPY:
        out += [("py-spy", r) for r in RATES]
    return out


def run_one(interp, variant, rate, rnd, work):
    name, prefix, script, root = interp
    tag = f"r{rnd}-{name.split()[0]}-{variant.replace(' ', '').replace('-', '')}-{rate}"
    # The result file: the interpreter writes it where it sees it (inside the chroot).
    host_dir = os.path.join(root + INSIDE, "results") if root else work
    os.makedirs(host_dir, exist_ok=True)
    result_host = os.path.join(host_dir, tag + ".jsonl")
    result_seen = f"{INSIDE}/results/{tag}.jsonl" if root else result_host
    target = prefix + [script, str(CHUNKS), str(THREADS)]
    out = os.path.join(work, tag + ".out")
    if variant == "none":
        argv = target
    elif variant.startswith("forkcast"):
        argv = [FORKCAST, "record", "-q", "-o", out, "--rate", str(rate)] + variant.split()[1:] + ["--"] + target
    else:
        argv = [PY_SPY, "record", "--rate", str(rate), "--idle", "--threads", "--format", "raw", "-o", out, "--"] + target
    env = dict(os.environ, FORKCAST_BENCH_RESULT=result_seen, PYTHONDONTWRITEBYTECODE="1")
    log = os.path.join(work, tag + ".log")
    with open(log, "w") as f:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
        try:
            code = proc.wait(timeout=300)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return {"error": "timed out"}
    if code != 0:
        with open(log, errors="replace") as f:
            return {"error": f"exit {code}: " + " ".join(f.read()[-300:].split())}
    try:
        with open(result_host) as f:
            res = json.loads(f.readline())
        os.unlink(result_host)
    except (OSError, ValueError) as e:
        return {"error": f"no result: {e}"}
    row = {"work_ns": res["work_ns"]}
    if variant.startswith("forkcast"):
        row.update(read_forkcast(out))
    elif variant == "py-spy":
        row.update(read_pyspy(out))
    if os.path.exists(out):
        os.unlink(out)
    return row


def read_forkcast(path):
    with open(path) as f:
        p = json.load(f)
    s = p["stats"]
    samples = p["samples"]
    threads = p["threads"]
    stacks = p["stacks"]
    frames = p["frames"]
    workers = {i for i, t in enumerate(threads) if t.get("name", "").startswith("cpu-")}
    with_py = total = 0
    for th, st in zip(samples["thread"], samples["stack"]):
        if th in workers:
            total += 1
            if any(frames[i].get("kind") == "python" for i in stacks[st]["frames"]):
                with_py += 1
    taken = s["samplesTaken"]
    return {"cost_med_ns": s["sampleCostMedianNs"], "cost_p99_ns": s["sampleCostP99Ns"],
            "tracer_ns_per_sample": s["tracerCPUNs"] / taken if taken else None,
            "py_share": with_py / total if total else None, "py_errors": s["pythonReadErrors"],
            "runtime": next((pr.get("runtime") for pr in p["processes"] if pr.get("runtime")), None)}


def read_pyspy(path):
    """py-spy's raw output: `thread (TID): NAME;frame (file:line);… COUNT` per line."""
    total = with_py = 0
    with open(path, errors="replace") as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not stack or not count.isdigit():
                continue
            head = stack.split(";", 1)[0]
            if ": cpu-" in head:
                total += int(count)
                if "(cpu_work.py:" in stack:
                    with_py += int(count)
    return {"py_share": with_py / total if total else None}


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def main():
    interps, missing = interpreters()
    for m in missing:
        print(f"bench-python: skipped {m}", file=sys.stderr)
    if not interps:
        sys.exit("bench-python: no interpreter to measure")
    work = tempfile.mkdtemp(prefix="forkcast-bench-python-")
    for _, _, _, root in interps:
        if root:
            os.makedirs(root + INSIDE, exist_ok=True)
            shutil.copy(WORKLOAD, root + INSIDE + "/cpu_work.py")
    vs = variants()
    results = {}
    loads = []
    started = time.time()
    for interp in interps:  # warm-up: page cache, loader
        run_one(interp, "none", None, 0, work)
    for rnd in range(1, ROUNDS + 1):
        for interp in interps:
            for variant, rate in vs:
                loads.append(os.getloadavg()[0])
                r = run_one(interp, variant, rate, rnd, work)
                results.setdefault((interp[0], variant, rate), []).append((rnd, r))
                if "error" in r:
                    print(f"bench-python: {interp[0]} {variant} {rate or ''}: {r['error']}", file=sys.stderr)
        print(f"bench-python: round {rnd}/{ROUNDS} done ({time.time() - started:.0f} s)", file=sys.stderr)
    shutil.rmtree(work, ignore_errors=True)

    print(f"# Python read cost: {THREADS} pure-Python threads x {CHUNKS} chunks (cpu_work.py), "
          f"{ROUNDS} interleaved round(s), {os.cpu_count()} cores, load average during the run: "
          f"median {median(loads):.2f}, max {max(loads):.2f}")
    print(f"# reproduce: ROUNDS={ROUNDS} PY_CHUNKS={CHUNKS} RATES={','.join(map(str, RATES))} benchmarks/python/run.sh")
    print()
    header = ("| interpreter | profiler | Hz | slowdown | cost/sample med | p99 | Python read/sample | tracer CPU/sample "
              "| worker samples with Python frames | read errors |")
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    rows = []
    for interp in interps:
        name = interp[0]
        base = {rnd: r["work_ns"] for rnd, r in results.get((name, "none", None), []) if "work_ns" in r}
        for variant, rate in vs:
            if variant == "none":
                continue
            runs = [(rnd, r) for rnd, r in results.get((name, variant, rate), []) if "work_ns" in r and rnd in base]
            if not runs:
                errors = [r["error"] for _, r in results.get((name, variant, rate), []) if "error" in r]
                why = (errors[0][:90] + "…") if errors else "no unprofiled run to compare with"
                print(f"| {name} | {variant} | {rate} | failed: {why} | | | | | | |")
                continue
            slow = median([r["work_ns"] / base[rnd] for rnd, r in runs])
            cost = median([r.get("cost_med_ns") for _, r in runs])
            p99 = median([r.get("cost_p99_ns") for _, r in runs])
            tracer = median([r.get("tracer_ns_per_sample") for _, r in runs])
            share = median([r.get("py_share") for _, r in runs])
            errors = sum(r.get("py_errors") or 0 for _, r in runs) if variant.startswith("forkcast") else None
            read = None
            if variant == "forkcast":
                off = [r.get("cost_med_ns") for _, r in results.get((name, "forkcast --no-python", rate), []) if "work_ns" in r]
                if cost is not None and median(off) is not None:
                    read = cost - median(off)
            us = lambda ns: f"{ns / 1000:.1f} µs" if ns is not None else "–"
            pct = f"{share * 100:.0f}%" if share is not None and variant != "forkcast --no-python" else "–"
            print(f"| {name} | {variant} | {rate} | {slow:.3f} | {us(cost)} | {us(p99)} | {us(read) if read is not None else '–'} "
                  f"| {us(tracer)} | {pct} | {errors if errors is not None else '–'} |")
            rows.append({"interpreter": name, "profiler": variant, "rate": rate, "slowdown": slow, "cost_med_ns": cost,
                         "cost_p99_ns": p99, "python_read_ns": read, "tracer_ns_per_sample": tracer, "python_share": share})
    out = os.environ.get("OUT")
    if out:
        with open(out, "w") as f:
            json.dump({"rounds": ROUNDS, "chunks": CHUNKS, "threads": THREADS, "load_median": median(loads),
                       "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
