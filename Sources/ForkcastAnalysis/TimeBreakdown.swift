import ForkcastModel

/// Where the time went, per thread, per process and overall, with the achieved parallelism
/// against the cores of the recording machine. One pass over the samples; no I/O.
///
/// `forkcast record` prints a short summary from this; the `time-breakdown` analyzer puts it
/// into the `Analysis`.
public struct TimeBreakdown: Sendable, Equatable {
    public var summary: ProfileSummary
    public var overall: OverallBreakdown
    public var processes: [ProcessBreakdown]
    /// Threads with at least one sample, in the profile's thread-table order.
    public var threads: [ThreadBreakdown]

    /// Computes the breakdown. A lock wait whose stack is in CPython's `take_gil` counts as a
    /// GIL wait even when the sampler recorded it as `lock_wait`.
    public static func compute(_ profile: Profile) -> TimeBreakdown {
        var classifier = StackClassifier(profile)
        return compute(profile, classifier: &classifier)
    }

    /// Seconds one sample stands for: the recording's duration over its ticks, or 1 / rate.
    public static func period(_ profile: Profile, ticks: Int) -> Double {
        let duration = Double(profile.recording.durationNs) / 1e9
        if ticks > 0 && duration > 0 {
            let p = duration / Double(ticks)
            // A duration far from ticks × nominal period means the ticks were not evenly
            // spread (e.g. an attach that ended early); fall back to the nominal period.
            let nominal = 1 / profile.recording.rateHz
            if p > nominal * 0.5 && p < nominal * 4 { return p }
        }
        return 1 / max(profile.recording.rateHz, 1e-9)
    }

