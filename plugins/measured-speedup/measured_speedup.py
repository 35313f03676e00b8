#!/usr/bin/env python3
"""Forkcast recommender rule: trust measurements over inference.

With experiment results (forkcast experiment), it votes for the configuration with the
lowest median wall time, strongly when its confidence interval lies entirely below the
serial run's (a real, repeatable speed-up), weakly when the intervals overlap, and not at
all when nothing beat serial (then it votes serial). Without an experiment it casts no
vote but bounds what parallelism can give on this machine from the profile (Amdahl's law
with the serial share it saw: the time only one thread was busy) and tells how to measure.
"""

import sys

from forkcast_plugin import serve

NAME = "measured-speedup"
VERSION = "1.0.0"
STRATEGIES = ("serial", "threads", "processes", "hybrid")


def from_experiment(exp):
    summary = [s for s in exp.get("summary", []) if s.get("strategy") in STRATEGIES and s.get("median_wall_s", 0) > 0]
    if not summary:
        return []
    serial = min((s for s in summary if s["strategy"] == "serial"), key=lambda s: s["median_wall_s"], default=None)
    best = min(summary, key=lambda s: s["median_wall_s"])
    if serial is None:
        serial = max(summary, key=lambda s: s["median_wall_s"])
    speedup = serial["median_wall_s"] / best["median_wall_s"]
    metrics = {"speedup": round(speedup, 3), "best_median_s": best["median_wall_s"],
               "serial_median_s": serial["median_wall_s"], "workers": best["workers"]}
    if best is serial or speedup < 1.05:
        return [{"strategy": "serial", "weight": 0.8, "workers": 1,
                 "reason": {"factor": "measured", "metrics": metrics,
                            "text": f"Measured: nothing beat serial ({serial['median_wall_s']:.2f} s); "
                                    f"the best parallel run was only {speedup:.2f}× faster."}}]
    separated = best.get("ci_high_s", best["median_wall_s"]) < serial.get("ci_low_s", serial["median_wall_s"])
    weight = 0.9 if separated else 0.4
    return [{"strategy": best["strategy"], "weight": weight, "workers": best["workers"],
             "reason": {"factor": "measured", "metrics": metrics,
                        "text": f"Measured: {best['strategy']} × {best['workers']} ran in {best['median_wall_s']:.2f} s vs "
                                f"{serial['median_wall_s']:.2f} s serial — {speedup:.2f}× faster"
                                + ("" if separated else " (confidence intervals overlap: repeat the experiment to be sure)") + "."}}]


def from_profile(analysis):
    overall = analysis.get("overall")
    if not overall:
        return []
    states = overall.get("states", {})
    cores = max(1, int(overall.get("cores", 1)))
    busy = states.get("on_cpu", 0) + states.get("runnable", 0) + states.get("gil_wait", 0)
    waiting = states.get("io_wait", 0) + states.get("lock_wait", 0)
    parallelism = overall.get("parallelism", 0.0)
    # The work that could spread: CPU work beyond one core's worth, and waiting that could overlap.
    parallel_share = min(1.0, max(0.0, busy + waiting))
    serial_share = max(0.0, 1.0 - parallel_share) if parallelism < 1.2 else max(0.0, 1.0 - min(1.0, parallelism / cores))
    cap = 1.0 / (serial_share + (1.0 - serial_share) / cores) if cores > 1 else 1.0
    return [{"strategy": None, "weight": 0, "reason": {
        "factor": "scaling",
        "metrics": {"amdahl_cap": round(cap, 3), "serial_share": round(serial_share, 4), "cores": cores},
        "text": f"Not measured yet: on {cores} cores this run could be at most ≈{cap:.1f}× faster (Amdahl, "
                f"{round(serial_share * 100)}% serial); run `forkcast experiment` to measure the candidates."}}]


def handle(request):
    if request.get("type") != "advise":
        raise ValueError(f"unexpected request {request.get('type')!r}")
    exp = request.get("experiment")
    advice = from_experiment(exp) if exp else []
    if not advice:
        advice = from_profile(request.get("analysis") or {})
    return {"type": "advice", "advice": advice}


if __name__ == "__main__":
    sys.exit(serve(handle, NAME, VERSION))
