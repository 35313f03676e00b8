#!/usr/bin/env python3
"""Overhead benchmark of `forkcast record` against py-spy and perf.

Runs fixed-work programs unprofiled and under each profiler, interleaved and repeated
(round 1: A B C D …, round 2: A B C D …), and prints, per (program, profiler, rate):
the slowdown against the unprofiled runs of the same rounds, the samples achieved per
second per thread against the rate asked, the share of stacks unwound to the root, the
cost of one sample (median, p99) and the tracer's CPU time, then the targets of issues
2 and 3 and whether each is met. The table is also written as JSON.

run.sh prepares everything (builds, installs) and calls this; see README.md for the
environment variables and how to read the output. Standard library only.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))

# Targets (issue 2, "Done means"; issue 3 for the Python-frames case).
TARGET_SLOWDOWN_100 = 1.03
TARGET_SLOWDOWN_1000 = 1.15
TARGET_RATE_1000 = 0.90
TARGET_TO_ROOT = 0.95


# ----------------------------------------------------------------------------------------
# Configuration


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        sys.exit(f"bench: {name} must be an integer, got {value!r}")


@dataclass
class Config:
    forkcast: str
    python: str
    py_spy: str | None
    perf: str | None
    mutex_bin: str
    rounds: int
    threads: int
    py_chunks: int
    c_rounds: int
    rates: list[int]
    quick: bool
    only: re.Pattern | None
    keep: bool
    out: str
    alternates: dict[str, str] = field(default_factory=dict)
    timeout_factor: float = 25.0

    @staticmethod
    def from_env() -> "Config":
        quick = os.environ.get("QUICK", "") not in ("", "0")
        rates = [int(r) for r in os.environ.get("RATES", "100,1000").split(",") if r.strip()]
        only = os.environ.get("ONLY")
        date = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        return Config(
            forkcast=os.environ["FORKCAST"],
            python=os.environ["BENCH_PYTHON"],
            py_spy=os.environ.get("PY_SPY") or None,
            perf=os.environ.get("PERF") or None,
            mutex_bin=os.environ["MUTEX_BIN"],
            rounds=env_int("ROUNDS", 2 if quick else 7),
            threads=env_int("THREADS", 4),
            py_chunks=env_int("PY_CHUNKS", 2500 if quick else 10000),
            c_rounds=env_int("C_ROUNDS", 80000 if quick else 300000),
            rates=rates,
            quick=quick,
            only=re.compile(only) if only else None,
            keep=os.environ.get("KEEP", "") not in ("", "0"),
            out=os.environ.get("OUT") or os.path.join(HERE, f"results-{date}.json"),
            alternates=parse_alternates(os.environ.get("FORKCAST_ALT", "")),
        )


def parse_alternates(text: str) -> dict[str, str]:
    """FORKCAST_ALT="name=/path/to/forkcast,other=/path": extra forkcast builds measured in
    the same rounds (A/B of a tracer change); their rows read `forkcast[name]`."""
    out = {}
    for item in filter(None, (x.strip() for x in text.split(","))):
        name, sep, path = item.partition("=")
        if not sep or not name or not os.access(path, os.X_OK):
            sys.exit(f"bench: FORKCAST_ALT entry {item!r} is not name=/path/to/executable")
        out[name] = path
    return out


# ----------------------------------------------------------------------------------------
# What is run


@dataclass
class Program:
    key: str            # "python" | "c"
    title: str
    argv: list[str]


@dataclass
class Variant:
    program: Program
    profiler: str       # "none" | "forkcast" | "py-spy" | "py-spy --native" | "py-spy --gil" | "perf"
    rate: int | None

    @property
    def label(self) -> str:
        return f"{self.program.key}/{self.profiler}" + (f"@{self.rate}" if self.rate else "")

    def command(self, cfg: Config, work: str, tag: str) -> tuple[list[str], str | None]:
        """The argv to run and the output file the profiler writes (None when unprofiled)."""
        target = self.program.argv
        if self.profiler == "none":
            return target, None
        if self.profiler.startswith("forkcast"):
            out = os.path.join(work, f"{tag}.profile.json")
            binary = cfg.alternates[self.profiler[9:-1]] if self.profiler != "forkcast" else cfg.forkcast
            return [binary, "record", "-q", "-o", out, "--rate", str(self.rate), "--", *target], out
        if self.profiler.startswith("py-spy"):
            out = os.path.join(work, f"{tag}.pyspy.txt")
            extra = self.profiler.split()[1:]
            # Blocking mode (the default: py-spy pauses the target to read it), like forkcast.
            return [cfg.py_spy, "record", "--rate", str(self.rate), "--idle", "--threads", "--format", "raw",
                    *extra, "-o", out, "--", *target], out
        if self.profiler == "perf":
            out = os.path.join(work, f"{tag}.perf.data")
            return [cfg.perf, "record", "-q", "-e", "cpu-clock", "-g", "-F", str(self.rate), "-o", out,
                    "--", *target], out
        raise ValueError(self.profiler)


def build_variants(cfg: Config) -> list[Variant]:
    py = Program("python", f"cpu_work.py: {cfg.threads} pure-Python CPU threads x {cfg.py_chunks} chunks",
                 [cfg.python, os.path.join(HERE, "cpu_work.py"), str(cfg.py_chunks), str(cfg.threads)])
    c = Program("c", f"mutex_work: {cfg.threads} threads x {cfg.c_rounds} lock rounds",
                [cfg.mutex_bin, str(cfg.c_rounds), str(cfg.threads)])
    out: list[Variant] = [Variant(py, "none", None)]
    for r in cfg.rates:
        out.append(Variant(py, "forkcast", r))
        for name in cfg.alternates:
            out.append(Variant(py, f"forkcast[{name}]", r))
    if cfg.py_spy:
        for r in cfg.rates:
            out.append(Variant(py, "py-spy", r))
        # Issue 3's Python-frames case: py-spy's native-merged and GIL-only modes at 100 Hz.
        out.append(Variant(py, "py-spy --native", 100))
        out.append(Variant(py, "py-spy --gil", 100))
    out.append(Variant(c, "none", None))
    for r in cfg.rates:
        out.append(Variant(c, "forkcast", r))
        for name in cfg.alternates:
            out.append(Variant(c, f"forkcast[{name}]", r))
    if cfg.perf:
        for r in cfg.rates:
            out.append(Variant(c, "perf", r))
    if cfg.only:
        out = [v for v in out if v.profiler == "none" or cfg.only.search(v.label)]
    return out


# ----------------------------------------------------------------------------------------
# One run


@dataclass
class Run:
    variant: str
    round: int
    ok: bool
    error: str | None = None
    work_ns: int | None = None        # the program's own timing of its fixed work
    wall_ns: int | None = None        # the whole command, profiler start-up and write-out included
    target_cpu_ns: int | None = None  # the program's own CPU time (getrusage)
    target_switches: int | None = None  # the program's context switches (getrusage), GIL hand-overs among them
    tree_cpu_ns: int | None = None    # the whole command's CPU (profiler + program)
    load1: float | None = None
    profile: dict = field(default_factory=dict)  # what the profiler's output tells


def loadavg() -> float:
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except OSError:
        return float("nan")


def cpu_busy_counters() -> tuple[int, int]:
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def run_one(cfg: Config, v: Variant, rnd: int, work: str, timeout_s: float) -> Run:
    tag = f"r{rnd}-{re.sub(r'[^A-Za-z0-9.-]+', '-', v.label)}"
    argv, out = v.command(cfg, work, tag)
    result_file = os.path.join(work, f"{tag}.result.jsonl")
    log_file = os.path.join(work, f"{tag}.log")
    env = dict(os.environ, FORKCAST_BENCH_RESULT=result_file, PYTHONDONTWRITEBYTECODE="1")
    run = Run(variant=v.label, round=rnd, ok=False, load1=loadavg())
    began = time.monotonic_ns()
    with open(log_file, "w") as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
        try:
            _, status, usage = wait4_timeout(proc, timeout_s)
        except TimeoutError:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            run.error = f"timed out after {timeout_s:.0f} s"
            return run
    run.wall_ns = time.monotonic_ns() - began
    run.tree_cpu_ns = int((usage.ru_utime + usage.ru_stime) * 1e9)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        run.error = f"exit status {code}: {tail(log_file)}"
        return run
    try:
        with open(result_file) as f:
            line = f.readline()
        res = json.loads(line)
        run.work_ns = int(res["work_ns"])
        run.target_cpu_ns = int(res["cpu_ns"])
        run.target_switches = int(res.get("voluntary_switches", 0)) + int(res.get("involuntary_switches", 0))
    except (OSError, ValueError, KeyError) as e:
        run.error = f"the program wrote no result ({e}): {tail(log_file)}"
        return run
    try:
        if v.profiler.startswith("forkcast"):
            run.profile = read_forkcast(out)
        elif v.profiler.startswith("py-spy"):
            run.profile = read_pyspy(out, run.work_ns, cfg.threads)
        elif v.profiler == "perf":
            run.profile = read_perf(cfg.perf, out, run.work_ns, cfg.threads)
    except (OSError, ValueError, KeyError, subprocess.SubprocessError) as e:
        run.error = f"could not read the profiler's output {out}: {e}"
        return run
    run.ok = True
    if out and not cfg.keep and os.path.exists(out):
        os.unlink(out)
    return run


def wait4_timeout(proc: subprocess.Popen, timeout_s: float):
    deadline = time.monotonic() + timeout_s
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return pid, status, usage
        if time.monotonic() > deadline:
            raise TimeoutError
        time.sleep(0.005)


def tail(path: str, n: int = 300) -> str:
    try:
        with open(path, errors="replace") as f:
            text = f.read()
    except OSError:
        return ""
    return " ".join(text[-n:].split())


# ----------------------------------------------------------------------------------------
# Reading each profiler's output


def read_forkcast(path: str) -> dict:
    with open(path) as f:
        p = json.load(f)
    s = p["stats"]
    taken = s["samplesTaken"]
    expected = s["samplesExpected"]
    duration_s = p["recording"]["durationNs"] / 1e9
    return {
        "samples": taken,
        "samples_expected": expected,
        "achieved_fraction": taken / expected if expected else None,
        "to_root": s["stacksComplete"] / taken if taken else None,
        "cost_median_ns": s["sampleCostMedianNs"],
        "cost_p99_ns": s["sampleCostP99Ns"],
        "tracer_cpu_ns": s["tracerCPUNs"],
        "tracer_cpu_share": s["tracerCPUNs"] / 1e9 / duration_s if duration_s else None,
        "ticks": s["ticks"],
        "tick_rate_hz": s["ticks"] / duration_s if duration_s else None,
        "late_ticks": s["lateTicks"],
        "missed_stops": s["missedStops"],
        "unwind_errors": s["unwindErrors"],
        "inconsistent_stacks": s["inconsistentStacks"],
        "python_frames": sum(1 for fr in p["frames"] if fr.get("kind") == "python"),
        "duration_s": duration_s,
    }


def read_pyspy(path: str, work_ns: int, threads: int) -> dict:
    """py-spy's raw (folded) output: `thread (tid): name;frame;frame N` per line.

    py-spy does not report the samples it was asked for, nor each thread's life, so the
    per-thread rate is estimated from the worker threads' samples over the work time
    (workers live about as long as the work), and marked approximate."""
    total = 0
    workers = 0
    per_thread: dict[str, int] = {}
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            stack, _, count = line.rpartition(" ")
            n = int(count)
            total += n
            thread = stack.split(";", 1)[0]
            per_thread[thread] = per_thread.get(thread, 0) + n
            if "crunch (" in stack:
                workers += n
    work_s = work_ns / 1e9
    return {
        "samples": total,
        "worker_samples": workers,
        "threads_seen": len(per_thread),
        "rate_per_thread_hz": workers / threads / work_s if work_s else None,
        "rate_is_estimate": True,
    }


def read_perf(perf: str, path: str, work_ns: int, threads: int) -> dict:
    """perf's cpu-clock event fires only while a thread is on a CPU, so its rate is of
    on-CPU time, not comparable with a sampler that also samples waiting threads."""
    out = subprocess.run([perf, "script", "-i", path, "-F", "tid"], capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise ValueError(out.stderr.strip()[-200:])
    per_tid: dict[str, int] = {}
    for line in out.stdout.splitlines():
        t = line.strip()
        if t:
            per_tid[t] = per_tid.get(t, 0) + 1
    total = sum(per_tid.values())
    work_s = work_ns / 1e9
    # The busiest `threads` tids are the workers (main only creates and joins them).
    workers = sum(sorted(per_tid.values(), reverse=True)[:threads])
    return {
        "samples": total,
        "rate_per_thread_hz": workers / threads / work_s if work_s else None,
        "rate_is_on_cpu_only": True,
    }


# ----------------------------------------------------------------------------------------
# Statistics


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def quartiles(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None, None
    if len(xs) < 4:
        return xs[0], xs[-1]
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], q[2]


def summarize(variants: list[Variant], runs: list[Run]) -> list[dict]:
    by_label: dict[str, list[Run]] = {}
    for r in runs:
        by_label.setdefault(r.variant, []).append(r)
    rows = []
    for v in variants:
        rs = [r for r in by_label.get(v.label, []) if r.ok]
        failed = [r for r in by_label.get(v.label, []) if not r.ok]
        base_label = Variant(v.program, "none", None).label
        base = {r.round: r for r in by_label.get(base_label, []) if r.ok}
        base_work = median([r.work_ns for r in base.values()])
        work = median([r.work_ns for r in rs])
        pair = [r.work_ns / base[r.round].work_ns for r in rs if r.round in base]
        wall_pair = [r.wall_ns / base[r.round].wall_ns for r in rs if r.round in base]
        q1, q3 = quartiles(pair)
        row = {
            "program": v.program.key,
            "profiler": v.profiler,
            "rate_hz": v.rate,
            "runs_ok": len(rs),
            "runs_failed": len(failed),
            "errors": sorted({r.error for r in failed if r.error}),
            "work_median_s": work / 1e9 if work else None,
            "slowdown_ratio_of_medians": (work / base_work) if (work and base_work) else None,
            "slowdown_median_of_ratios": median(pair),
            "slowdown_q1": q1,
            "slowdown_q3": q3,
            "wall_slowdown_median_of_ratios": median(wall_pair),
            "target_cpu_median_s": (median([r.target_cpu_ns for r in rs]) or 0) / 1e9 if rs else None,
            "target_switches_median": median([r.target_switches for r in rs]),
            "load1_median": median([r.load1 for r in rs]),
        }
        if v.profiler.startswith("forkcast"):
            row.update({
                "achieved_fraction": median([r.profile["achieved_fraction"] for r in rs]),
                "rate_per_thread_hz": (median([r.profile["achieved_fraction"] for r in rs]) or 0) * v.rate if rs else None,
                "to_root": median([r.profile["to_root"] for r in rs]),
                "to_root_min": min((r.profile["to_root"] for r in rs if r.profile["to_root"] is not None), default=None),
                "cost_median_us": (median([r.profile["cost_median_ns"] for r in rs]) or 0) / 1e3 if rs else None,
                "cost_p99_us": (median([r.profile["cost_p99_ns"] for r in rs]) or 0) / 1e3 if rs else None,
                "tracer_cpu_ms": (median([r.profile["tracer_cpu_ns"] for r in rs]) or 0) / 1e6 if rs else None,
                "tracer_cpu_share": median([r.profile["tracer_cpu_share"] for r in rs]),
                "tick_rate_hz": median([r.profile["tick_rate_hz"] for r in rs]),
                "late_ticks": median([r.profile["late_ticks"] for r in rs]),
                "missed_stops": median([r.profile["missed_stops"] for r in rs]),
                "python_frames": max((r.profile["python_frames"] for r in rs), default=0),
            })
        elif v.profiler.startswith("py-spy"):
            rate = median([r.profile["rate_per_thread_hz"] for r in rs])
            gil_only = "--gil" in v.profiler
            row.update({
                "rate_per_thread_hz": None if gil_only else rate,
                "achieved_fraction": None if (gil_only or rate is None) else rate / v.rate,
                "rate_note": "GIL holder only" if gil_only else "estimate: worker samples / (threads x work time)",
                "samples_median": median([r.profile["samples"] for r in rs]),
            })
        elif v.profiler == "perf":
            rate = median([r.profile["rate_per_thread_hz"] for r in rs])
            row.update({
                "rate_per_thread_hz": rate,
                "achieved_fraction": None,
                "rate_note": "on-CPU time only (cpu-clock)",
                "samples_median": median([r.profile["samples"] for r in rs]),
            })
        rows.append(row)
    return rows


# ----------------------------------------------------------------------------------------
# Targets


def find(rows, program, profiler, rate):
    for r in rows:
        if r["program"] == program and r["profiler"] == profiler and r["rate_hz"] == rate:
            return r
    return None


def evaluate(rows: list[dict]) -> list[dict]:
    """Each target as {what, figure, target, met} (met is None when it cannot be judged)."""
    checks = []

    def add(what, figure, target, met):
        checks.append({"what": what, "figure": figure, "target": target, "met": met})

    def slow(r):
        return r.get("slowdown_median_of_ratios") if r else None

    for program in ("python", "c"):
        fc100 = find(rows, program, "forkcast", 100)
        if fc100:
            s = slow(fc100)
            add(f"{program}: forkcast @100 Hz slowdown", fmt_x(s), f"<= {TARGET_SLOWDOWN_100:.2f}x",
                None if s is None else s <= TARGET_SLOWDOWN_100)
            ref = find(rows, program, "py-spy", 100)
            if ref and slow(ref) is not None and s is not None:
                add(f"{program}: forkcast @100 Hz vs py-spy @100 Hz", f"{fmt_x(s)} vs {fmt_x(slow(ref))}",
                    "no worse than py-spy", s <= slow(ref))
            elif program == "c":
                perf = find(rows, program, "perf", 100)
                add(f"{program}: forkcast @100 Hz vs py-spy @100 Hz", "py-spy cannot profile a C program"
                    + (f" (perf @100 Hz: {fmt_x(slow(perf))})" if perf else ""), "no worse than py-spy", None)
        fc1000 = find(rows, program, "forkcast", 1000)
        if fc1000:
            a = fc1000.get("achieved_fraction")
            add(f"{program}: forkcast @1000 Hz rate achieved",
                f"{fmt_pct(a)} ({fmt_num(fc1000.get('rate_per_thread_hz'))} Hz/thread)",
                f">= {TARGET_RATE_1000:.0%} of asked", None if a is None else a >= TARGET_RATE_1000)
            s = slow(fc1000)
            add(f"{program}: forkcast @1000 Hz slowdown", fmt_x(s), f"<= {TARGET_SLOWDOWN_1000:.2f}x",
                None if s is None else s <= TARGET_SLOWDOWN_1000)
        for r in rows:
            if r["program"] == program and r["profiler"] == "forkcast":
                t = r.get("to_root_min")
                add(f"{program}: forkcast @{r['rate_hz']} Hz stacks to the root (worst run)", fmt_pct(t),
                    f">= {TARGET_TO_ROOT:.0%}", None if t is None else t >= TARGET_TO_ROOT)
    # Issue 3: the Python-frames case against py-spy --native and --gil at 100 Hz.
    fc = find(rows, "python", "forkcast", 100)
    if fc:
        s = slow(fc)
        frames = fc.get("python_frames", 0)
        note = "" if frames else " [forkcast recorded no Python frames: native stacks only]"
        for mode in ("py-spy --native", "py-spy --gil"):
            ref = find(rows, "python", mode, 100)
            if ref and slow(ref) is not None and s is not None:
                add(f"python (issue 3): forkcast @100 Hz vs {mode} @100 Hz", f"{fmt_x(s)} vs {fmt_x(slow(ref))}{note}",
                    f"no worse than {mode}", s <= slow(ref))
    return checks


# ----------------------------------------------------------------------------------------
# Printing


def fmt_x(x):
    return "n/a" if x is None else f"{x:.3f}x"


def fmt_pct(x):
    return "n/a" if x is None else f"{100 * x:.1f}%"


def fmt_num(x, digits=0):
    return "n/a" if x is None else f"{x:.{digits}f}"


def print_table(cfg: Config, programs: dict[str, str], rows: list[dict], checks: list[dict]):
    print()
    header = (f"{'profiler':<22}{'rate':>6}{'slowdown':>10}{'r.of.med':>10}{'IQR':>15}{'wall':>8}"
              f"{'Hz/thread':>11}{'of asked':>10}{'to root':>9}{'cost med':>10}{'p99':>9}{'tracer CPU':>16}{'runs':>6}")
    for key, title in programs.items():
        prs = [r for r in rows if r["program"] == key]
        if not prs:
            continue
        base = next((r for r in prs if r["profiler"] == "none"), None)
        print(f"== {title}; unprofiled work time median "
              f"{fmt_num(base and base['work_median_s'], 3)} s ==")
        print(header)
        for r in prs:
            if r["profiler"] == "none":
                continue
            iqr = "n/a" if r["slowdown_q1"] is None else f"{r['slowdown_q1']:.3f}-{r['slowdown_q3']:.3f}"
            rate = r.get("rate_per_thread_hz")
            rate_s = fmt_num(rate)
            if r.get("rate_note", "").startswith("estimate"):
                rate_s = "~" + rate_s
            elif r.get("rate_note", "").startswith("on-CPU"):
                rate_s += "*"
            elif r.get("rate_note", "").startswith("GIL"):
                rate_s = "gil-only"
            cost_m = fmt_num(r.get("cost_median_us"), 1) + "us" if r.get("cost_median_us") is not None else "n/a"
            cost_p = fmt_num(r.get("cost_p99_us"), 0) + "us" if r.get("cost_p99_us") is not None else "n/a"
            tracer = "n/a"
            if r.get("tracer_cpu_ms") is not None:
                tracer = f"{r['tracer_cpu_ms']:.0f}ms ({fmt_pct(r['tracer_cpu_share'])})"
            runs = f"{r['runs_ok']}" + (f"/{r['runs_ok'] + r['runs_failed']}" if r["runs_failed"] else "")
            print(f"{r['profiler']:<22}{fmt_num(r['rate_hz']):>6}{fmt_x(r['slowdown_median_of_ratios']):>10}"
                  f"{fmt_x(r['slowdown_ratio_of_medians']):>10}{iqr:>15}{fmt_x(r['wall_slowdown_median_of_ratios']):>8}"
                  f"{rate_s:>11}{fmt_pct(r.get('achieved_fraction')):>10}{fmt_pct(r.get('to_root')):>9}"
                  f"{cost_m:>10}{cost_p:>9}{tracer:>16}{runs:>6}")
            for e in r["errors"]:
                print(f"    failed run: {e}")
        switches = ", ".join(f"{r['profiler']}{'@' + str(r['rate_hz']) if r['rate_hz'] else ''}="
                             f"{fmt_num(r.get('target_switches_median'))}" for r in prs)
        print(f"   program's context switches (median): {switches}")
        fcs = [r for r in prs if r["profiler"].startswith("forkcast")]
        for r in fcs:
            print(f"   {r['profiler']} @{r['rate_hz']}: ticks {fmt_num(r['tick_rate_hz'])}/s, late ticks {fmt_num(r['late_ticks'])}, "
                  f"missed stops {fmt_num(r['missed_stops'])}, Python frames in profile: {r['python_frames']}")
        print()
    print("slowdown = median over rounds of (work time profiled / unprofiled work time of the same round);")
    print("r.of.med = median profiled / median unprofiled; IQR of the per-round ratios; wall = whole command")
    print("(profiler start-up and write-out included). Hz/thread: ~ estimated from py-spy's output, * perf samples")
    print("on-CPU time only. cost = tracer time per sample of one thread (forkcast's own stats).")
    print()
    print("== targets ==")
    for c in checks:
        verdict = {True: "MET", False: "MISSED", None: "n/a"}[c["met"]]
        print(f"  [{verdict:>6}] {c['what']}: {c['figure']} (target {c['target']})")


# ----------------------------------------------------------------------------------------
# Main


def main() -> int:
    cfg = Config.from_env()
    variants = build_variants(cfg)
    work = tempfile.mkdtemp(prefix="forkcast-bench-")
    programs = {"python": next(v.program.title for v in variants if v.program.key == "python"),
                "c": next(v.program.title for v in variants if v.program.key == "c")}
    print(f"bench: {len(variants)} variants x {cfg.rounds} rounds, interleaved; work files in {work}")
    for v in variants:
        print(f"  {v.label}")

    # Warm-up, untimed: page cache, dynamic loader, CPython's import machinery.
    timeouts: dict[str, float] = {}
    for key in ("python", "c"):
        v = next(x for x in variants if x.program.key == key and x.profiler == "none")
        r = run_one(cfg, v, 0, work, 600)
        if not r.ok:
            print(f"bench: the unprofiled {key} program failed: {r.error}", file=sys.stderr)
            return 1
        timeouts[key] = max(60.0, cfg.timeout_factor * r.wall_ns / 1e9)

    busy0, total0 = cpu_busy_counters()
    started = time.monotonic()
    runs: list[Run] = []
    for rnd in range(1, cfg.rounds + 1):
        line = []
        for v in variants:
            r = run_one(cfg, v, rnd, work, timeouts[v.program.key])
            runs.append(r)
            line.append(f"{v.label}={r.work_ns / 1e9:.2f}s" if r.ok else f"{v.label}=FAILED")
        print(f"round {rnd}/{cfg.rounds} (load {loadavg():.1f}, {time.monotonic() - started:.0f} s): " + " ".join(line),
              flush=True)
    busy1, total1 = cpu_busy_counters()
    busy_share = (busy1 - busy0) / (total1 - total0) if total1 > total0 else None
    loads = [r.load1 for r in runs if r.load1 is not None]

    rows = summarize(variants, runs)
    checks = evaluate(rows)
    print_table(cfg, programs, rows, checks)
    print()
    print(f"machine: {os.cpu_count()} CPUs, load average during runs median {median(loads):.1f} "
          f"(min {min(loads):.1f}, max {max(loads):.1f}); CPUs busy {fmt_pct(busy_share)} of the benchmark's time "
          f"(all processes, the benchmark included)")

    doc = {
        "benchmark": "forkcast-overhead",
        "version": 1,
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "host": {"hostname": platform.node(), "cpus": os.cpu_count(), "kernel": platform.release(),
                 "load1_median": median(loads), "load1_min": min(loads), "load1_max": max(loads),
                 "cpu_busy_share": busy_share},
        "config": {"rounds": cfg.rounds, "threads": cfg.threads, "py_chunks": cfg.py_chunks, "c_rounds": cfg.c_rounds,
                   "rates": cfg.rates, "quick": cfg.quick, "python": cfg.python, "forkcast": cfg.forkcast,
                   "py_spy": cfg.py_spy, "perf": cfg.perf, "forkcast_alternates": cfg.alternates},
        "programs": programs,
        "targets": {"slowdown_100hz": TARGET_SLOWDOWN_100, "slowdown_1000hz": TARGET_SLOWDOWN_1000,
                    "rate_achieved_1000hz": TARGET_RATE_1000, "stacks_to_root": TARGET_TO_ROOT},
        "rows": rows,
        "checks": checks,
        "runs": [r.__dict__ for r in runs],
    }
    with open(cfg.out, "w") as f:
        json.dump(doc, f, indent=1)
    print(f"results: {cfg.out}")
    if cfg.keep:
        print(f"work files kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
