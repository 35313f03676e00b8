#!/usr/bin/env python3
"""Rate benchmark of `forkcast record` (issue 13 parts 2 and 3): cost proportional to
activity on programs with many mostly idle threads, and full rate when attaching to a
multi-process server. Ratios measured in one run, interleaved rounds (A B C … A B C …),
each profiled run compared with the unprofiled run of the same program in the same round.
Standard library only. See README.md in this folder."""
from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def env_int(name, default):
    v = os.environ.get(name)
    return int(v) if v else default


QUICK = os.environ.get("QUICK") == "1"
ROUNDS = env_int("ROUNDS", 2 if QUICK else 5)
C_WORK = env_int("C_WORK", 300000 if QUICK else 1500000)  # xorshift chunks per busy thread
PY_WORK = env_int("PY_WORK", 600 if QUICK else 3000)      # Python chunks per busy thread
PG_SECONDS = env_int("PG_SECONDS", 4 if QUICK else 8)
ONLY = os.environ.get("ONLY")
FORKCAST = os.environ["FORKCAST"]
PY_SPY = os.environ.get("PY_SPY") or None
PYTHON = os.environ.get("BENCH_PYTHON", sys.executable)
IDLE_BIN = os.environ["IDLE_BIN"]
PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")

PROGRAMS = {
    "c160": ([IDLE_BIN, "160", "2", str(C_WORK)], "160 threads (C): 158 blocked on a condition variable, 2 computing"),
    "c2000": ([IDLE_BIN, "2000", "2", str(C_WORK), "1000"],
              "2,000 threads (C): 1,998 in timed condition waits (each wakes once a second), 2 computing"),
    "py160": ([PYTHON, os.path.join(HERE, "idle_threads.py"), "160", "2", str(PY_WORK)],
              "160 threads (Python): 158 blocked on a threading.Condition, 2 computing"),
}

# (program, profiler, rate)
# "forkcast --no-sched-events": the same recorder with idle threads checked through /proc
# (two reads each per tick) instead of the kernel's scheduler events — both rules side by side.
PROC = "forkcast --no-sched-events"
VARIANTS = [
    ("c160", "none", 0), ("c160", "forkcast", 100), ("c160", PROC, 100), ("c160", "forkcast", 1000), ("c160", PROC, 1000),
    ("c2000", "none", 0), ("c2000", "forkcast", 100), ("c2000", PROC, 100),
    ("py160", "none", 0), ("py160", "forkcast", 100),
]
if PY_SPY:
    VARIANTS += [("py160", "py-spy", 100), ("py160", "py-spy --native", 100)]
VARIANTS += [("postgres", "none", 0), ("postgres", "forkcast", 100), ("postgres", "forkcast", 1000)]


def label(v):
    return f"{v[0]}/{v[1]}@{v[2]}" if v[1] != "none" else f"{v[0]}/none"


if ONLY:
    VARIANTS = [v for v in VARIANTS if v[1] == "none" or re.search(ONLY, label(v))]


def loadavg():
    try:
        return float(open("/proc/loadavg").read().split()[0])
    except OSError:
        return -1.0


def read_profile(path):
    with open(path) as f:
        p = json.load(f)
    s = p["stats"]
    taken, expected = s["samplesTaken"], s["samplesExpected"]
    dur = p["recording"]["durationNs"] / 1e9
    out = {
        "achieved": taken / expected if expected else None,
        "reused": s.get("reusedSamples", 0) / taken if taken else None,
        "unread": s.get("reusedOnEvents", 0) / taken if taken else None,
        "to_root": s["stacksComplete"] / taken if taken else None,
        "cost_med_us": s["sampleCostMedianNs"] / 1000, "cost_p99_us": s["sampleCostP99Ns"] / 1000,
        "tracer_cpu": s["tracerCPUNs"] / 1e9 / dur if dur else None,
        "late_ticks": s["lateTicks"], "ticks": s["ticks"],
    }
    # When each process got its first sample, relative to the recording's start.
    cols = p["samples"]
    # Format v2 names the thread row; v1 had pid and tid columns.
    pids = [p["threads"][row]["pid"] for row in cols["thread"]] if "thread" in cols else cols["pid"]
    first = {}
    for t, pid in zip(cols["t"], pids):
        if pid not in first or t < first[pid]:
            first[pid] = t
    alive_at_start = [q["pid"] for q in p["processes"] if q["startNs"] == 0]
    late = [pid for pid in alive_at_start if first.get(pid, 1 << 62) > 200_000_000]
    out["processes"] = len(p["processes"])
    out["first_200ms_missing"] = len(late)
    # Attach only: the first 500 ms against the asked rate, how empty the start of the
    # timeline is (a launched program's threads start later, so it says nothing there).
    if p["recording"]["mode"] != "attach":
        out["first_500ms"] = None
        return out
    rate = p["recording"]["rateHz"]
    threads0 = sum(1 for th in p["threads"] if th["startNs"] == 0)
    early = sum(1 for t in cols["t"] if t < 500_000_000)
    asked_early = threads0 * rate * 0.5
    out["first_500ms"] = early / asked_early if asked_early else None
    return out


