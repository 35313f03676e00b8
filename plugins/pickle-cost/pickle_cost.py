#!/usr/bin/env python3
"""Forkcast analyzer: what pickling costs per task.

multiprocessing, concurrent.futures.ProcessPoolExecutor, joblib/loky all pickle every
task's arguments and results to move them between processes. This analyzer measures the
CPU time spent pickling and unpickling (from _pickle / pickle.py frames), splits it by the
user call site that caused it, estimates how many tasks the workers received (each time a
worker thread wakes from a blocking pipe/socket read into running code), and so the
serialization cost per task — the number to compare with the work one task does.
"""

import sys
from collections import Counter, defaultdict

from forkcast_plugin import Profile, frame_label, serve

NAME = "pickle-cost"
VERSION = "1.0.0"

LIBRARY_PATHS = ("/multiprocessing/", "/concurrent/futures/", "/pickle.py", "/copyreg.py", "/queue.py",
                 "/threading.py", "/joblib/", "/loky/", "/socket.py", "/selectors.py")


PICKLE_FILES = ("/pickle.py", "/copyreg.py", "/multiprocessing/reduction.py")


def direction(frame):
    """'pickle', 'unpickle' or None for one frame."""
    name = frame.get("name", "")
    module = (frame.get("module") or "").rsplit("/", 1)[-1]
    path = frame.get("file") or ""
    if "_pickle" in module or name.startswith(("_pickle_", "Pickler_", "Unpickler_")):
        low = name.lower()
        if low.startswith(("load", "_pickle_load", "unpickler", "_unpickler")) or "unpickl" in low:
            return "unpickle"
        return "pickle"
    if path.endswith(("/pickle.py", "/multiprocessing/reduction.py")):
        if name in ("loads", "load", "_loads", "_load", "find_class") or name.startswith("load"):
            return "unpickle"
        if name in ("dumps", "dump", "_dumps", "_dump", "ForkingPickler.dumps") or name.startswith(("save", "dump")):
            return "pickle"
    return None


def classify(stack):
    """The innermost pickling direction of a stack (leaf first), if any."""
    for f in stack:
        d = direction(f)
        if d:
            return d
    return None


def call_site(stack):
    """The innermost Python frame outside the pickling/multiprocessing machinery."""
    for f in stack:
        if f.get("kind") == "python" and not any(p in (f.get("file") or "") for p in LIBRARY_PATHS):
            return frame_label(f)
    # No user code on the stack (a queue's feeder thread): the innermost caller of pickle.
    for f in stack:
        if f.get("kind") == "python" and not (f.get("file") or "").endswith(PICKLE_FILES):
            return frame_label(f)
    return "(native code)"


def evidence(stack, outer=10):
    """The stack outermost first, from the caller down to where pickling starts, then the
    leaf (pickle's recursive save/load frames in between say nothing)."""
    top = max((i for i, f in enumerate(stack) if direction(f)), default=0)
    frames = stack[top:top + outer]
    if top > 0:
        frames = [stack[0]] + frames
    return [frame_label(f) for f in reversed(frames)]


def unique(lists):
    out = []
    for x in lists:
        if x not in out:
            out.append(x)
    return out


def analyze(profile):
    kind = [classify(s) for s in profile.stacks]
    seconds = Counter()
    sites = Counter()
    site_dir = defaultdict(Counter)
    by_pid = Counter()
    top_stacks = Counter()
    cpu_samples = 0
    root = profile.recording.get("rootPid")
    last_state = {}
    wakes = 0
    waits = profile.waits
    for _t, pid, tid, stack, state, wait, _gil in profile.samples():
        if state == "on_cpu":
            cpu_samples += 1
            d = kind[stack]
            if d:
                seconds[d] += profile.period_s
                site = call_site(profile.stacks[stack])
                sites[site] += profile.period_s
                site_dir[site][d] += 1
                by_pid[pid] += profile.period_s
                top_stacks[stack] += 1
            prev = last_state.get(tid)
            if pid != root and prev == "io_wait":
                wakes += 1
        if state == "io_wait" and wait >= 0 and (waits[wait].get("fdKind") in ("pipe", "socket") or waits[wait].get("syscall") in ("read", "recv", "recvfrom")):
            last_state[tid] = "io_wait"
        else:
            last_state[tid] = state
    total = seconds["pickle"] + seconds["unpickle"]
    if total == 0:
        return []
    cpu = cpu_samples * profile.period_s
    share = total / cpu if cpu > 0 else 0.0
    tasks = wakes
    per_task = total / tasks if tasks else None
    metrics = {
        "pickle_seconds": round(seconds["pickle"], 4), "unpickle_seconds": round(seconds["unpickle"], 4),
        "cpu_seconds": round(cpu, 4), "serialization_share": round(share, 4), "processes": len(by_pid),
    }
    if tasks:
        metrics["tasks_estimated"] = tasks
        metrics["seconds_per_task"] = round(per_task, 6)
    site_text = "; ".join(
        f"{site} {round(s, 2)} s ({'/'.join(f'{d} {round(n * profile.period_s, 2)} s' for d, n in site_dir[site].most_common())})"
        for site, s in sites.most_common(3))
    per = f" ≈ {round(per_task * 1000, 1)} ms per task over ≈ {tasks} tasks received by workers" if tasks else ""
    severity = "critical" if share >= 0.25 else "warning" if share >= 0.05 else "info"
    advice = ("Send less per task: pass indexes or file paths instead of large objects, batch small tasks (chunksize), "
              "share arrays through multiprocessing.shared_memory, or use threads if the work releases the GIL.")
    return [{
        "id": f"{NAME}.serialization", "severity": severity, "factor": "ipc",
        "title": f"Pickling costs {round(share * 100)}% of CPU time: {round(seconds['pickle'], 2)} s pickling, "
                 f"{round(seconds['unpickle'], 2)} s unpickling{per}",
        "detail": f"By call site: {site_text}. " + (advice if severity != "info" else "Small next to the work."),
        "metrics": metrics,
        "stacks": unique(evidence(profile.stacks[s]) for s, _ in top_stacks.most_common(5))[:2],
    }]


def handle(request):
    if request.get("type") != "analyze":
        raise ValueError(f"unexpected request {request.get('type')!r}")
    return {"type": "findings", "findings": analyze(Profile(request["profile"]))}


if __name__ == "__main__":
    sys.exit(serve(handle, NAME, VERSION))
