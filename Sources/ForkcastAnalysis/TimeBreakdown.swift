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
    /// Threads that waited for events as an event loop does (epoll/select with nothing ready,
    /// a listening socket, an eventfd) for at least a tenth of their samples.
    public var eventDrivenTids: Set<Int32> = []
    /// Per thread: how many times it went from waiting for work (a queue get, a condition) to
    /// working — the tasks it was seen to start, an estimate of the pool's task rate.
    public var taskStarts: [Int32: Int] = [:]
    /// Per thread corrected for observer bias: the factor its off-CPU samples were scaled by
    /// (`ObserverBias`). Analyzers that add up waits weigh those threads' samples by it, so
    /// a wait's share of the working time is in the same units as the corrected total.
    public var offCPUScale: [Int32: Double] = [:]
    /// Of the runnable samples, the share the recorded threads explain themselves: at each
    /// tick, those on a CPU or runnable beyond the cores (the rest waited for a CPU that
    /// another program, or forkcast, held). 1 when there was nothing runnable.
    public var ownRunnableShare: Double = 1

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
        var pass = SamplePass(profile, classifier: &classifier)

        let period = period(profile, ticks: pass.ticks)

        // The kernel's accounting against the samples (ObserverBias).
        let (measured, offScale) = observerBias(profile, counts: pass.counts)

        let idleReason = idleVerdicts(profile, counts: pass.counts, idle: &pass.idle, idleBy: pass.idleBy, firstSlot: pass.firstSlot,
                                      sameAsFirst: pass.sameAsFirst, measured: measured, offScale: offScale,
                                      working: &pass.working, classifier: &classifier)

        var rows = Rows(nStates: pass.nStates, nProcesses: pass.nProcesses)
        rows.addThreads(profile, counts: pass.counts, working: pass.working, idle: pass.idle, idleBy: pass.idleBy, measured: measured,
                        offScale: offScale, idleReason: idleReason, startRoutine: pass.startRoutine,
                        processOfThread: pass.processOfThread, period: period)
        var threads = rows.threads
        var processes = rows.processes(profile, pids: pass.processPids, onCPU: pass.processOnCPU, ticks: pass.processTicks, period: period)
        let (total, totalWorking, onCPUFix, runnableFix) = (rows.total, rows.totalWorking, rows.onCPUFix, rows.runnableFix)
        let startRoutineByTid = rows.startRoutineByTid, eventDriven = rows.eventDriven
        Roles.assign(processes: &processes, threads: &threads, rootPid: profile.recording.rootPid,
                     executables: Dictionary(profile.processes.map { ($0.pid, $0.executable) }, uniquingKeysWith: { _, b in b }),
                     startRoutine: startRoutineByTid, duration: Double(profile.recording.durationNs) / 1e9)

        let onCPUAll = Double(pass.onCPUTotal) + onCPUFix
        // A thread sampled on_cpu ran for most of its tick's interval, not necessarily at its
        // instant: short tasks on many threads (a thread per request) can put more samples
        // than pass.cores in one tick. No more threads than pass.cores run at once.
        let parallelism = pass.ticks > 0 ? min(Double(pass.cores), onCPUAll / Double(pass.ticks)) : 0
        pass.peak = min(pass.peak, pass.cores)
        var overall = OverallBreakdown(
            samples: total, ticks: pass.ticks, states: Rows.shares(rows.totalStates, totalWorking), threadSeconds: Double(total) * period,
            cpuSeconds: onCPUAll * period, parallelism: parallelism, peakParallelism: max(pass.peak, Int(parallelism.rounded(.up))),
            runnableThreads: pass.ticks > 0 ? (Double(pass.runnableTotal) + runnableFix) / Double(pass.ticks) : 0,
            liveThreads: pass.ticks > 0 ? Double(total) / Double(pass.ticks) : 0, cores: profile.recording.cores,
            coreUtilization: min(1, parallelism / Double(pass.cores)),
            starvedTickShare: pass.ticks > 0 ? Double(pass.starvedTicks) / Double(pass.ticks) : 0)
        overall.workingSamples = Int(totalWorking.rounded())
        overall.idleShare = total > 0 ? max(0, Double(total) - totalWorking) / Double(total) : 0
        let summary = ProfileSummary(
            command: profile.recording.command, rootPid: profile.recording.rootPid, durationSeconds: Double(profile.recording.durationNs) / 1e9,
            rateHz: profile.recording.rateHz, cores: profile.recording.cores, samples: samples.count, ticks: pass.ticks,
            periodSeconds: period, processes: processes.count, threads: threads.count,
            truncatedShare: samples.isEmpty ? 0 : Double(pass.truncated) / Double(samples.count), notes: profile.recording.notes)
        var starts: [Int32: Int] = [:]
        for (i, info) in profile.threads.enumerated() where pass.taskStarts[i] > 0 { starts[info.tid] = pass.taskStarts[i] }
        var scales: [Int32: Double] = [:]
        for (i, info) in profile.threads.enumerated() where measured[i]?.biased == true { scales[info.tid] = offScale[i] }
        var result = TimeBreakdown(summary: summary, overall: overall, processes: processes, threads: threads, eventDrivenTids: eventDriven,
                                   taskStarts: starts, offCPUScale: scales)
        result.ownRunnableShare = pass.runnableTotal > 0 ? Double(pass.ownRunnable) / Double(pass.runnableTotal) : 1
        return result
    }

    /// The kernel's accounting against the samples (ObserverBias): where they disagree
    /// beyond sampling error, the thread's running and runnable shares are the kernel's
    /// and its sampled off-CPU states (idle waits included) are scaled by `offScale`.
    static func observerBias(_ profile: Profile, counts: [Int]) -> (measured: [MeasuredCPU?], offScale: [Double]) {
        let nThreads = profile.threads.count, nStates = ThreadState.allCases.count
        var measured = [MeasuredCPU?](repeating: nil, count: nThreads)
        var offScale = [Double](repeating: 1, count: nThreads)
        for t in 0..<nThreads {
            let row = counts[(t * nStates)..<((t + 1) * nStates)]
            let on = row[row.startIndex + Int(ThreadState.onCPU.code)]
            let busy = on + row[row.startIndex + Int(ThreadState.runnable.code)]
            guard let m = ObserverBias.check(profile.threads[t], samples: row.reduce(0, +), running: busy, onCPU: on) else { continue }
            measured[t] = m
            if m.biased { offScale[t] = ObserverBias.corrected(row, m).offCPUScale }
        }
        return (measured, offScale)
    }

    /// Thread verdicts: idle when it waited for work nearly all the time and barely ran, or
    /// when one wait that is not contention filled the whole recording and it never ran.
    /// A thread the kernel saw running is never idle, whatever its samples show. An idle
    /// thread's samples stop counting as working; the reason per thread (nil: not idle).
    static func idleVerdicts(_ profile: Profile, counts: [Int], idle: inout [Int], idleBy: [Int], firstSlot: [SIMD2<Int32>],
                             sameAsFirst: [Int], measured: [MeasuredCPU?], offScale: [Double],
                             working: inout [Int], classifier: inout StackClassifier) -> [String?] {
        let nThreads = profile.threads.count, nStates = ThreadState.allCases.count, nEvidence = IdleEvidence.allCases.count
        // Per stack: a lock wait there is contention whoever waits (a mutex, a Python lock,
        // the GIL), never "the same wait all along" idle; -1: not asked yet.
        var contentionKind = [Int8](repeating: -1, count: profile.stacks.count)
        var idleReason = [String?](repeating: nil, count: nThreads)
        for t in 0..<nThreads {
            let row = counts[(t * nStates)..<((t + 1) * nStates)]
            let n = row.reduce(0, +)
            guard n > 0 else { continue }
            let busy = row[row.startIndex + Int(ThreadState.onCPU.code)] + row[row.startIndex + Int(ThreadState.runnable.code)]
            let m = measured[t]
            let busyShare = m?.biased == true ? m!.running : Double(busy) / Double(n)
            guard busyShare < IdleVerdicts.maxBusyShare, (m?.onCPU ?? 0) < ObserverBias.maxMeasuredIdleOnCPU else { continue }
            if Double(idle[t]) * offScale[t] >= IdleVerdicts.minIdleShare * Double(n) {
                var best = IdleEvidence.none, bestCount = 0
                for e in IdleEvidence.allCases where e != .none && idleBy[t * nEvidence + Int(e.rawValue)] > bestCount {
                    best = e
                    bestCount = idleBy[t * nEvidence + Int(e.rawValue)]
                }
                idleReason[t] = "\(best.sentence) \(Text.pct(Double(idle[t]) / Double(n))) of its samples, on a CPU \(Text.pct(busyShare))"
            } else if Double(sameAsFirst[t]) >= IdleVerdicts.sameWaitShare * Double(n) {
                let slot = firstSlot[t]
                let wait: WaitInfo? = slot.y >= 0 ? profile.waits[Int(slot.y)] : nil
                let si = Int(slot.x)
                if contentionKind[si] < 0 {
                    let f = classifier.facts(slot.x)
                    contentionKind[si] = (f.isGIL || f.lockKind == .pthreadMutex || f.lockKind == .pythonLock) ? 1 : 0
                }
                // Reading data from a peer, a pipe or a file, sleeping, and lock contention are
                // work or its cost, however long; an unnamed futex or another wait that never
                // changes and never runs is waiting for something that did not come.
                let dataWait = wait.map { w in w.fdKind == .socket || w.fdKind == .pipe || w.fdKind == .file || w.fdKind == .tty } ?? false
                let sleeping = counts[t * nStates + Int(ThreadState.sleep.code)] > 0
                if contentionKind[si] == 0 && !dataWait && !sleeping && wait != nil {
                    idleReason[t] = "the same wait (\(wait!.syscall) at \(classifier.facts(slot.x).callSite)) for the whole recording; it never ran"
                    // Its samples are all idle now.
                    idle[t] = n
                }
            }
            if idleReason[t] != nil {
                for st in 0..<nStates { working[t * nStates + st] = 0 }
            }
        }
        return idleReason
    }

    /// The breakdown rows: one per thread with samples (its shares, all and working,
    /// corrected for observer bias), and the sums per process and overall they feed.
    struct Rows {
        var threads: [ThreadBreakdown] = []
        // Sample counts as Doubles: a thread corrected for observer bias counts its samples
        // at the kernel's shares.
        var processStates: [[Double]]
        var processSamples: [Int]
        var processThreads: [Int]
        var totalStates: [Double]
        var processWorking: [Double]
        var processIdleThreads: [Int]
        var processIdleReason: [String?]
        var total = 0
        var totalWorking = 0.0
        var processOnCPUFix: [Double]
        var onCPUFix = 0.0, runnableFix = 0.0
        var startRoutineByTid: [Int32: String] = [:]
        var eventDriven = Set<Int32>()

        init(nStates: Int, nProcesses: Int) {
            processStates = [[Double]](repeating: [Double](repeating: 0, count: nStates), count: nProcesses)
            processSamples = [Int](repeating: 0, count: nProcesses)
            processThreads = [Int](repeating: 0, count: nProcesses)
            totalStates = [Double](repeating: 0, count: nStates)
            processWorking = [Double](repeating: 0, count: nProcesses)
            processIdleThreads = [Int](repeating: 0, count: nProcesses)
            processIdleReason = [String?](repeating: nil, count: nProcesses)
            processOnCPUFix = [Double](repeating: 0, count: nProcesses)
        }

        static func shares(_ c: [Double], _ n: Double) -> StateShares {
            var s = StateShares()
            guard n > 0 else { return s }
            for st in ThreadState.allCases { s[st] = c[Int(st.code)] / n }
            return s
        }

        /// A row per thread with samples, adding its (corrected) working counts to its
        /// process's and the overall sums.
        mutating func addThreads(_ profile: Profile, counts: [Int], working: [Int], idle: [Int], idleBy: [Int],
                                 measured: [MeasuredCPU?], offScale: [Double], idleReason: [String?],
                                 startRoutine: [String?], processOfThread: [Int], period: Double) {
            let nStates = ThreadState.allCases.count, nEvidence = IdleEvidence.allCases.count
    for (i, info) in profile.threads.enumerated() {
        let row = counts[(i * nStates)..<((i + 1) * nStates)]
        let n = row.reduce(0, +)
        guard n > 0 else { continue }
        let p = processOfThread[i]
        var shares = StateShares()
        var workingShares = StateShares()
        var sampledShares: StateShares?
        let workSlice = working[(i * nStates)..<((i + 1) * nStates)]
        var eff = row.map(Double.init)
        var workRow = workSlice.map(Double.init)
        var idleCount = Double(idle[i])
        if let m = measured[i], m.biased {
            var sampled = StateShares()
            for st in ThreadState.allCases { sampled[st] = Double(row[row.startIndex + Int(st.code)]) / Double(n) }
            sampledShares = sampled
            let fixed = ObserverBias.corrected(row, m)
            let on = Int(ThreadState.onCPU.code), rq = Int(ThreadState.runnable.code), other = Int(ThreadState.other.code)
            if idleReason[i] == nil {
                // Running is work; the working off-CPU states scale like the rest.
                for k in workRow.indices where k != on && k != rq { workRow[k] *= fixed.offCPUScale }
                workRow[on] = fixed.counts[on]
                workRow[rq] = fixed.counts[rq]
                if fixed.offCPUScale == 0 { workRow[other] = fixed.counts[other] }
            }
            idleCount *= fixed.offCPUScale
            processOnCPUFix[p] += fixed.counts[on] - eff[on]
            onCPUFix += fixed.counts[on] - eff[on]
            runnableFix += fixed.counts[rq] - eff[rq]
            eff = fixed.counts
        }
        let w = workRow.reduce(0, +)
        for st in ThreadState.allCases {
            let c = eff[Int(st.code)]
            let wc = workRow[Int(st.code)]
            shares[st] = c / Double(n)
            workingShares[st] = w > 0 ? wc / w : 0
            processStates[p][Int(st.code)] += wc
            totalStates[Int(st.code)] += wc
        }
        processSamples[p] += n
        processWorking[p] += w
        processThreads[p] += 1
        total += n
        totalWorking += w
        if let r = idleReason[i] {
            processIdleThreads[p] += 1
            if processIdleReason[p] == nil || info.tid == info.pid { processIdleReason[p] = r }
        }
        if let r = startRoutine[i], !r.isEmpty { startRoutineByTid[info.tid] = r }
        let events = [IdleEvidence.eventLoop, .listening, .eventFD].reduce(0) { $0 + idleBy[i * nEvidence + Int($1.rawValue)] }
        // Under observer bias the waits' share of the time is the corrected one; either
        // view showing a tenth is enough (the samples saw the waits happen).
        if events > 0 && Double(events) * max(1, offScale[i]) >= 0.1 * Double(n) { eventDriven.insert(info.tid) }
        var row2 = ThreadBreakdown(pid: info.pid, tid: info.tid, name: info.name, samples: n, states: shares,
                                   seconds: Double(n) * period, idleShare: min(1, idleCount / Double(n)))
        row2.workingStates = workingShares
        row2.measured = measured[i]
        row2.sampledStates = sampledShares
        row2.idle = idleReason[i] != nil
        row2.idleReason = idleReason[i]
        threads.append(row2)
    }
        }

        /// A row per process with samples or a process record, idle when all its threads are.
        func processes(_ profile: Profile, pids processPids: [Int32], onCPU processOnCPU: [Int], ticks processTicks: [Int],
                       period: Double) -> [ProcessBreakdown] {
    var processes: [ProcessBreakdown] = []
    let infoByPid = Dictionary(profile.processes.map { ($0.pid, $0) }, uniquingKeysWith: { a, _ in a })
    for (p, pid) in processPids.enumerated() {
        let info = infoByPid[pid]
        guard processSamples[p] > 0 || info != nil else { continue }
        var row = ProcessBreakdown(
            pid: pid, ppid: info?.ppid ?? 0, command: info?.command ?? [], origin: info?.origin ?? "unknown",
            runtime: info?.runtime, threads: processThreads[p], samples: processSamples[p],
            states: Rows.shares(processStates[p], processWorking[p]), cpuSeconds: (Double(processOnCPU[p]) + processOnCPUFix[p]) * period,
            parallelism: processTicks[p] > 0 ? (Double(processOnCPU[p]) + processOnCPUFix[p]) / Double(processTicks[p]) : 0,
            startSeconds: Double(info?.startNs ?? 0) / 1e9, endSeconds: info?.endNs.map { Double($0) / 1e9 })
        if processThreads[p] > 0 && processIdleThreads[p] == processThreads[p] {
            row.idle = true
            row.idleReason = processIdleReason[p]
        }
        processes.append(row)
    }
            return processes
        }
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
public struct TimeBreakdownAnalyzer: ContextAnalyzer {
    public init() {}
    public var descriptor: PluginDescriptor {
        PluginDescriptor(name: "time-breakdown", kind: .analyzer, version: "1.0",
                         summary: "Shares of on-CPU, runnable, GIL, lock, I/O, sleep and child waits per thread, process and run; achieved parallelism.")
    }

    func part(_ context: AnalysisContext) -> AnalysisPart {
        var part = AnalysisPart()
        let b = context.breakdown
        part.breakdown = b
        let o = b.overall
        if let f = idleFinding(b) { part.findings.append(f) }
        if let finding = ObserverBias.finding(b, source: descriptor.name) { part.findings.append(finding) }
        let machine = ExternalLoad.usage(context.profile, b)
        part.machine = .some(machine)
        if let m = machine, let finding = ExternalLoad.finding(m, source: descriptor.name) { part.findings.append(finding) }
        if let f = eventDrivenFinding(b) { part.findings.append(f) }
        if let f = poolTasksFinding(b) { part.findings.append(f) }
        if o.starvedTickShare >= 0.25 && o.runnableThreads >= 0.25 {
            part.findings.append(Finding(
                source: descriptor.name, id: "cpu.starvation", severity: o.starvedTickShare >= 0.5 ? .warning : .info,
                factor: .cpuStarvation,
                title: "CPU starvation: threads runnable without a CPU at \(Text.pct(o.starvedTickShare)) of ticks",
                detail: "On average \(Text.num(o.runnableThreads)) threads waited for a CPU while \(Text.num(o.parallelism)) ran, on \(o.cores) cores.",
                metrics: ["starved_tick_share": o.starvedTickShare, "runnable_threads": o.runnableThreads, "parallelism": o.parallelism]))
        }
        if o.ticks > 0 && o.liveThreads >= 1.5 && o.parallelism < 1.2 && o.cores > 1 {
            part.findings.append(Finding(
                source: descriptor.name, id: "cpu.low-parallelism", severity: .info, factor: .scaling,
                title: "Low parallelism: \(Text.num(o.parallelism)) threads on CPU on average with \(Text.num(o.liveThreads)) alive",
                detail: "The run used \(Text.pct(o.coreUtilization)) of \(o.cores) cores; the other threads were waiting "
                    + "(GIL \(Text.pct(o.states.gilWait)), locks \(Text.pct(o.states.lockWait)), I/O \(Text.pct(o.states.ioWait)), "
                    + "sleep \(Text.pct(o.states.sleep))).",
                metrics: ["parallelism": o.parallelism, "live_threads": o.liveThreads, "core_utilization": o.coreUtilization]))
        }
        return part
    }

    /// `idle`: the threads (and processes) left out of the working time, and why.
    func idleFinding(_ b: TimeBreakdown) -> Finding? {
        let o = b.overall
        let idleThreads = b.threads.filter(\.idle)
        guard !idleThreads.isEmpty else { return nil }
        let idleProcesses = b.processes.filter(\.idle)
        return Finding(
            source: descriptor.name, id: "idle", severity: .info, factor: .other,
            title: "\(idleThreads.count) idle thread\(idleThreads.count == 1 ? "" : "s")"
                + (idleProcesses.isEmpty ? "" : " (\(idleProcesses.count) idle process\(idleProcesses.count == 1 ? "" : "es"))")
                + ": left out of the working time",
            detail: idleThreads.prefix(6).map { "tid \($0.tid) \($0.name): \($0.idleReason ?? "idle")" }.joined(separator: "; ")
                + (idleThreads.count > 6 ? "; +\(idleThreads.count - 6) more" : ""),
            metrics: ["idle_threads": Double(idleThreads.count), "idle_processes": Double(idleProcesses.count),
                      "idle_share": o.idleShare])
    }

    /// `design.event-driven`: the workload's threads wait for events (connections,
    /// requests, wake-ups), so the work arrives from outside and its concurrency follows
    /// the clients', not a pool size the program chose.
    func eventDrivenFinding(_ b: TimeBreakdown) -> Finding? {
        let helpers = Set(b.processes.filter { $0.role == .helper }.map(\.pid))
        // A runner multiplexing while the other programs it started do the work (make -j2 in
        // pselect on its jobserver pipe while gcc runs) waits for its jobs, not for clients.
        let driven = b.threads.filter { b.eventDrivenTids.contains($0.tid) && !helpers.contains($0.pid) && $0.role != .helper
            && Jobs.otherPrograms(of: $0.pid, in: b.processes).isEmpty }
        guard !driven.isEmpty else { return nil }
        let workers = b.processes.filter { $0.role == .worker }.count
        let workerThreads = b.threads.filter { $0.role == .worker && !helpers.contains($0.pid) }.count
        return Finding(
            source: descriptor.name, id: "design.event-driven", severity: .info, factor: .other,
            title: "Event-driven: \(driven.count) thread\(driven.count == 1 ? "" : "s") of the workload wait for events (connections, requests, wake-ups)",
            detail: "Work arrives from outside (\(driven.prefix(4).map { "tid \($0.tid) \($0.name)" }.joined(separator: ", "))); "
                + (workers > 0 ? "\(workers) worker processes" : workerThreads > 0 ? "\(workerThreads) worker threads" : "one event loop")
                + " serve it. Its concurrency follows the clients'.",
            metrics: ["event_driven_threads": Double(driven.count), "worker_processes": Double(workers),
                      "worker_threads": Double(workerThreads)])
    }

    /// `pool.tasks`: the pool's task rate, from its workers' queue traffic: each return
    /// from waiting for work to working is a task started; work per task = their working
    /// time / tasks.
    func poolTasksFinding(_ b: TimeBreakdown) -> Finding? {
        let workerProcesses = Set(b.processes.filter { $0.role == .worker }.map(\.pid))
        let poolThreads = b.threads.filter { t in
            (t.role == .worker || (workerProcesses.contains(t.pid) && t.tid == t.pid)) && !t.idle && (b.taskStarts[t.tid] ?? 0) > 0
        }
        let tasks = poolThreads.reduce(0) { $0 + (b.taskStarts[$1.tid] ?? 0) }
        guard tasks >= 3 else { return nil }
        let workSeconds = poolThreads.reduce(0.0) { $0 + $1.seconds * (1 - $1.idleShare) }
        let perTask = workSeconds / Double(tasks)
        let duration = max(b.summary.durationSeconds, b.summary.periodSeconds)
        // Workers that seldom waited for work took task after task from a full queue
        // without a wait between them (a pre-filled ThreadPoolExecutor.map): the count is a
        // lower bound, the work per task an upper one.
        let waited = poolThreads.reduce(0.0) { $0 + $1.seconds * $1.idleShare } / max(poolThreads.reduce(0.0) { $0 + $1.seconds }, 1e-9)
        let lowerBound = waited < 0.15
        return Finding(
            source: descriptor.name, id: "pool.tasks", severity: .info, factor: .startup,
            title: lowerBound
                ? "Pool tasks: at least \(tasks) started by \(poolThreads.count) workers, at most \(Text.secs(perTask)) of work each"
                : "Pool tasks: about \(tasks) started by \(poolThreads.count) workers, \(Text.secs(perTask)) of work each",
            detail: "Estimated from the workers' queue traffic (each return from waiting for work to working is a task); "
                + "a task shorter than the sampling period (\(Text.secs(b.summary.periodSeconds))) can be missed, so short tasks are rarer than they are."
                + (lowerBound ? " The workers waited for work only \(Text.pct(waited)) of their time: tasks taken from a full queue without a wait are not seen, so there were more, and smaller." : ""),
            metrics: ["tasks_seen": Double(tasks), "task_seconds": perTask, "tasks_per_second": Double(tasks) / duration,
                      "workers": Double(poolThreads.count), "tasks_lower_bound": lowerBound ? 1 : 0])
    }
}

/// Each thread's main loop as its on-CPU stacks show it: the deepest function common to
/// all of them (outermost first), and the branches below it that do the work. A
/// multiplexing wait (epoll_wait, select) whose stack leaves the loop by a branch that does
/// no work is the loop waiting for events — idle; one that leaves by a working branch waits
/// inside the work (a lock built on a latch, a row lock) — not idle. Functions are compared
/// by name: the loop calls the wait and the work from different call sites.
struct LoopModel {
    /// Per thread row: the loop as the outermost-first function prefix, nil when the thread
    /// never ran with a complete stack.
    private var prefix: [[Int32]?]
    /// Per thread row: the functions directly below the loop in its on-CPU stacks, with counts.
    private var branches: [[Int32: Int]]
    private var onCPU: [Int]
    /// Per thread row: where its multiplexing waits with a complete stack are (true: at the
    /// loop, by majority); a wait whose stack was cut short (the thread woke while it was
    /// read: only the leaf is kept) is placed as they are. Nil when it has none.
    private var completeWaitsAtLoop: [Bool?]
    private let profile: Profile
    /// Frame index → function-name id.
    private let nameID: [Int32]
    /// Frame index → in a system library (libc, …).
    private let system: [Bool]

    init(_ profile: Profile, threadIndex: ThreadIndex) {
        self.profile = profile
        var ids: [String: Int32] = [:]
        nameID = profile.frames.map { f in
            if let id = ids[f.name] { return id }
            let id = Int32(ids.count)
            ids[f.name] = id
            return id
        }
        system = profile.frames.map { StackClassifier.isSystemNative($0) }
        // On a CPU inside the multiplexing call itself (the kernel returning the events) is
        // the wait ending, not work: such stacks neither shape the loop nor make a branch work.
        let inWaitCall: [Bool] = profile.stacks.map { s in
            guard let leaf = s.frames.first else { return false }
            let name = StackClassifier.base(profile.frames[Int(leaf)].name)
            return name.hasSuffix("epoll_wait") || name.hasSuffix("epoll_pwait") || name.hasSuffix("epoll_pwait2")
                || name.hasSuffix("select") || name.hasSuffix("pselect6") || name.hasSuffix("poll") || name.hasSuffix("ppoll")
        }
        let n = profile.threads.count
        var distinct = [[Int32: Int]](repeating: [:], count: n)
        for s in profile.samples where s.state == .onCPU && !profile.stacks[Int(s.stack)].truncated && !inWaitCall[Int(s.stack)] {
            guard let t = threadIndex[s.tid] else { continue }
            distinct[t][s.stack, default: 0] += 1
        }
        prefix = Array(repeating: nil, count: n)
        branches = Array(repeating: [:], count: n)
        completeWaitsAtLoop = []
        onCPU = distinct.map { $0.values.reduce(0, +) }
        for t in 0..<n where !distinct[t].isEmpty {
            var common: [Int32]?
            for stack in distinct[t].keys {
                let names = outermostFirst(stack)
                guard var p = common else { common = names; continue }
                var k = 0
                while k < p.count && k < names.count && p[k] == names[k] { k += 1 }
                p.removeSubrange(k...)
                common = p
            }
            guard let p = common, !p.isEmpty else { continue }
            prefix[t] = p
            for (stack, count) in distinct[t] {
                // A branch into a system library (the wait's own wrapper, on a CPU in the
                // kernel as the wait returns) is not work.
                let frames = profile.stacks[Int(stack)].frames
                let i = frames.count - p.count - 1
                guard i >= 0, !system[Int(frames[i])] else { continue }
                branches[t][nameID[Int(frames[i])], default: 0] += count
            }
        }
        completeWaitsAtLoop = Self.completeWaitVerdicts(self, profile, threadIndex: threadIndex, inWaitCall: inWaitCall)
    }

    /// The verdict of `waitIsAtLoop` for each thread's complete-stack multiplexing waits, by majority.
    private static func completeWaitVerdicts(_ model: LoopModel, _ profile: Profile, threadIndex: ThreadIndex,
                                             inWaitCall: [Bool]) -> [Bool?] {
        var atLoop = [Int](repeating: 0, count: profile.threads.count), inside = atLoop
        var cache: [SIMD2<Int32>: Bool] = [:]
        for s in profile.samples where s.state != .onCPU && s.state != .runnable && inWaitCall[Int(s.stack)]
            && !profile.stacks[Int(s.stack)].truncated {
            guard let t = threadIndex[s.tid] else { continue }
            let key = SIMD2(Int32(t), s.stack)
            let here: Bool
            if let known = cache[key] { here = known } else {
                here = model.waitIsAtLoop(thread: t, stack: s.stack)
                cache[key] = here
            }
            if here { atLoop[t] += 1 } else { inside[t] += 1 }
        }
        return zip(atLoop, inside).map { a, i in a + i == 0 ? nil : a >= i }
    }

    private func outermostFirst(_ stack: Int32) -> [Int32] {
        profile.stacks[Int(stack)].frames.reversed().map { nameID[Int($0)] }
    }

    /// True when the wait on `stack` is the loop waiting: its stack leaves the path common to
    /// all the thread's work above that path's end, or at its end by a branch that does no
    /// work (under a fifth of the on-CPU samples); also when the thread never ran with a
    /// complete stack (nothing tells the loop from the work). False when the wait is inside
    /// a working branch, or when its stack shares nothing with the work (truncated).
    func waitIsAtLoop(thread t: Int, stack: Int32) -> Bool {
        if profile.stacks[Int(stack)].truncated, t < completeWaitsAtLoop.count, let verdict = completeWaitsAtLoop[t] { return verdict }
        guard let p = prefix[t] else { return true }
        let names = outermostFirst(stack)
        var k = 0
        while k < p.count && k < names.count && p[k] == names[k] { k += 1 }
        if k == 0 { return false }
        if k < p.count { return true }
        guard names.count > k else { return false }
        let work = branches[t][names[k]] ?? 0
        return Double(work) < 0.2 * Double(max(onCPU[t], 1))
    }
}

/// One pass over a profile's samples in time order: per thread, its samples by state (all,
/// and working: less the waits for work), its idle samples and their evidence, its first
/// wait and how often it repeats, its start routine and task starts; per process, its ticks
/// and on-CPU samples; per tick, how many threads ran and waited for a CPU.
struct SamplePass {
    /// counts[thread * nStates + state.code]; working: the same, less waits for work.
    var counts: [Int], working: [Int]
    /// Idle samples per thread; idleBy[thread * nEvidence + evidence]: why they were idle.
    var idle: [Int], idleBy: [Int]
    /// The thread's first (stack, wait) and how many of its samples repeat it exactly.
    var firstSlot: [SIMD2<Int32>], sameAsFirst: [Int]
    var startRoutine: [String?], taskStarts: [Int]
    var processOfThread: [Int], processPids: [Int32], processTicks: [Int], processOnCPU: [Int]
    var ticks = 0, peak = 0, onCPUTotal = 0, runnableTotal = 0, starvedTicks = 0, ownRunnable = 0, truncated = 0
    let cores: Int, nStates: Int, nEvidence: Int, nProcesses: Int

    // Used while passing.
    private let stacks: [Stack]
    private let waitEvidence: [IdleEvidence?]
    /// Where each thread's work happens: its main loop, and the branches below it that run.
    private let loops: LoopModel
    /// (thread, stack) → is this multiplexing wait at the loop (idle) or inside the work?
    private var atLoop: [SIMD2<Int32>: Bool] = [:]
    /// The previous sample of each thread waited for work (1), worked (0), or none yet (-1).
    private var lastWaitedForWork: [Int8]
    private var processLastTick: [UInt64]
    /// Per-stack cache of "lock wait here is really a GIL wait" and "idle": -1 unknown.
    private var gilFlag: [Int8], idleFlag: [Int8]
    private var tickOn = 0, tickRunnable = 0

    init(_ profile: Profile, classifier: inout StackClassifier) {
        let nThreads = profile.threads.count
        nStates = ThreadState.allCases.count
        nEvidence = IdleEvidence.allCases.count
        counts = [Int](repeating: 0, count: nThreads * nStates)
        working = [Int](repeating: 0, count: nThreads * nStates)
        idle = [Int](repeating: 0, count: nThreads)
        idleBy = [Int](repeating: 0, count: nThreads * nEvidence)
        firstSlot = [SIMD2<Int32>](repeating: SIMD2(-1, -1), count: nThreads)
        sameAsFirst = [Int](repeating: 0, count: nThreads)
        startRoutine = [String?](repeating: nil, count: nThreads)
        taskStarts = [Int](repeating: 0, count: nThreads)
        lastWaitedForWork = [Int8](repeating: -1, count: nThreads)
        (processPids, processOfThread) = Self.processRows(profile)
        nProcesses = processPids.count
        processTicks = [Int](repeating: 0, count: nProcesses)
        processLastTick = [UInt64](repeating: .max, count: nProcesses)
        processOnCPU = [Int](repeating: 0, count: nProcesses)
        gilFlag = [Int8](repeating: -1, count: profile.stacks.count)
        idleFlag = [Int8](repeating: -1, count: profile.stacks.count)
        cores = max(profile.recording.cores, 1)
        stacks = profile.stacks
        waitEvidence = profile.waits.map { IdleEvidence.of($0) }
        let threadIndex = ThreadIndex(profile)
        loops = LoopModel(profile, threadIndex: threadIndex)

        var lastTime: UInt64 = .max
        for s in profile.samples {
            if s.timeNs != lastTime {
                if lastTime != .max { closeTick() }
                ticks += 1
                lastTime = s.timeNs
                tickOn = 0
                tickRunnable = 0
            }
            guard let t = threadIndex[s.tid] else { continue }
            add(s, thread: t, classifier: &classifier)
        }
        if lastTime != .max { closeTick() }
        // Samples out of time order would make `ticks` count runs, not instants: recount.
        if ticks > 0 && !TimeBreakdown.isSortedByTime(profile.samples) {
            ticks = Set(profile.samples.map(\.timeNs)).count
        }
    }

    /// The processes' pids, recorded processes first then those only threads name, and
    /// each thread's process row.
    static func processRows(_ profile: Profile) -> (pids: [Int32], ofThread: [Int]) {
        var processOfThread = [Int](repeating: 0, count: profile.threads.count)
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
        return (processPids, processOfThread)
    }

    private mutating func closeTick() {
        if tickOn > peak { peak = tickOn }
        if tickRunnable > 0 && tickOn + tickRunnable > cores { starvedTicks += 1 }
        ownRunnable += min(tickRunnable, max(0, tickOn + tickRunnable - cores))
    }

    /// Counts one sample of thread row `t`.
    private mutating func add(_ s: Sample, thread t: Int, classifier: inout StackClassifier) {
        let si = Int(s.stack)
        if stacks[si].truncated {
            truncated += 1
        } else if startRoutine[t] == nil {
            startRoutine[t] = classifier.startRoutine(s.stack) ?? ""
        }
        let slot = SIMD2(s.stack, s.wait)
        if firstSlot[t] == slot {
            sameAsFirst[t] += 1
        } else if firstSlot[t].x < 0 {
            firstSlot[t] = slot
            sameAsFirst[t] = 1
        }
        if s.state == .onCPU { tickOn += 1 } else if s.state == .runnable { tickRunnable += 1 }
        let (state, evidence) = classify(s, thread: t, classifier: &classifier)
        counts[t * nStates + Int(state.code)] += 1
        if evidence == .waitsForWork {
            lastWaitedForWork[t] = 1
        } else if evidence == .none {
            if lastWaitedForWork[t] == 1 { taskStarts[t] += 1 }
            lastWaitedForWork[t] = 0
        }
        if evidence == .none {
            working[t * nStates + Int(state.code)] += 1
        } else {
            idle[t] += 1
            idleBy[t * nEvidence + Int(evidence.rawValue)] += 1
        }
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

    /// The sample's state (a lock wait for the GIL is a GIL wait) and why it is idle:
    /// waiting for work, for a child, or a wait whose kind says so — an epoll/select wait
    /// only at the thread's main loop.
    private mutating func classify(_ s: Sample, thread t: Int, classifier: inout StackClassifier) -> (ThreadState, IdleEvidence) {
        var state = s.state
        let si = Int(s.stack)
        var evidence = IdleEvidence.none
        switch state {
        case .lockWait:
            if gilFlag[si] < 0 {
                let f = classifier.facts(s.stack)
                gilFlag[si] = f.isGIL ? 1 : 0
                idleFlag[si] = (f.lockKind.isIdle || f.inQueueGet) ? 1 : 0
            }
            if gilFlag[si] == 1 { state = .gilWait }
            if idleFlag[si] == 1 { evidence = .waitsForWork }
        case .ioWait:
            if idleFlag[si] < 0 {
                let f = classifier.facts(s.stack)
                gilFlag[si] = f.isGIL ? 1 : 0
                idleFlag[si] = f.inQueueGet ? 1 : 0
            }
            if idleFlag[si] == 1 { evidence = .waitsForWork }
        case .childWait:
            evidence = .childWait
        default:
            break
        }
        if evidence == .none && state.isWaiting && state != .gilWait && s.wait >= 0, let e = waitEvidence[Int(s.wait)] {
            evidence = e
            // An epoll/select wait is idle only at the thread's main loop: a wait inside
            // the work (a lock built on a latch, a query waiting for a row lock) is not.
            if e == .eventLoop {
                let key = SIMD2(Int32(t), s.stack)
                let idleHere: Bool
                if let known = atLoop[key] {
                    idleHere = known
                } else {
                    idleHere = loops.waitIsAtLoop(thread: t, stack: s.stack)
                    atLoop[key] = idleHere
                }
                if !idleHere { evidence = .none }
            }
        }
        return (state, evidence)
    }
}
