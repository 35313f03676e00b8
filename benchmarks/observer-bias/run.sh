#!/usr/bin/env bash
# Observer bias, measured: redis-server pinned to CPU 0, redis-benchmark to CPU 1, and
# `forkcast record --pid` pinned to CPU 1 (it preempts the client) or CPU 0 (it shares the
# server's CPU). For each run: the event loop's CPU share from /proc/TID/stat (read here,
# over the recording), the sampled shares, the kernel's accounting in the profile, and the
# analysis's corrected share. Not a test: prints one line per run and exits 0.
#
#   benchmarks/observer-bias/run.sh            # 3 rounds, each CPU
#   ROUNDS=1 benchmarks/observer-bias/run.sh
#   BOOST=1 benchmarks/observer-bias/run.sh    # as root: run each round in its own session
#                                              # with autogroup nice -15, which on a machine
#                                              # shared with other builds emulates an idle one
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-3}
FORKCAST=${FORKCAST:-.build/debug/forkcast}
[ -x "$FORKCAST" ] || { echo "build forkcast first (swift build)" >&2; exit 1; }
for t in redis-server redis-benchmark taskset python3; do
  command -v $t >/dev/null || { echo "needs $t (scripts/setup.sh --test)" >&2; exit 1; }
done
[ "$(nproc)" -ge 2 ] || { echo "needs 2 CPUs" >&2; exit 1; }
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

one() {  # one CPU
  local C=$1 PORT=$((20000 + RANDOM % 20000)) RP BP T0 T1 S0 S1
  taskset -c 0 redis-server --port $PORT --bind 127.0.0.1 --save "" --appendonly no >/dev/null & RP=$!
  sleep 0.5
  taskset -c 1 timeout 12 redis-benchmark -h 127.0.0.1 -p $PORT -c 4 -q -t set,get -l >/dev/null & BP=$!
  sleep 1
  T0=$(awk '{print $14+$15}' /proc/$RP/task/$RP/stat); S0=$(date +%s.%N)
  timeout 30 taskset -c "$C" "$FORKCAST" record -q --pid $RP --duration 3 -o "$OUT/p$C.json.gz"
  T1=$(awk '{print $14+$15}' /proc/$RP/task/$RP/stat); S1=$(date +%s.%N)
  kill $BP $RP 2>/dev/null || true; wait $BP $RP 2>/dev/null || true
  "$FORKCAST" analyze --json "$OUT/p$C.json.gz" > "$OUT/a$C.json"
  python3 - "$RP" "$C" "$T0" "$T1" "$S0" "$S1" "$(getconf CLK_TCK)" "$(cut -d' ' -f1 /proc/loadavg)" "$OUT/a$C.json" <<'PY'
import json, sys
pid, c, t0, t1, s0, s1, hz, load, path = sys.argv[1:]
proc = (float(t1) - float(t0)) / float(hz) / (float(s1) - float(s0))
a = json.load(open(path))
t = next(t for t in a['threads'] if t['tid'] == int(pid))
m = t.get('measured') or {}
s = t.get('sampled_states') or t['states']
print(f"forkcast on CPU {c} (load {load}): /proc on CPU {proc:.0%} | sampled on CPU {s['on_cpu']:.0%}, running "
      f"{s['on_cpu'] + s['runnable']:.0%} | kernel on CPU {m.get('on_cpu', float('nan')):.0%}, running "
      f"{m.get('on_cpu', 0) + m.get('runnable', 0):.0%} | analysis on CPU {t['states']['on_cpu']:.0%} | biased {m.get('biased')} "
      f"| idle {t['idle']} | {a['recommendation']['strategy']} {a['recommendation']['confidence']}")
PY
}
export -f one; export FORKCAST OUT
for r in $(seq "$ROUNDS"); do
  for C in 1 0; do
    if [ "${BOOST:-0}" = 1 ]; then setsid bash -c "echo -15 > /proc/self/autogroup; one $C"; else one $C; fi
  done
done
