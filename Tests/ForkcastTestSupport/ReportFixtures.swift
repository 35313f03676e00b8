import Foundation
import ForkcastModel

/// Inputs for reporter tests and benchmarks: hostile names, a multi-process Python-like
/// profile, a large profile, and an analysis and experiment result to go with them.
extension SyntheticProfiles {
    typealias ReportStep = (state: ThreadState, stack: [Frame], wait: WaitInfo?, holdsGIL: Bool?)

    /// Names a hostile or unlucky target can produce: markup, quotes, ANSI escapes,
    /// folded-format separators, line breaks, U+2028/2029 and replacement characters
    /// (what invalid UTF-8 decodes to).
    public static let hostileNames: [String] = [
        "</script><script>window.__pwned=1</script>",
        "<img src=x onerror=\"window.__pwned=2\">",
        "quote\"s & 'apostrophes' <b>bold</b>",
        "\u{1b}[31mred\u{1b}[0m;semi;colon",
        "line\nbreak\u{2028}sep\u{2029}end",
        "bad\u{FFFD}\u{FFFD}utf8 -->",
    ]

    /// Two threads whose frames and thread names are all `hostileNames`.
    public static func hostile(ticks: Int = 200) -> Profile {
        let frames = hostileNames.enumerated().map { i, name in
            i % 2 == 0 ? native(name, module: "/tmp/<evil>.so") : python(name, file: "/app/\"x\".py", line: i + 1)
        }
        let a = ThreadScript(name: hostileNames[0], pid: 300, tid: 301, cycle: [
            (.onCPU, Array(frames[0..<3]), nil, true), (.lockWait, Array(frames[3..<6]), WaitInfo(syscall: "futex", futex: 0x10), false),
        ])
        let b = ThreadScript(name: hostileNames[3], pid: 300, tid: 302, cycle: [
            (.ioWait, Array(frames[1..<5]), WaitInfo(syscall: "read", fd: 3, fdKind: .pipe, target: hostileNames[1]), nil),
        ])
        return make(threads: [a, b], ticks: ticks, command: [hostileNames[0], "--x"])
    }

    /// A Python program with a main thread and two worker processes of two threads each:
    /// CPU work under the GIL, GIL waits, pipe reads, a lock, sleeps. With `dwell` > 1 each
    /// step lasts several ticks (varying per thread), as real programs do.
    public static func pythonWorkers(ticks: Int = 600, dwell: Int = 1) -> Profile {
        let lib = "/usr/lib/python3.11/"
        let mainStack = [native("__poll", module: "/lib/libc.so.6"), python("wait", file: lib + "multiprocessing/connection.py", line: 947),
                         python("map", file: lib + "concurrent/futures/process.py", line: 840), python("main", file: "/app/work.py", line: 30),
                         python("<module>", file: "/app/work.py", line: 40)]
        let compute = [python("crunch", file: "/app/work.py", line: 12), python("task", file: "/app/work.py", line: 18),
                       python("_process_worker", file: lib + "concurrent/futures/process.py", line: 246),
                       native("_PyEval_EvalFrameDefault", module: "/usr/bin/python3.11"), native("Py_RunMain", module: "/usr/bin/python3.11")]
        let gil = [native("__futex_abstimed_wait_common", module: "/lib/libc.so.6"), native("take_gil", module: "/usr/bin/python3.11")] + compute
        let lockStack = [native("__futex_abstimed_wait_common", module: "/lib/libc.so.6"), python("acquire", file: "/app/work.py", line: 22),
                         python("task", file: "/app/work.py", line: 20)] + Array(compute[2...])
        let readStack = [native("read", module: "/lib/libc.so.6"), python("recv_bytes", file: lib + "multiprocessing/connection.py", line: 216),
                         python("_process_worker", file: lib + "concurrent/futures/process.py", line: 240),
                         native("Py_RunMain", module: "/usr/bin/python3.11")]
        let pipe = WaitInfo(syscall: "read", fd: 5, fdKind: .pipe, target: "pipe:[81234]")
        let futex = WaitInfo(syscall: "futex", futex: 0x7f00_0000_0040)
        let poll = WaitInfo(syscall: "poll", fd: 7, fdKind: .pipe, target: "pipe:[81235]")
        var threads = [ThreadScript(name: "MainThread", pid: 400, tid: 400, cycle: [(.ioWait, mainStack, poll, false)])]
        for w in 0..<2 {
            let pid = Int32(410 + w * 10)
            let t1: [ReportStep] = [(.onCPU, compute, nil, true), (.onCPU, compute, nil, true), (.onCPU, compute, nil, true),
                                    (.ioWait, readStack, pipe, false), (.lockWait, lockStack, futex, false)]
            let t2: [ReportStep] = [(.gilWait, gil, futex, false), (.gilWait, gil, futex, false), (.onCPU, compute, nil, true),
                                    (.runnable, compute, nil, false), (.sleep, [native("clock_nanosleep", module: "/lib/libc.so.6")] + compute, WaitInfo(syscall: "clock_nanosleep"), false)]
            func stretch(_ cycle: [ReportStep], _ salt: Int) -> [ReportStep] {
                dwell <= 1 ? cycle : cycle.enumerated().flatMap { i, step in Array(repeating: step, count: dwell * (1 + (i * 7 + salt) % 4)) }
            }
            threads.append(ThreadScript(name: "worker-\(w)", pid: pid, tid: pid, cycle: stretch(t1, w)))
            threads.append(ThreadScript(name: "worker-\(w)-io", pid: pid, tid: pid + 1, cycle: stretch(t2, w + 2)))
        }
        var p = make(threads: threads, ticks: ticks, command: ["python3", "/app/work.py"])
        for i in p.processes.indices where p.processes[i].pid != 400 {
            p.processes[i].ppid = 400
            p.processes[i].origin = "fork"
            p.processes[i].command = ["python3", "-c", "from multiprocessing.spawn import spawn_main; spawn_main()"]
        }
        for i in p.processes.indices { p.processes[i].runtime = "CPython 3.11.2"; p.processes[i].executable = "/usr/bin/python3.11" }
        return p
    }