def read_pyspy(path, work_ns, threads):
    total = 0
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                total += int(line.rpartition(" ")[2])
    return {"achieved_est": total / (threads * 100 * work_ns / 1e9) if work_ns else None}


def run_program(argv, work, tag, timeout=600):
    result = os.path.join(work, f"{tag}.result.jsonl")
    log = os.path.join(work, f"{tag}.log")
    env = dict(os.environ, FORKCAST_BENCH_RESULT=result, PYTHONDONTWRITEBYTECODE="1")
    began = time.monotonic_ns()
    with open(log, "w") as lf:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=lf, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return None, f"timed out after {timeout} s"
    wall = time.monotonic_ns() - began
    if code != 0:
        return None, f"exit {code}: " + " ".join(open(log, errors="replace").read()[-300:].split())
    try:
        res = json.loads(open(result).readline())
    except (OSError, ValueError) as e:
        return None, f"no result ({e})"
    res["wall_ns"] = wall
    return res, None


# ---- PostgreSQL ---------------------------------------------------------------------------

class Postgres:
    """Debian's PostgreSQL 15 in a temp folder on a free 127.0.0.1 port (as the `postgres`
    user when root: it refuses root), with pgbench tables."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="forkcast-bench-pg-")
        self.data = os.path.join(self.dir, "data")
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.as_root = os.getuid() == 0
        if self.as_root:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.owner(["initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
        opts = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c shared_buffers=16MB -c max_connections=20")
        self.owner(["pg_ctl", "start", "-w", "-t", "60", "-D", self.data, "-l", os.path.join(self.dir, "log"), "-o", opts])
        self.pid = int(open(os.path.join(self.data, "postmaster.pid")).readline())
        self.pgbench(["-i", "-s", "1", "-q"])

    def owner(self, argv):
        cmd = [os.path.join(PG_BIN, argv[0]), *argv[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, cwd=self.dir, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def pgbench(self, args, **kw):
        return subprocess.run([os.path.join(PG_BIN, "pgbench"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                               *args, "postgres"], check=True, capture_output=True, text=True, **kw)

    def load(self, seconds):
        """pgbench with 2 clients for `seconds`; returns its Popen."""
        return subprocess.Popen([os.path.join(PG_BIN, "pgbench"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                                 "-c", "2", "-j", "1", "-T", str(seconds), "-n", "postgres"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def processes(self):
        out = []
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    fields = open(f"/proc/{name}/stat").read().rpartition(")")[2].split()
                    if int(fields[1]) == self.pid:
                        out.append(int(name))
                except OSError:
                    pass
        return [self.pid] + out

    def stop(self):
        try:
            self.owner(["pg_ctl", "stop", "-m", "immediate", "-w", "-t", "20", "-D", self.data])
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


def tps(text):
    m = re.search(r"tps = ([0-9.]+)", text)
    return float(m.group(1)) if m else None


def run_postgres(pg, profiler, rate, work, tag):
    load = pg.load(PG_SECONDS)
    time.sleep(1.0)  # connections made: the backends exist when forkcast attaches
    nproc = len(pg.processes())
    prof = None
    err = None
    if profiler.startswith("forkcast"):
        out = os.path.join(work, f"{tag}.profile.json")
        r = subprocess.run([FORKCAST, "record", "-q", *profiler.split()[1:], "--pid", str(pg.pid), "--rate", str(rate),
                            "--duration", str(PG_SECONDS - 2), "-o", out], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            err = "forkcast: " + r.stderr.strip()[-300:]
        else:
            prof = read_profile(out)
            os.unlink(out)
    text = load.communicate(timeout=PG_SECONDS + 60)[0]
    res = {"tps": tps(text), "processes_at_attach": nproc}
    if res["tps"] is None:
        err = err or "pgbench: " + " ".join(text[-300:].split())
    return res, prof, err


# ---- Rounds ---------------------------------------------------------------------------------

def main():
    work = tempfile.mkdtemp(prefix="forkcast-bench-rate-")
    pg = None
    if any(v[0] == "postgres" for v in VARIANTS):
        try:
            pg = Postgres()
        except (OSError, KeyError, subprocess.CalledProcessError) as e:
            print(f"bench: PostgreSQL could not start ({e}): its rows are skipped", file=sys.stderr)
    runs = []
    try:
        for argv, _ in PROGRAMS.values():  # untimed warm-up (page cache, loader)
            run_program(argv, work, "warmup")
        for rnd in range(ROUNDS):
            for v in VARIANTS:
                program, profiler, rate = v
                tag = f"r{rnd}-{re.sub(r'[^A-Za-z0-9]+', '-', label(v))}"
                entry = {"variant": label(v), "round": rnd, "load1": loadavg()}
                if program == "postgres":
                    if pg is None:
                        continue
                    res, prof, err = run_postgres(pg, profiler, rate, work, tag)
                    entry.update(result=res, profile=prof, error=err)
                else:
                    argv, _ = PROGRAMS[program]
                    out = None
                    if profiler.startswith("forkcast"):
                        out = os.path.join(work, f"{tag}.profile.json")
                        argv = [FORKCAST, "record", "-q", *profiler.split()[1:], "-o", out, "--rate", str(rate), "--", *argv]
                    elif profiler.startswith("py-spy"):
                        out = os.path.join(work, f"{tag}.pyspy.txt")
                        argv = [PY_SPY, "record", "--rate", str(rate), "--idle", "--threads", "--format", "raw",
                                *profiler.split()[1:], "-o", out, "--", *argv]
                    res, err = run_program(argv, work, tag)
                    entry.update(result=res, error=err)
                    if res and out:
                        try:
                            entry["profile"] = (read_profile(out) if profiler.startswith("forkcast")
                                                else read_pyspy(out, res["work_ns"], res["threads"]))
                        except (OSError, ValueError, KeyError) as e:
                            entry["error"] = f"unreadable output {out}: {e}"
                        if os.path.exists(out):
                            os.unlink(out)
                runs.append(entry)
                status = entry.get("error") or "ok"
                print(f"bench: round {rnd + 1}/{ROUNDS} {label(v):40s} {status}", file=sys.stderr, flush=True)
    finally:
        if pg:
            pg.stop()
        shutil.rmtree(work, ignore_errors=True)
    report(runs)
    return 0


def ratios(runs, v, base):
    """Per-round ratio of work time (or of pgbench tps, inverted) to the same round's unprofiled run."""
    out = []
    for r in runs:
        if r["variant"] != v or r.get("error"):
            continue
        b = next((x for x in runs if x["variant"] == base and x["round"] == r["round"] and not x.get("error")), None)
        if not b:
            continue
        if "work_ns" in r["result"]:
            out.append(r["result"]["work_ns"] / b["result"]["work_ns"])
        elif r["result"].get("tps") and b["result"].get("tps"):
            out.append(b["result"]["tps"] / r["result"]["tps"])
    return out


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def worst(xs, key=min):
    xs = [x for x in xs if x is not None]
    return key(xs) if xs else None


