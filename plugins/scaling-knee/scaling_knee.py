#!/usr/bin/env python3
"""Forkcast recommender rule: the knee of the scaling curve.

More workers cost memory, start-up time and a busier machine; past some count they buy
little. With experiment results, for the fastest strategy it finds the fewest workers
whose median wall time is within 10% of the best, and when that is fewer than the
fastest configuration used, advises that count (a vote for the same strategy with fewer
workers). Without an experiment it casts no vote but bounds, from the profile, what
parallelism can give on this machine (Amdahl's law with the serial share it saw) and the
worker count past which each extra worker adds under 10%.
"""

import sys

from forkcast_plugin import serve

NAME = "scaling-knee"
VERSION = "1.0.0"
STRATEGIES = ("threads", "processes", "hybrid")
TOLERANCE = 0.10


def knee_from_experiment(exp):
    rows = [s for s in exp.get("summary", []) if s.get("median_wall_s", 0) > 0]
    if not rows:
        return []
    best = min(rows, key=lambda s: s["median_wall_s"])
    if best["strategy"] not in STRATEGIES:
        return []
    same = sorted((s for s in rows if s["strategy"] == best["strategy"]), key=lambda s: s["workers"])
    good = [s for s in same if s["median_wall_s"] <= best["median_wall_s"] * (1 + TOLERANCE)]
    knee = good[0]
    metrics = {"knee_workers": knee["workers"], "best_workers": best["workers"],
               "knee_median_s": knee["median_wall_s"], "best_median_s": best["median_wall_s"]}
    if knee["workers"] >= best["workers"]:
        tried = max(s["workers"] for s in same)
        return [{"strategy": None, "weight": 0, "reason": {
            "factor": "scaling", "metrics": metrics,
            "text": f"{best['strategy']} kept scaling up to {best['workers']} workers (of {tried} tried): no cheaper worker count comes within {round(TOLERANCE * 100)}%."}}]
    gain = knee["median_wall_s"] / best["median_wall_s"] - 1
    return [{"strategy": best["strategy"], "weight": 0.5, "workers": knee["workers"], "reason": {
        "factor": "scaling", "metrics": dict(metrics, extra_gain=round(gain, 4)),
        "text": f"{best['strategy']} × {knee['workers']} ran in {knee['median_wall_s']:.2f} s, within {round(gain * 100)}% of "
                f"× {best['workers']} ({best['median_wall_s']:.2f} s): the extra {best['workers'] - knee['workers']} workers buy "
                f"little; {knee['workers']} is enough."}}]


def amdahl(serial_share, n):
    return 1.0 / (serial_share + (1.0 - serial_share) / n)


def knee_from_profile(analysis):
    overall = analysis.get("overall")
    if not overall:
        return []
    states = overall.get("states", {})
    cores = max(1, int(overall.get("cores", 1)))
    parallelism = overall.get("parallelism", 0.0)
    busy = states.get("on_cpu", 0) + states.get("runnable", 0) + states.get("gil_wait", 0)
    waiting = states.get("io_wait", 0) + states.get("lock_wait", 0)
    if parallelism < 1.2:
        # One thread at a time: the time no thread was working (sleep, child waits) stays serial.
        serial_share = max(0.0, 1.0 - min(1.0, busy + waiting))
    else:
        serial_share = max(0.0, 1.0 - min(1.0, parallelism / cores))
    cap = amdahl(serial_share, cores) if cores > 1 else 1.0
    knee = 1
    while knee < cores and amdahl(serial_share, knee + 1) / amdahl(serial_share, knee) >= 1 + TOLERANCE:
        knee += 1
    return [{"strategy": None, "weight": 0, "reason": {
        "factor": "scaling",
        "metrics": {"amdahl_cap": round(cap, 3), "serial_share": round(serial_share, 4), "cores": cores, "knee_workers": knee},
        "text": f"Not measured yet: on {cores} cores this run could be at most ≈{cap:.1f}× faster (Amdahl, "
                f"{round(serial_share * 100)}% serial); past {knee} worker{'s' if knee != 1 else ''} each adds under "
                f"{round(TOLERANCE * 100)}%. Run `forkcast experiment` to measure."}}]


def handle(request):
    if request.get("type") != "advise":
        raise ValueError(f"unexpected request {request.get('type')!r}")
    exp = request.get("experiment")
    advice = knee_from_experiment(exp) if exp else []
    if not advice:
        advice = knee_from_profile(request.get("analysis") or {})
    return {"type": "advice", "advice": advice}


if __name__ == "__main__":
    sys.exit(serve(handle, NAME, VERSION))