    /// About `samples` samples over `threads` threads in 4 processes, with varied deep
    /// stacks: the size the report's budget is set for.
    public static func large(samples: Int = 1_000_000, threads: Int = 64) -> Profile {
        let ticks = max(1, samples / threads)
        var scripts: [ThreadScript] = []
        let states: [ThreadState] = [.onCPU, .onCPU, .lockWait, .ioWait, .gilWait, .sleep, .runnable]
        for t in 0..<threads {
            var cycle: [ReportStep] = []
            for k in 0..<97 {
                let depth = 8 + (k * 7 + t) % 24
                var stack: [Frame] = []
                for d in 0..<depth {
                    let name = d % 3 == 0 ? "py_func_\((k + d) % 40)" : "native_fn_\((k * d + t) % 300)"
                    stack.append(d % 3 == 0 ? python(name, file: "/app/mod\(d % 7).py", line: 10 + d) : native(name, module: "/usr/lib/libwork\(d % 5).so"))
                }
                stack.append(native("start_thread", module: "/lib/libc.so.6"))
                let st = states[(k + t) % states.count]
                cycle.append((st, stack, st.isWaiting ? WaitInfo(syscall: "futex", futex: UInt64(0x1000 + (k % 5))) : nil, st == .onCPU ? true : nil))
            }
            scripts.append(ThreadScript(name: "thread-\(t)", pid: Int32(1000 + (t % 4) * 100), tid: Int32(5000 + t), cycle: cycle))
        }
        return make(threads: scripts, ticks: ticks, command: ["python3", "big.py"])
    }

    /// An analysis to go with `mutexContention` or `pythonWorkers`: a hot lock, a pipe
    /// wait, findings and a recommendation with measured metrics.
    public static func sampleAnalysis() -> Analysis {
        var a = Analysis()
        a.locks = [LockContention(lock: "futex:0x555500001000", kind: "pthread_mutex", waitSeconds: 2.8, waiters: 4,
                                  topStacks: [["start_thread", "worker", "pthread_mutex_lock", "__lll_lock_wait"]], holder: "worker-2 (sleeping in nanosleep)")]
        a.io = [IOWaitGroup(kind: .pipe, callSite: "_process_worker;recv_bytes;read", targets: ["pipe:[81234]"], waitSeconds: 0.6, threads: 2)]
        a.findings = [
            Finding(source: "locks", id: "hot-lock", severity: .critical, factor: .locks, title: "One mutex serialises the workers",
                    detail: "4 threads wait 70% of their time on futex 0x555500001000 while its holder sleeps.",
                    metrics: ["lock_wait_share": 0.7, "waiters": 4], stacks: [["start_thread", "worker", "pthread_mutex_lock"]]),
            Finding(source: "cpu", id: "cpu-bound", severity: .info, factor: .taskType, title: "Mostly CPU-bound work",
                    detail: "Workers spend 60% of their samples on CPU.", metrics: ["on_cpu_share": 0.6]),
        ]
        a.recommendation = Recommendation(strategy: .processes, workers: 4, confidence: 0.82, reasons: [
            Reason(factor: .taskType, text: "The work is CPU-bound: 60% of thread time is on CPU.", metrics: ["on_cpu_share": 0.6]),
            Reason(factor: .gil, text: "Python threads spend 40% of their time waiting for the GIL.", metrics: ["gil_wait_share": 0.4]),
            Reason(factor: .ipc, text: "Moving data between processes costs 3% of the run.", metrics: ["ipc_seconds": 0.12]),
        ])
        return a
    }