def fx(x, fmt="{:.2f}×"):
    return fmt.format(x) if x is not None else "—"


def report(runs):
    rows = []
    for v in VARIANTS:
        if v[1] == "none":
            continue
        lab = label(v)
        mine = [r for r in runs if r["variant"] == lab and not r.get("error")]
        rs = ratios(runs, lab, f"{v[0]}/none")
        profs = [r.get("profile") or {} for r in mine]
        row = {"variant": lab, "runs": len(mine), "errors": [r["error"] for r in runs if r["variant"] == lab and r.get("error")],
               "slowdown": med(rs), "slowdown_min": worst(rs), "slowdown_max": worst(rs, max), "ratios": rs}
        for k in ("achieved", "reused", "unread", "to_root", "cost_med_us", "cost_p99_us", "tracer_cpu", "first_500ms", "achieved_est"):
            row[k] = med([p.get(k) for p in profs])
        row["achieved_worst"] = worst([p.get("achieved") for p in profs] or [p.get("achieved_est") for p in profs])
        row["first_200ms_missing"] = worst([p.get("first_200ms_missing") for p in profs], max)
        row["processes"] = worst([p.get("processes") for p in profs], max)
        rows.append(row)

    print()
    print("Rate benchmark — ratios in one run, interleaved rounds "
          f"({ROUNDS} rounds; slowdown = median over rounds of work time profiled / unprofiled in the same round;")
    print("postgres: pgbench tps unprofiled / profiled). of asked: samples taken / asked (py-spy ~ estimated).")
    print("reused: samples of threads that had not run; unread: of all samples, those reused on scheduler events with no read.")
    print()
    hdr = f"{'variant':40s} {'slowdown':>9s} {'min–max':>13s} {'of asked':>9s} {'worst':>6s} {'reused':>7s} {'unread':>7s} " \
          f"{'to root':>7s} {'cost med':>9s} {'p99':>7s} {'tracer':>7s} {'0–500ms':>8s}"
    print(hdr)
    for r in rows:
        ach = r["achieved"] if r["achieved"] is not None else r["achieved_est"]
        mark = "~" if r["achieved"] is None and r["achieved_est"] is not None else ""
        print(f"{r['variant']:40s} {fx(r['slowdown']):>9s} "
              f"{(fx(r['slowdown_min'], '{:.2f}') + '–' + fx(r['slowdown_max'], '{:.2f}')):>13s} "
              f"{mark + fx(ach, '{:.0%}'):>9s} {fx(r['achieved_worst'], '{:.0%}'):>6s} {fx(r['reused'], '{:.0%}'):>7s} {fx(r['unread'], '{:.0%}'):>7s} "
              f"{fx(r['to_root'], '{:.0%}'):>7s} {fx(r['cost_med_us'], '{:.0f} µs'):>9s} {fx(r['cost_p99_us'], '{:.0f} µs'):>7s} "
              f"{fx(r['tracer_cpu'], '{:.0%}'):>7s} {fx(r['first_500ms'], '{:.0%}'):>8s}")
        for e in r["errors"][:2]:
            print(f"    error: {e}")
    print()
    for key, (_, what) in PROGRAMS.items():
        print(f"  {key}: {what}")
    print("  postgres: `forkcast record --pid POSTMASTER` on PostgreSQL 15 under pgbench (2 clients); "
          f"processes: {next((r['processes'] for r in rows if r['variant'].startswith('postgres/') and r['processes']), '—')}")
    print()

    def find(lab):
        return next((r for r in rows if r["variant"] == lab), None)

    checks = []

    def check(what, figure, ok):
        checks.append({"what": what, "figure": figure, "met": ok})

    r = find("c160/forkcast@100")
    if r and r["slowdown"] is not None:
        check("160 threads @100 Hz: slowdown ≤ 1.05×", fx(r["slowdown"]), r["slowdown"] <= 1.05)
    r = find("c160/forkcast@1000")
    if r and r["slowdown"] is not None:
        check("160 threads @1000 Hz: ≥ 90% of samples", fx(r["achieved_worst"], "{:.0%} (worst run)"),
              (r["achieved_worst"] or 0) >= 0.90)
        check("160 threads @1000 Hz: slowdown ≤ 1.15×", fx(r["slowdown"]), r["slowdown"] <= 1.15)
    r = find("c2000/forkcast@100")
    if r and r["slowdown"] is not None:
        check("2,000 threads @100 Hz: slowdown ≤ 1.10×", fx(r["slowdown"]), r["slowdown"] <= 1.10)
    r, s = find("py160/forkcast@100"), find("py160/py-spy@100")
    if r and s and r["slowdown"] is not None and s["slowdown"] is not None:
        check("Python 160 threads @100 Hz: Forkcast no slower than py-spy", f"{fx(r['slowdown'])} vs {fx(s['slowdown'])}",
              r["slowdown"] <= s["slowdown"])
    for rate, bar in ((100, 0.95), (1000, 0.90)):
        r = find(f"postgres/forkcast@{rate}")
        if r and r["achieved"] is not None:
            check(f"PostgreSQL attach @{rate} Hz: ≥ {bar:.0%} of samples", fx(r["achieved_worst"], "{:.0%} (worst run)"),
                  r["achieved_worst"] >= bar)
            check(f"PostgreSQL attach @{rate} Hz: a sample of every process in the first 200 ms",
                  f"{r['first_200ms_missing']} processes without", r["first_200ms_missing"] == 0)
    for c in checks:
        print(f"  {'MET   ' if c['met'] else 'MISSED'} {c['what']}: {c['figure']}")
    loads = [r["load1"] for r in runs]
    if loads:
        print(f"\n  load average during the runs: median {statistics.median(loads):.1f}, max {max(loads):.1f} "
              f"({os.cpu_count()} CPUs) — other load makes single runs vary; only same-round ratios compare")
    out = os.environ.get("OUT") or os.path.join(HERE, f"results-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json")
    with open(out, "w") as f:
        json.dump({"version": 1, "config": {"rounds": ROUNDS, "c_work": C_WORK, "py_work": PY_WORK, "pg_seconds": PG_SECONDS},
                   "rows": rows, "checks": checks, "runs": runs}, f, indent=1)
    print(f"  results: {out}")


if __name__ == "__main__":
    sys.exit(main())
