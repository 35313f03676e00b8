#!/usr/bin/env python3
"""Soak: record benchmarks/soak/churn.c for SECONDS with forkcast and check that
forkcast holds up. Run through run.sh (which builds both); prints the figures and exits
non-zero when a check fails.

Checks:
  memory     forkcast's RSS (VmRSS, sampled every second) grows no faster than the samples
             it keeps (the profile is held in memory until written): growth from the 20%
             mark to the end <= 256 B per sample taken + 1 KiB per thread created + 32 MiB
             (an exited thread may keep its row in the tables, not its buffers).
  rate       samplesTaken / samplesExpected from the profile's stats >= --min-rate-ratio.
  coverage   every thread and child the target created is in the profile's tables.
  stopped    no target thread stays in the same stop ('t'/'T' with no context switch) over
             3 checks a second apart, and nothing
             of the target is left alive or stopped after forkcast exits.
  profile    the profile decodes (python json + `forkcast analyze`), ended because the
             target exited with 0, and every process and thread in it has ended.
"""
import argparse, gzip, json, os, subprocess, sys, tempfile, time


def status_field(pid, name):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(name + ":"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def kib(value):
    return int(value.split()[0]) if value else None


def descendants(pid):
    """pid and every process below it, from /proc/*/task/*/children."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def thread_states(pids):
    states = {}
    for p in pids:
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                try:
                    with open(f"/proc/{p}/task/{tid}/stat") as f:
                        s = f.read()
                    switches = None
                    if s[s.rindex(")") + 2] in "tT":
                        # A thread that stops often (the main thread of churn stops at every
                        # clone event) is in 't' at many checks; stuck means the *same* stop:
                        # no context switch since the last check.
                        with open(f"/proc/{p}/task/{tid}/status") as f:
                            switches = sum(int(l.split()[1]) for l in f if "ctxt_switches" in l)
                    states[int(tid)] = (s[s.rindex(")") + 2], p, switches)
                except (OSError, ValueError):
                    pass
        except OSError:
            pass
    return states


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--forkcast", required=True)
    ap.add_argument("--churn", required=True)
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--alive", type=int, default=200)
    ap.add_argument("--rate", type=float, default=20)
    ap.add_argument("--min-rate-ratio", type=float, default=0.5)
    ap.add_argument("--out", default=None, help="folder for the profile and rss.csv (default: a temp folder)")
    a = ap.parse_args()
    out = a.out or tempfile.mkdtemp(prefix="forkcast-soak-")
    os.makedirs(out, exist_ok=True)
    profile_path = os.path.join(out, "soak.profile.json.gz")
    counts_path = os.path.join(out, "counts.txt")
    failures = []

    rec = subprocess.Popen([a.forkcast, "record", "-q", "--rate", str(a.rate), "-o", profile_path, "--",
                            a.churn, str(a.seconds), str(a.alive), counts_path],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    started = time.monotonic()
    rss, hwm, target, stuck_for, max_threads = [], None, None, {}, 0
    stuck_reported = set()
    last_switches = {}
    while rec.poll() is None:
        t = time.monotonic() - started
        r = kib(status_field(rec.pid, "VmRSS"))
        h = kib(status_field(rec.pid, "VmHWM"))
        if h:
            hwm = h
        if target is None:
            kids = descendants(rec.pid)[1:]
            target = kids[0] if kids else None
        if target is not None:
            states = thread_states(descendants(target))
            max_threads = max(max_threads, len(states))
            for tid, (st, owner, switches) in states.items():
                same_stop = st in "tT" and switches is not None and last_switches.get(tid) == switches
                stuck_for[tid] = stuck_for.get(tid, 0) + 1 if same_stop else 0
                last_switches[tid] = switches
                if stuck_for[tid] >= 2 and tid not in stuck_reported:
                    stuck_reported.add(tid)
                    try:
                        with open(f"/proc/{owner}/task/{tid}/wchan") as f:
                            wchan = f.read().strip()
                    except OSError:
                        wchan = "?"
                    role = "main thread" if tid == owner else "thread"
                    where = "the root process" if owner == target else f"child process {owner}"
                    failures.append(f"stopped: {role} {tid} of {where} stayed in the same stop ({st}, no context switch) for 3 checks, 2 s (wchan {wchan})")
            for tid in list(stuck_for):
                if tid not in states:
                    del stuck_for[tid]
        if r:
            rss.append((t, r, max_threads))
        time.sleep(1.0)
    stderr = rec.stderr.read().decode(errors="replace")
    wall = time.monotonic() - started
    if rec.returncode != 0:
        failures.append(f"forkcast exited {rec.returncode}: {stderr.strip()[-600:]}")

    with open(os.path.join(out, "rss.csv"), "w") as f:
        f.write("seconds,rss_kib,target_threads_max\n")
        for t, r, n in rss:
            f.write(f"{t:.1f},{r},{n}\n")

    # Nothing of the target may survive forkcast's exit (the churn waits for everything).
    if target is not None:
        left = [p for p in descendants(target) if os.path.exists(f"/proc/{p}")]
        if left:
            failures.append(f"stopped: {len(left)} target processes left after the recording: {left[:5]}")

    try:
        with open(counts_path) as f:
            counts = dict(kv.split("=") for kv in f.read().split())
        created_threads, created_children = int(counts["threads"]), int(counts["children"])
    except (OSError, KeyError, ValueError) as e:
        failures.append(f"coverage: the target wrote no counts ({e})")
        created_threads = created_children = -1

    try:
        with gzip.open(profile_path) as f:
            p = json.load(f)
    except Exception as e:  # noqa: BLE001 - any failure to read is the finding
        for f_ in failures:
            print(f"  FAILED   {f_}")
        print(f"  memory   forkcast RSS {rss[-1][1] if rss else 0} KiB at the end (VmHWM {hwm} KiB)")
        print(f"soak: FAILED: profile unreadable: {e}")
        return 1
    analyze = subprocess.run([a.forkcast, "analyze", profile_path], capture_output=True)
    if analyze.returncode != 0:
        failures.append(f"profile: forkcast analyze failed: {analyze.stderr.decode(errors='replace').strip()}")
    rec_info, stats = p["recording"], p["stats"]
    if rec_info.get("endReason", rec_info.get("end_reason")) != "target-exited":
        failures.append(f"profile: ended by {rec_info.get('endReason', rec_info.get('end_reason'))}, not the target's exit")
    root_pid = rec_info.get("rootPid", rec_info.get("root_pid"))
    procs, threads = p["processes"], p["threads"]
    root_threads = [t for t in threads if t["pid"] == root_pid]
    seen_children = len([q for q in procs if q["pid"] != root_pid])
    seen_threads = len(root_threads) - 1  # minus the main thread
    open_threads = [t for t in threads if t.get("endNs", t.get("end_ns")) is None]
    open_procs = [q for q in procs if q.get("endNs", q.get("end_ns")) is None]
    if open_threads or open_procs:
        failures.append(f"profile: {len(open_threads)} threads and {len(open_procs)} processes never ended")
    if created_threads >= 0 and seen_threads < created_threads:
        failures.append(f"coverage: {seen_threads} threads in the profile, the target created {created_threads}")
    if created_children >= 0 and seen_children < created_children:
        failures.append(f"coverage: {seen_children} child processes in the profile, the target forked {created_children}")

    taken = stats.get("samplesTaken", stats.get("samples_taken", 0))
    expected = stats.get("samplesExpected", stats.get("samples_expected", 0))
    ratio = taken / expected if expected else 0
    if ratio < a.min_rate_ratio:
        failures.append(f"rate: {taken}/{expected} samples = {ratio:.2f} < {a.min_rate_ratio}")

    start_idx = max(0, int(len(rss) * 0.2) - 1)
    rss_start = rss[start_idx][1] if rss else 0
    rss_end = rss[-1][1] if rss else 0
    budget_kib = (256 * taken + 1024 * max(created_threads, 0)) // 1024 + 32 * 1024
    if rss and rss_end - rss_start > budget_kib:
        failures.append(f"memory: RSS grew {rss_end - rss_start} KiB from the 20% mark, budget {budget_kib} KiB")
    per_sample = (rss_end - rss_start) * 1024 / taken if taken else 0

    print(f"soak: {wall:.0f} s recording of churn ({a.alive} threads alive at once, {a.rate:g} Hz), profile {profile_path}")
    print(f"  memory   forkcast RSS {rss[0][1] if rss else 0} KiB at 1 s, {rss_start} KiB at the 20% mark, "
          f"{rss_end} KiB at the end (VmHWM {hwm} KiB); {per_sample:.0f} B per sample taken")
    print(f"  rate     {taken} of {expected} samples taken ({ratio:.1%}); ticks {stats.get('ticks')}, "
          f"late {stats.get('lateTicks', stats.get('late_ticks'))}, missed stops {stats.get('missedStops', stats.get('missed_stops'))}")
    print(f"  coverage threads {seen_threads} seen / {created_threads} created; "
          f"child processes {seen_children} seen / {created_children} forked; up to {max_threads} target threads at once")
    print(f"  stopped  {len(stuck_reported)} threads stuck in a stop; profile file {os.path.getsize(profile_path)} bytes")
    for f_ in failures:
        print(f"  FAILED   {f_}")
    print("soak: " + ("FAILED" if failures else "passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