    static func compute(_ profile: Profile, classifier: inout StackClassifier) -> TimeBreakdown {
        let samples = profile.samples
        let threadIndex = ThreadIndex(profile)
        let nThreads = profile.threads.count
        let nStates = ThreadState.allCases.count
        // counts[thread * nStates + state.code]
        var counts = [Int](repeating: 0, count: nThreads * nStates)
        var idle = [Int](repeating: 0, count: nThreads)
        var processOfThread = [Int](repeating: 0, count: nThreads)
        var processIndex: [Int32: Int] = [:]
        var processPids: [Int32] = []
        for p in profile.processes where processIndex[p.pid] == nil {
            processIndex[p.pid] = processPids.count
            processPids.append(p.pid)
        }
        for (i, t) in profile.threads.enumerated() {
            if let p = processIndex[t.pid] {
                processOfThread[i] = p
            } else {
                processIndex[t.pid] = processPids.count
                processOfThread[i] = processPids.count
                processPids.append(t.pid)
            }
        }
        let nProcesses = processPids.count
        var processTicks = [Int](repeating: 0, count: nProcesses)
        var processLastTick = [UInt64](repeating: .max, count: nProcesses)
        var processOnCPU = [Int](repeating: 0, count: nProcesses)

        // Per-stack cache of "lock wait here is really a GIL wait" and "idle": -1 unknown.
        var gilFlag = [Int8](repeating: -1, count: profile.stacks.count)
        var idleFlag = [Int8](repeating: -1, count: profile.stacks.count)

        var ticks = 0
        var peak = 0
        var onCPUTotal = 0
        var runnableTotal = 0
        var starvedTicks = 0
        let cores = max(profile.recording.cores, 1)
        var tickOn = 0, tickRunnable = 0
        var lastTime: UInt64 = .max
        var truncated = 0
        let stacks = profile.stacks

        func closeTick() {
            if tickOn > peak { peak = tickOn }
            if tickRunnable > 0 && tickOn + tickRunnable > cores { starvedTicks += 1 }
        }

        for s in samples {
            if s.timeNs != lastTime {
                if lastTime != .max { closeTick() }
                ticks += 1
                lastTime = s.timeNs
                tickOn = 0
                tickRunnable = 0
            }
            guard let t = threadIndex[s.tid] else { continue }
            var state = s.state
            let si = Int(s.stack)
            if stacks[si].truncated { truncated += 1 }
            switch state {
            case .onCPU:
                tickOn += 1
            case .runnable:
                tickRunnable += 1
            case .lockWait:
                if gilFlag[si] < 0 {
                    let f = classifier.facts(s.stack)
                    gilFlag[si] = f.isGIL ? 1 : 0
                    idleFlag[si] = (f.lockKind.isIdle || f.inQueueGet) ? 1 : 0
                }
                if gilFlag[si] == 1 { state = .gilWait }
                if idleFlag[si] == 1 { idle[t] += 1 }
            case .ioWait:
                if idleFlag[si] < 0 {
                    let f = classifier.facts(s.stack)
                    gilFlag[si] = f.isGIL ? 1 : 0
                    idleFlag[si] = f.inQueueGet ? 1 : 0
                }
                if idleFlag[si] == 1 { idle[t] += 1 }
            case .childWait:
                idle[t] += 1
            default:
                break
            }
            counts[t * nStates + Int(state.code)] += 1
            let p = processOfThread[t]
            if processLastTick[p] != s.timeNs {
                processLastTick[p] = s.timeNs
                processTicks[p] += 1
            }
            if state == .onCPU {
                processOnCPU[p] += 1
                onCPUTotal += 1
            } else if state == .runnable {
                runnableTotal += 1
            }
        }
        if lastTime != .max { closeTick() }
        // Samples out of time order would make `ticks` count runs, not instants: recount.
        if ticks > 0 && !isSortedByTime(samples) {
            ticks = Set(samples.map(\.timeNs)).count
        }

        let period = period(profile, ticks: ticks)
        var threads: [ThreadBreakdown] = []
        var processStates = [[Int]](repeating: [Int](repeating: 0, count: nStates), count: nProcesses)
        var processSamples = [Int](repeating: 0, count: nProcesses)
        var processThreads = [Int](repeating: 0, count: nProcesses)
        var totalStates = [Int](repeating: 0, count: nStates)
        var total = 0
        for (i, info) in profile.threads.enumerated() {
            let row = counts[(i * nStates)..<((i + 1) * nStates)]
            let n = row.reduce(0, +)
            guard n > 0 else { continue }
            var shares = StateShares()
            for st in ThreadState.allCases {
                let c = row[row.startIndex + Int(st.code)]
                shares[st] = Double(c) / Double(n)
                processStates[processOfThread[i]][Int(st.code)] += c
                totalStates[Int(st.code)] += c
            }
            processSamples[processOfThread[i]] += n
            processThreads[processOfThread[i]] += 1
            total += n
            threads.append(ThreadBreakdown(pid: info.pid, tid: info.tid, name: info.name, samples: n, states: shares,
                                           seconds: Double(n) * period, idleShare: Double(idle[i]) / Double(n)))
        }

        func shares(_ c: [Int], _ n: Int) -> StateShares {
            var s = StateShares()
            guard n > 0 else { return s }
            for st in ThreadState.allCases { s[st] = Double(c[Int(st.code)]) / Double(n) }
            return s
        }

        var processes: [ProcessBreakdown] = []
        let infoByPid = Dictionary(profile.processes.map { ($0.pid, $0) }, uniquingKeysWith: { a, _ in a })
        for (p, pid) in processPids.enumerated() {
            let info = infoByPid[pid]
            guard processSamples[p] > 0 || info != nil else { continue }
            processes.append(ProcessBreakdown(
                pid: pid, ppid: info?.ppid ?? 0, command: info?.command ?? [], origin: info?.origin ?? "unknown",
                runtime: info?.runtime, threads: processThreads[p], samples: processSamples[p],
                states: shares(processStates[p], processSamples[p]), cpuSeconds: Double(processOnCPU[p]) * period,
                parallelism: processTicks[p] > 0 ? Double(processOnCPU[p]) / Double(processTicks[p]) : 0,
                startSeconds: Double(info?.startNs ?? 0) / 1e9, endSeconds: info?.endNs.map { Double($0) / 1e9 }))
        }

        let parallelism = ticks > 0 ? Double(onCPUTotal) / Double(ticks) : 0
        let overall = OverallBreakdown(
            samples: total, ticks: ticks, states: shares(totalStates, total), threadSeconds: Double(total) * period,
            cpuSeconds: Double(onCPUTotal) * period, parallelism: parallelism, peakParallelism: peak,
            runnableThreads: ticks > 0 ? Double(runnableTotal) / Double(ticks) : 0,
            liveThreads: ticks > 0 ? Double(total) / Double(ticks) : 0, cores: profile.recording.cores,
            coreUtilization: min(1, parallelism / Double(cores)),
            starvedTickShare: ticks > 0 ? Double(starvedTicks) / Double(ticks) : 0)
        let summary = ProfileSummary(
            command: profile.recording.command, rootPid: profile.recording.rootPid, durationSeconds: Double(profile.recording.durationNs) / 1e9,
            rateHz: profile.recording.rateHz, cores: profile.recording.cores, samples: samples.count, ticks: ticks,
            periodSeconds: period, processes: processes.count, threads: threads.count,
            truncatedShare: samples.isEmpty ? 0 : Double(truncated) / Double(samples.count), notes: profile.recording.notes)
        return TimeBreakdown(summary: summary, overall: overall, processes: processes, threads: threads)
    }