    /// An experiment over serial/threads/processes with 1, 2 and 4 workers, 3 runs each,
    /// with scaling fits, predictions and per-configuration wait breakdowns. Built from its
    /// JSON form carrying the keys of both the first and the extended experiment contract
    /// (decoders ignore keys they do not know), so it reads the same under either.
    public static func sampleExperiment() -> ExperimentResult {
        let serialWall = 8.0
        let configs: [(String, Int, Double)] = [("serial", 1, 1.0), ("threads", 1, 0.98), ("threads", 2, 1.05), ("threads", 4, 1.1),
                                                ("processes", 1, 0.95), ("processes", 2, 1.85), ("processes", 4, 3.3)]
        var runs: [[String: Any]] = []
        var summary: [[String: Any]] = []
        for (strategy, workers, speedup) in configs {
            let wall = serialWall / speedup
            let cpu = serialWall * (strategy == "processes" ? 1.05 : 1.0)
            let rss = 30_000_000 * (strategy == "processes" ? workers : 1)
            for r in 0..<3 {
                let w = wall * (0.98 + 0.02 * Double(r))
                runs.append([
                    "strategy": strategy, "workers": workers, "repetition": r, "sequence": runs.count, "warmup": false, "recorded": false,
                    "wallSeconds": w, "wall_s": w, "cpuSeconds": cpu, "cpu_s": cpu, "user_s": cpu * 0.95, "system_s": cpu * 0.05,
                    "peakRSSBytes": rss, "peak_rss_bytes": rss, "peak_processes": strategy == "processes" ? workers + 1 : 1,
                    "voluntary_ctx_switches": 100, "involuntary_ctx_switches": 10, "exit": ["code": 0], "failed": false,
                    "outcome": "ok", "command": ["python3", "work.py", strategy, String(workers)],
                ])
            }
            let gilWait = strategy == "threads" ? 0.45 * Double(workers - 1) / Double(workers) : 0.0
            let ipc = strategy == "processes" ? 0.06 : 0.0
            summary.append([
                "strategy": strategy, "workers": workers, "median_wall_s": wall, "ci_low_s": wall * 0.97, "ci_high_s": wall * 1.04,
                "speedup": speedup, "cpu_s": cpu, "peak_rss_bytes": rss, "measured_runs": 3, "successful_runs": 3,
                "processes": strategy == "processes" ? workers + 1 : 1, "voluntary_ctx_switches": 100, "involuntary_ctx_switches": 10,
                "wait_breakdown": ["on_cpu": 0.9 - gilWait - ipc, "runnable": 0.04, "gil_wait": gilWait, "lock_wait": 0.0, "io_wait": ipc,
                                   "sleep": 0.06, "child_wait": 0.0, "other": 0.0],
            ])
        }
        func fit(_ strategy: String, sigma: Double, points: [(Int, Double)]) -> [String: Any] {
            func usl(_ n: Double) -> Double { n / (1 + sigma * (n - 1)) }
            return ["strategy": strategy, "model": "amdahl", "sigma": sigma, "kappa": 0.0, "rms_error": 0.03,
                    "points": points.map { ["workers": $0.0, "speedup": $0.1] },
                    "predictions": [8, 16].map { n in ["cores": n, "speedup": usl(Double(n)), "low": usl(Double(n)) * 0.9, "high": usl(Double(n)) * 1.1, "predicted": true] }]
        }
        let reason: [String: Any] = ["factor": "measured", "text": "4 processes ran 3.3× faster than serial; threads never passed 1.1×.",
                                     "metrics": ["speedup": 3.3, "threads_speedup": 1.1]]
        let doc: [String: Any] = [
            "format": "forkcast-experiment", "format_version": 1, "interrupted": false, "notes": [String](),
            "runs": runs, "summary": summary,
            "scaling": [fit("threads", sigma: 0.93, points: [(1, 1.0), (2, 1.07), (4, 1.12)]),
                        fit("processes", sigma: 0.07, points: [(1, 1.0), (2, 1.95), (4, 3.47)])],
            "recommendation": ["strategy": "processes", "workers": 4, "confidence": 0.9, "reasons": [reason],
                               "margin": 0.5, "decisive": true, "tied_with": [Any]()],
        ]
        do {
            return try JSONDecoder().decode(ExperimentResult.self, from: JSONSerialization.data(withJSONObject: doc))
        } catch {
            preconditionFailure("the sample experiment no longer decodes as an ExperimentResult: \(error)")
        }
    }
}
