#!/usr/bin/env python3
"""Regret of `forkcast experiment`'s advice (see README.md in this folder).

For each case: run A is `forkcast experiment` as a user would run it (the default decision
rule: --repeat 5, rounds added while undecided); run B is an independent experiment over the
same configurations with twice the first batch (--repeat 10, no rounds added). Regret is
B's median time of A's recommended configuration over B's fastest median, minus one.
An `undecided` A is counted apart (it is no advice, so it has no regret).
"""
import argparse, json, os, platform, shlex, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def cases(data, quick):
    ex = os.path.join(ROOT, "examples")
    py = sys.executable
    small = quick
    c = []
    # Real programs and tools, unmodified, through workload files (a command per strategy).
    c.append(dict(name="xz -T N (threads) vs xargs -P N xz (processes)", kind="tool", workload=f"""
strategies:
  serial: sh -c "xz -4 -T1 -c {data}/text.bin > /dev/null"
  threads: sh -c "xz -4 -T{{workers}} --block-size=512KiB -c {data}/text.bin > /dev/null"
  processes: sh -c "ls {data}/chunks/* | xargs -P {{workers}} -n 1 sh -c 'xz -4 -T1 -c \\"$0\\" > /dev/null'"
workers: [2, 4]
"""))
    c.append(dict(name="zstd -T N (threads) vs xargs -P N zstd (processes)", kind="tool", workload=f"""
strategies:
  serial: sh -c "zstd -q -12 -T1 -c {data}/text.bin > /dev/null"
  threads: sh -c "zstd -q -12 -T{{workers}} -B512KiB -c {data}/text.bin > /dev/null"
  processes: sh -c "ls {data}/chunks/* | xargs -P {{workers}} -n 1 zstd -q -12 -T1 -c > /dev/null"
workers: [2, 4]
"""))
    c.append(dict(name="sort --parallel=N", kind="tool", workload=f"""
strategies:
  serial: sh -c "sort --parallel=1 -S 100M {data}/lines.txt > /dev/null"
  threads: sh -c "sort --parallel={{workers}} -S 100M {data}/lines.txt > /dev/null"
workers: [2, 4]
"""))
    c.append(dict(name="make -j N (gcc -O2, 8 files)", kind="tool", workload=f"""
strategies:
  serial: make -s -B -j1 -C {data}/ctree
  processes: make -s -B -j{{workers}} -C {data}/ctree
workers: [2, 4]
"""))
    c.append(dict(name="python3 -m compileall -j (stdlib subtree, swap)", kind="tool",
                  argv=["--workers", "2,4", "--", py, "-m", "compileall", "-q", "-f", "-j", "2", f"{data}/pytree"]))
    # The examples, as examples/README.md runs them (smaller inputs with --quick).
    def example(name, *args):
        return dict(name=f"examples/{name}", kind="example",
                    argv=["--workers", "1,2,4", "--check-output", "--", py, os.path.join(ex, name), "--quiet", *args])
    c.append(example("cpu_bound.py", *(["--size", "400000"] if small else [])))
    c.append(example("gil_release.py", *(["--rounds", "2"] if small else [])))
    c.append(example("sleep_io.py", *(["--tasks", "24"] if small else [])))
    c.append(example("tiny_tasks.py", *(["--tasks", "3000"] if small else [])))
    c.append(example("mixed.py", *(["--tasks", "8"] if small else [])))
    return c