    static func isSortedByTime(_ samples: [Sample]) -> Bool {
        var last: UInt64 = 0
        for s in samples {
            if s.timeNs < last { return false }
            last = s.timeNs
        }
        return true
    }
}

/// tid → row of `Profile.threads`, with a fast path for small dense tids.
struct ThreadIndex {
    private var dense: [Int32]
    private var sparse: [Int32: Int] = [:]
    private let base: Int32

    init(_ profile: Profile) {
        let tids = profile.threads.map(\.tid)
        let lo = tids.min() ?? 0
        let hi = tids.max() ?? 0
        base = lo
        if tids.isEmpty || Int(hi) - Int(lo) > 1 << 22 {
            dense = []
        } else {
            dense = [Int32](repeating: -1, count: Int(hi - lo) + 1)
        }
        // Later entries win: a reused tid belongs to its latest thread row.
        for (i, t) in tids.enumerated() {
            if dense.isEmpty { sparse[t] = i } else { dense[Int(t - lo)] = Int32(i) }
        }
    }

    subscript(tid: Int32) -> Int? {
        if dense.isEmpty { return sparse[tid] }
        let k = Int(tid) - Int(base)
        guard k >= 0 && k < dense.count else { return nil }
        let v = dense[k]
        return v < 0 ? nil : Int(v)
    }
}

/// The `time-breakdown` analyzer: fills `profile`, `overall`, `processes` and `threads`.
public struct TimeBreakdownAnalyzer: AnalyzerPlugin {
    public init() {}
    public var descriptor: PluginDescriptor {
        PluginDescriptor(name: "time-breakdown", kind: .analyzer, version: "1.0",
                         summary: "Shares of on-CPU, runnable, GIL, lock, I/O, sleep and child waits per thread, process and run; achieved parallelism.")
    }

    public func analyze(_ profile: Profile, into analysis: inout Analysis) throws {
        let b = TimeBreakdown.compute(profile)
        analysis.profile = b.summary
        analysis.overall = b.overall
        analysis.processes = b.processes
        analysis.threads = b.threads
        let o = b.overall
        if o.starvedTickShare >= 0.25 && o.runnableThreads >= 0.25 {
            analysis.findings.append(Finding(
                source: descriptor.name, id: "cpu.starvation", severity: o.starvedTickShare >= 0.5 ? .warning : .info,
                factor: .cpuStarvation,
                title: "CPU starvation: threads runnable without a CPU at \(Text.pct(o.starvedTickShare)) of ticks",
                detail: "On average \(Text.num(o.runnableThreads)) threads waited for a CPU while \(Text.num(o.parallelism)) ran, on \(o.cores) cores.",
                metrics: ["starved_tick_share": o.starvedTickShare, "runnable_threads": o.runnableThreads, "parallelism": o.parallelism]))
        }
        if o.ticks > 0 && o.liveThreads >= 1.5 && o.parallelism < 1.2 && o.cores > 1 {
            analysis.findings.append(Finding(
                source: descriptor.name, id: "cpu.low-parallelism", severity: .info, factor: .scaling,
                title: "Low parallelism: \(Text.num(o.parallelism)) threads on CPU on average with \(Text.num(o.liveThreads)) alive",
                detail: "The run used \(Text.pct(o.coreUtilization)) of \(o.cores) cores; the other threads were waiting "
                    + "(GIL \(Text.pct(o.states.gilWait)), locks \(Text.pct(o.states.lockWait)), I/O \(Text.pct(o.states.ioWait)), "
                    + "sleep \(Text.pct(o.states.sleep))).",
                metrics: ["parallelism": o.parallelism, "live_threads": o.liveThreads, "core_utilization": o.coreUtilization]))
        }
    }
}
