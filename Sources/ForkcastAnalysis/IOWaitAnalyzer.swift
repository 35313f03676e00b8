import ForkcastModel

/// The `io-wait` analyzer: groups I/O waits by fd kind (socket, file, pipe, tty) and call
/// site (the innermost user Python frame, or the first native frame outside the system
/// libraries), with the peers or paths the fds revealed, the wait time and the threads.
public struct IOWaitAnalyzer: ClassifyingAnalyzer {
    public init() {}
    public var descriptor: PluginDescriptor {
        PluginDescriptor(name: "io-wait", kind: .analyzer, version: "1.0",
                         summary: "I/O waits grouped by fd kind and call site, with peers and paths.")
    }

    struct Group {
        var kind: FDKind
        var site: String
        var samples = 0
        /// `samples`, weighed for observer bias (`AnalysisContext.weight`).
        var weight = 0.0
        var threads = Set<Int32>()
        var targets: [String: Int] = [:]
        var syscalls: [String: Int] = [:]
        var stacks: [Int32: Int] = [:]
        var waitCounts: [Int32: Int] = [:]
    }

    func fill(_ part: inout AnalysisPart, from context: AnalysisContext, classifier: inout StackClassifier) {
        let profile = context.profile, period = context.period
        var groups: [Group] = []
        var index: [String: Int] = [:]
        var slots: [SIMD2<Int32>: Int] = [:]
        // Working time only: an event loop's wait for events, a listening socket, a pool
        // worker's wait for its next task are idle, not I/O the work waits on.
        for s in profile.samples where s.state == .ioWait && !context.isIdle(s, flags: classifier.flags(s.stack)) {
            let slot = SIMD2(s.stack, s.wait)
            let g: Int
            if let known = slots[slot] {
                g = known
            } else {
                let wait: WaitInfo? = s.wait >= 0 ? profile.waits[Int(s.wait)] : nil
                let kind = wait?.fdKind ?? .other
                let site = classifier.facts(s.stack).callSite
                let key = "\(kind.rawValue)\u{1}\(site)"
                if let i = index[key] {
                    g = i
                } else {
                    g = groups.count
                    index[key] = g
                    groups.append(Group(kind: kind, site: site))
                }
                slots[slot] = g
            }
            groups[g].samples += 1
            groups[g].weight += context.weight(s)
            groups[g].threads.insert(s.tid)
            groups[g].stacks[s.stack, default: 0] += 1
            if s.wait >= 0 { groups[g].waitCounts[s.wait, default: 0] += 1 }
        }
        for g in groups.indices {
            for (w, n) in groups[g].waitCounts {
                let wait = profile.waits[Int(w)]
                groups[g].syscalls[wait.syscall, default: 0] += n
                if let t = wait.target { groups[g].targets[t, default: 0] += n }
            }
        }
        let total = context.breakdown.overall.workingSamples
        let io: [IOWaitGroup] = groups.map { g in
            IOWaitGroup(kind: g.kind, callSite: g.site, targets: Support.top(g.targets, 5).map(\.key),
                        waitSeconds: g.weight * period, threads: g.threads.count,
                        syscalls: Support.top(g.syscalls, 4).map(\.key), samples: g.samples,
                        waitShare: total > 0 ? g.weight / Double(total) : 0,
                        stack: Support.top(g.stacks, 1).first.map { classifier.labels($0.key) } ?? [])
        }.sorted { $0.waitSeconds != $1.waitSeconds ? $0.waitSeconds > $1.waitSeconds : $0.callSite < $1.callSite }

        // Findings: I/O that takes a large part of the working threads' time (pipes between
        // processes are the multiprocessing analyzer's business).
        part.io = io
        let workingThreads = context.breakdown.threads.filter { !$0.idle }
        let workingSamples = workingThreads.reduce(0) { $0 + Int((Double($1.samples) * (1 - $1.idleShare)).rounded()) }
        guard workingSamples > 0 else { return }
        let workingTids = Set(workingThreads.map(\.tid))
        var ioWorking = 0.0
        let threadIndex = ThreadIndex(profile)
        var working = [Bool](repeating: false, count: profile.threads.count)
        for (i, t) in profile.threads.enumerated() where workingTids.contains(t.tid) { working[i] = true }
        let pipeWait = profile.waits.map { $0.fdKind == .pipe }
        for s in profile.samples where s.state == .ioWait {
            guard let t = threadIndex[s.tid], working[t], !context.isIdle(s, flags: classifier.flags(s.stack)) else { continue }
            if s.wait < 0 || !pipeWait[Int(s.wait)] { ioWorking += context.weight(s) }
        }
        let share = ioWorking / Double(workingSamples)
        if share >= 0.3, let top = io.first(where: { $0.kind != .pipe }) {
            let peers = top.targets.isEmpty ? "" : " (\(top.targets.prefix(3).joined(separator: ", ")))"
            part.findings.append(Finding(
                source: descriptor.name, id: "io.bound", severity: share >= 0.6 ? .warning : .info, factor: .taskType,
                title: "I/O-bound: working threads waited on I/O \(Text.pct(share)) of their time",
                detail: "Most of it at \(top.callSite): \(top.kind.rawValue) \(top.syscalls.joined(separator: "/"))\(peers), "
                    + "\(Text.secs(top.waitSeconds)) over \(top.threads) thread\(top.threads == 1 ? "" : "s").",
                metrics: ["io_share": share, "wait_seconds": top.waitSeconds, "threads": Double(top.threads)],
                stacks: top.stack.isEmpty ? [] : [top.stack]))
        }
    }
}