def prepare(data, quick):
    """Inputs: ~3 MB of Python source text (and 6 chunks of it), 600k lines to sort, a C tree
    of 8 files, a copy of a stdlib subtree to byte-compile."""
    os.makedirs(os.path.join(data, "chunks"), exist_ok=True)
    import sysconfig, shutil, random
    stdlib = sysconfig.get_paths()["stdlib"]
    text = bytearray()
    for dirpath, _, files in sorted(os.walk(stdlib)):
        for f in sorted(files):
            if f.endswith(".py"):
                with open(os.path.join(dirpath, f), "rb") as fh:
                    text += fh.read()
            if len(text) >= (1 if quick else 3) * 1_000_000:
                break
        if len(text) >= (1 if quick else 3) * 1_000_000:
            break
    with open(os.path.join(data, "text.bin"), "wb") as fh:
        fh.write(text)
    n = 6
    for i in range(n):
        with open(os.path.join(data, "chunks", f"{i}.bin"), "wb") as fh:
            fh.write(text[i * len(text) // n:(i + 1) * len(text) // n])
    rng = random.Random(7)
    with open(os.path.join(data, "lines.txt"), "w") as fh:
        for i in range(200_000 if quick else 600_000):
            fh.write(f"{rng.randrange(10**9)} line {i}\n")
    ctree = os.path.join(data, "ctree")
    shutil.rmtree(ctree, ignore_errors=True)
    os.makedirs(ctree)
    for i in range(8):
        with open(os.path.join(ctree, f"f{i}.c"), "w") as fh:
            for j in range(4 if quick else 6):
                fh.write(f"double f{i}_{j}(double *a, int n) {{ double s = 0; for (int k = 0; k < n; k++) s += a[k] * {j + 1}.0 / (k + {i + 1}); "
                         f"for (int k = 1; k < n; k++) a[k] = a[k - 1] * 0.5 + s; return s; }}\n")
    with open(os.path.join(ctree, "Makefile"), "w") as fh:
        objs = " ".join(f"f{i}.o" for i in range(8))
        fh.write(f"all: {objs}\n%.o: %.c\n\t$(CC) -O2 -c $< -o $@\n")
    pytree = os.path.join(data, "pytree")
    if not os.path.isdir(pytree):
        os.makedirs(pytree)
        for sub in (["json"] if quick else ["email", "json"]):
            shutil.copytree(os.path.join(stdlib, sub), os.path.join(pytree, sub), ignore=shutil.ignore_patterns("__pycache__"))


def experiment(forkcast, case, out, extra, workers=None):
    argv = [forkcast, "experiment", "--no-record", "--json", out, "-o", out + ".d", *extra]
    if "workload" in case:
        wl = out + ".yml"
        text = case["workload"]
        if workers:
            text = "\n".join(l for l in text.splitlines() if not l.startswith("workers:")) + f"\nworkers: [{', '.join(map(str, workers))}]\n"
        with open(wl, "w") as fh:
            fh.write(text)
        argv += [wl]
    else:
        a = list(case["argv"])
        if workers:
            a[a.index("--workers") + 1] = ",".join(map(str, workers))
        argv += a
    t0 = time.monotonic()
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    took = time.monotonic() - t0
    if p.returncode != 0 or not os.path.exists(out):
        raise RuntimeError(f"{shlex.join(argv)} exited {p.returncode}: {p.stderr.strip().splitlines()[-1:] }")
    with open(out) as fh:
        return json.load(fh), took, shlex.join(argv)


def key(c):
    return (c["strategy"], c["workers"], c.get("python"))


def name(k):
    return "serial" if k[0] == "serial" else f"{k[0]}×{k[1]}"


def paired(b, x, y):
    """Median over B's rounds holding a successful measured run of both of x's wall / y's."""
    by = {}
    for r in b["runs"]:
        if r.get("warmup") or r.get("recorded") or r.get("outcome", "ok") != "ok" or r.get("round") is None:
            continue
        by.setdefault(r["round"], {})[key(r)] = r["wall_s"]
    ratios = sorted(v[x] / v[y] for v in by.values() if x in v and y in v and v[y] > 0)
    if not ratios:
        return None, 0
    n = len(ratios)
    return (ratios[n // 2] if n % 2 else (ratios[n // 2 - 1] + ratios[n // 2]) / 2), n


def evaluate(case, a, b, cmd_a, cmd_b):
    """Regret of A's advice measured in B: the paired ratio (same rounds) of the advised
    configuration's time to B's fastest, minus one. B's fastest is its leader (the decider's,
    from paired rounds), else the lowest median."""
    rec = a.get("recommendation") or {}
    bsum = {key(s): s for s in b["summary"] if s["successful_runs"] > 0 and not s.get("excluded_reason")}
    lead = (b.get("recommendation") or {}).get("fastest")
    fastest = key(lead) if lead and key(lead) in bsum else (min(bsum, key=lambda k: bsum[k]["median_wall_s"]) if bsum else None)
    row = dict(name=case["name"], kind=case["kind"], command_a=cmd_a, command_b=cmd_b,
               rounds_a=a.get("rounds"), rounds_added_a=a.get("rounds_added"),
               advice=rec.get("strategy"), advice_workers=rec.get("workers"),
               decisive=rec.get("decisive"), tied_with=[name(key(t)) for t in rec.get("tied_with") or []],
               fastest_b=name(fastest) if fastest else None,
               fastest_b_s=bsum[fastest]["median_wall_s"] if fastest else None,
               serial_b_s=next((s["median_wall_s"] for s in b["summary"] if s["strategy"] == "serial" and s["successful_runs"]), None))
    if rec.get("strategy") == "undecided":
        u = rec.get("undecided") or {}
        row["undecided"] = dict(kind=u.get("kind"), candidates=[name(key(c)) for c in u.get("candidates") or []])
        row["regret"] = None
        return row
    py = (rec.get("fastest") or {}).get("python")
    k = next((x for x in bsum if x[0] == rec.get("strategy") and (x[0] == "serial" or x[1] == rec.get("workers")) and x[2] == py), None)
    row["advice_b_s"] = bsum[k]["median_wall_s"] if k else None
    if k and fastest:
        ratio, n = (1.0, 0) if k == fastest else paired(b, k, fastest)
        row["regret_pairs"] = n
        row["regret"] = ratio - 1 if ratio is not None else None
        # The unpaired figure too: medians of possibly different rounds (noisier).
        row["regret_medians"] = bsum[k]["median_wall_s"] / bsum[fastest]["median_wall_s"] - 1
    else:
        row["regret"] = None
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--forkcast")
    ap.add_argument("--out", help="folder for inputs, experiments and results.json")
    ap.add_argument("--quick", action="store_true", help="smaller inputs")
    ap.add_argument("--only", default="", help="run only cases whose name contains this")
    ap.add_argument("--b-repeat", type=int, default=10, help="rounds of the independent run B (default 10 = 2 × the first batch)")
    ap.add_argument("--table", nargs="*", metavar="RESULTS", help="only print the table of these results.json files (recomputed from their case files)")
    args = ap.parse_args()
    if args.table is not None:
        return table(args.table)
    if not args.forkcast or not args.out:
        ap.error("--forkcast and --out are required (or --table FILES)")
    data = os.path.join(args.out, "inputs")
    prepare(data, args.quick)
    rows = []
    load_before = os.getloadavg()
    for i, case in enumerate(cases(data, args.quick)):
        if args.only and args.only not in case["name"]:
            continue
        print(f"regret: [{i + 1}] {case['name']}: run A (the default rule)", file=sys.stderr, flush=True)
        la = os.getloadavg()[0]
        try:
            a, took_a, cmd_a = experiment(args.forkcast, case, os.path.join(args.out, f"case{i}-A.json"), [])
            workers = sorted({s["workers"] for s in a["summary"] if s["strategy"] != "serial"})
            print(f"regret: [{i + 1}] run B (--repeat {args.b_repeat}, no rounds added, workers {workers})", file=sys.stderr, flush=True)
            b, took_b, cmd_b = experiment(args.forkcast, case, os.path.join(args.out, f"case{i}-B.json"),
                                          ["--repeat", str(args.b_repeat), "--max-repeat", str(args.b_repeat)], workers=workers)
        except RuntimeError as e:
            print(f"regret: {case['name']}: {e}", file=sys.stderr)
            rows.append(dict(name=case["name"], kind=case["kind"], error=str(e)))
            continue
        row = evaluate(case, a, b, cmd_a, cmd_b)
        row.update(load_average=round(la, 2), seconds_a=round(took_a, 1), seconds_b=round(took_b, 1))
        rows.append(row)
        with open(os.path.join(args.out, "results.json"), "w") as fh:
            json.dump(dict(rows=rows), fh, indent=1)
    meta = dict(started_load_average=load_before, ended_load_average=os.getloadavg(), cores=os.cpu_count(),
                kernel=platform.release(), python=sys.version.split()[0], quick=args.quick, b_repeat=args.b_repeat,
                date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), forkcast=args.forkcast)
    with open(os.path.join(args.out, "results.json"), "w") as fh:
        json.dump(dict(meta=meta, rows=rows), fh, indent=1)
    table([os.path.join(args.out, "results.json")])


def table(paths):
    rows, metas = [], []
    for path in paths:
        with open(path) as fh:
            doc = json.load(fh)
        metas.append(doc.get("meta") or {})
        for r in doc["rows"]:
            if "error" not in r and r.get("command_a"):
                # Recomputed from the case files, so a changed regret rule applies to old runs.
                base = os.path.dirname(path)
                a_path = shlex.split(r["command_a"])[shlex.split(r["command_a"]).index("--json") + 1]
                b_path = shlex.split(r["command_b"])[shlex.split(r["command_b"]).index("--json") + 1]
                if os.path.exists(a_path) and os.path.exists(b_path):
                    with open(a_path) as fa, open(b_path) as fb:
                        keep = {k: r[k] for k in ("load_average", "seconds_a", "seconds_b") if k in r}
                        r = evaluate(dict(name=r["name"], kind=r["kind"]), json.load(fa), json.load(fb), r["command_a"], r["command_b"])
                        r.update(keep)
            rows.append(r)
    regrets = [r["regret"] for r in rows if r.get("regret") is not None]
    undecided = [r for r in rows if r.get("advice") == "undecided"]
    added = sorted(r["rounds_added_a"] for r in rows if r.get("rounds_added_a") is not None)
    meta = dict(cases=len(rows), decided=len(regrets), undecided=len(undecided),
                errors=sum(1 for r in rows if "error" in r),
                max_regret=max(regrets) if regrets else None,
                within_10pct=sum(1 for x in regrets if x <= 0.10),
                median_rounds_added=added[len(added) // 2] if added else None)

    def s(x):
        return "–" if x is None else f"{x:.2f} s" if x >= 1 else f"{x * 1000:.0f} ms"
    for m in metas:
        if m:
            print(f"run of {m.get('date')}: {m.get('cores')} cores, load average {m['started_load_average'][0]:.2f} at start, "
                  f"{m['ended_load_average'][0]:.2f} at end; B = --repeat {m.get('b_repeat')}; {m.get('forkcast')}")
    print("\n| case | advice (A) | rounds (added) | B: advice's median | B: fastest (leader) | regret (paired) | load |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        if "error" in r:
            print(f"| {r['name']} | error: {r['error'][:80]} | | | | | |")
            continue
        adv = "undecided " + " vs ".join(r["undecided"]["candidates"]) + f" ({r['undecided']['kind']})" if r.get("undecided") \
            else name((r["advice"], r["advice_workers"])) + (" (tie: " + ", ".join(r["tied_with"]) + ")" if r["tied_with"] else "")
        reg = "not counted" if r.get("undecided") else "–" if r.get("regret") is None else f"{r['regret'] * 100:.1f}%"
        print(f"| {r['name']} | {adv} | {r['rounds_a']} ({r['rounds_added_a']}) | {s(r.get('advice_b_s'))} | "
              f"{r['fastest_b']} {s(r['fastest_b_s'])} | {reg} | {r.get('load_average', 0):.1f} |")
    worst = "–" if meta["max_regret"] is None else "%.1f%%" % (meta["max_regret"] * 100)
    print(f"\n{meta['decided']} decided, {meta['undecided']} undecided, {meta['errors']} errors; "
          f"regret ≤ 10% in {meta['within_10pct']} of {meta['decided']}, worst {worst}; "
          f"median rounds added {meta['median_rounds_added']}")


if __name__ == "__main__":
    main()
