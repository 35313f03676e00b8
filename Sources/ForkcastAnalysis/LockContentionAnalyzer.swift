import ForkcastModel

/// The `lock-contention` analyzer: groups lock and GIL waits by lock (futex address, the
/// GIL of a process, the Python line taking a `threading.Lock`), with the waiters, their
/// top stacks, and the holder where it can be known:
///
/// - GIL: the thread whose sample says it held the GIL at the tick (`holdsGIL`), else the
///   Python thread that was on CPU in that process.
/// - A mutex or Python lock: at each contended tick, a thread of the same process that was
///   not waiting on the lock and was inside the function that takes it (the same critical
///   section) — preferring one on CPU.
///
/// Waits for work (condition variables, joins, queue gets, futures) are reported with
/// `idle: true` and never make a lock "hot".
public struct LockContentionAnalyzer: ClassifyingAnalyzer {
    public init() {}
    public var descriptor: PluginDescriptor {
        PluginDescriptor(name: "lock-contention", kind: .analyzer, version: "1.0",
                         summary: "Lock, mutex and GIL waits grouped by lock, with waiters, stacks and holders.")
    }

    struct Group {
        var key: String
        var kind: LockWaitKind
        var pid: Int32
        var samples = 0
        /// `samples`, weighed for observer bias (`AnalysisContext.weight`).
        var weight = 0.0
        var waiters = Set<Int32>()
        var stacks: [Int32: Int] = [:]
        var site: String?
        var siteFunction: String?
        var futex: UInt64?
        var contendedTicks = 0
        var holders: [Int32: Int] = [:]
        var holderEvidence: [Int32: String] = [:]
        var lastTick: UInt64 = .max
        /// Processes of the waiters (more than one only for a lock grouped by caller).
        var pids: Set<Int32> = []
        /// "futex-address", "caller", "python-line", "gil", "site".
        var grouping = "futex-address"
        /// The holder's stacks at the ticks it was identified from the mutex word.
        var holderStacks: [Int32: Int] = [:]
    }

    struct LockSlot: Hashable {
        var pid: Int32
        var stack: Int32
        var wait: Int32
        var gilState: Bool
    }

    func fill(_ part: inout AnalysisPart, from context: AnalysisContext, classifier: inout StackClassifier) {
        let groups = Self.groupByCaller(Self.lockGroups(context, classifier: &classifier), idle: context.idleTids, classifier: &classifier)
        let result = Self.contentions(groups, context: context, classifier: &classifier)
        part.locks = result
        part.findings += hotLockFindings(result)
    }

    /// The lock and GIL waits grouped by lock (`lockKey`), with their waiters, stacks and,
    /// tick by tick, their holders (`attributeHolders`).
    static func lockGroups(_ context: AnalysisContext, classifier: inout StackClassifier) -> [Group] {
        let samples = context.profile.samples
        let waits = context.profile.waits
        var groups: [Group] = []
        var groupIndex: [String: Int] = [:]
        var tickStart = 0
        // Lock waits of the tick [tickStart, i): (sample, group).
        var tickWaits: [(sample: Int, group: Int)] = []
        var tickGroup: [Int] = []
        func closeTick(_ end: Int) {
            guard !tickWaits.isEmpty else { return }
            attributeHolders(tick: tickStart..<end, tickWaits: tickWaits, groups: &groups, profile: context.profile,
                             classifier: &classifier, tickGroup: &tickGroup)
            tickWaits.removeAll(keepingCapacity: true)
        }

        var lastTime: UInt64 = .max
        var slots: [LockSlot: Int] = [:]
        for i in samples.indices {
            let s = samples[i]
            if s.timeNs != lastTime {
                closeTick(i)
                tickStart = i
                lastTime = s.timeNs
            }
            guard s.state == .lockWait || s.state == .gilWait else { continue }
            let slot = LockSlot(pid: s.pid, stack: s.stack, wait: s.wait, gilState: s.state == .gilWait)
            let g: Int
            if let known = slots[slot] {
                g = known
            } else {
                let f = classifier.facts(s.stack)
                let (key, kind) = lockKey(s, f, waits: waits)
                if let existing = groupIndex[key] {
                    g = existing
                } else {
                    g = groups.count
                    groupIndex[key] = g
                    var group = Group(key: key, kind: kind, pid: s.pid)
                    group.site = kind == .gil ? nil : f.lockSite
                    group.siteFunction = f.lockSiteFunction
                    group.futex = s.wait >= 0 ? waits[Int(s.wait)].futex : nil
                    group.grouping = kind == .gil ? "gil" : kind == .pythonLock ? "python-line" : group.futex != nil ? "futex-address" : "site"
                    groups.append(group)
                }
                slots[slot] = g
            }
            groups[g].samples += 1
            groups[g].weight += context.weight(s)
            groups[g].waiters.insert(s.tid)
            groups[g].pids.insert(s.pid)
            groups[g].stacks[s.stack, default: 0] += 1
            tickWaits.append((i, g))
        }
        closeTick(samples.count)
        return groups
    }

    /// The group a lock wait belongs to, and its kind: the GIL of a process, a futex
    /// address, a Python lock's line, or the site that takes the lock.
    static func lockKey(_ s: Sample, _ f: StackFacts, waits: [WaitInfo]) -> (String, LockWaitKind) {
        let futex: UInt64? = s.wait >= 0 ? waits[Int(s.wait)].futex : nil
        if s.state == .gilWait || f.isGIL { return ("gil:\(s.pid)", .gil) }
        switch f.lockKind {
        case .pthreadMutex, .futex:
            if let futex { return ("futex:\(s.pid):\(Text.hex(futex))", f.lockKind) }
            return ("\(f.lockKind.rawValue):\(s.pid):\(f.lockSite ?? "?")", f.lockKind)
        case .pythonLock:
            return ("python:\(s.pid):\(f.lockSite ?? "?")", .pythonLock)
        default:
            return ("\(f.lockKind.rawValue):\(s.pid):\(f.lockSite ?? futex.map(Text.hex) ?? "?")", f.lockKind)
        }
    }

    /// At one tick (the samples in `tick`), with the lock waits `tickWaits` seen in it:
    /// counts each group waited on as contended there and looks for its holder — the
    /// mutex's owner word, the GIL flag or a Python thread on CPU, a thread inside the
    /// function that takes the lock, or the one peer waiter not waiting now.
    /// `tickGroup` is scratch space kept between ticks.
    static func attributeHolders(tick: Range<Int>, tickWaits: [(sample: Int, group: Int)], groups: inout [Group],
                                 profile: Profile, classifier: inout StackClassifier, tickGroup: inout [Int]) {
        let samples = profile.samples
        let waits = profile.waits
        guard !tickWaits.isEmpty else { return }
        tickGroup.removeAll(keepingCapacity: true)
        tickGroup.append(contentsOf: repeatElement(-1, count: tick.count))
        for (i, g) in tickWaits { tickGroup[i - tick.lowerBound] = g }
        // For each contended (non-idle) group in this tick, look for its holder.
        var seen: [Int] = []
        for (_, g) in tickWaits where !seen.contains(g) {
            seen.append(g)
            groups[g].contendedTicks += 1
            if groups[g].kind.isIdle { continue }
            let pid = groups[g].pid
            // A pthread mutex whose owner the recorder read from the mutex word: the holder,
            // and its stack at this tick.
            if groups[g].kind == .pthreadMutex {
                var owner: Int32?
                for (i, gg) in tickWaits where gg == g && samples[i].wait >= 0 {
                    if let o = waits[Int(samples[i].wait)].owner { owner = o; break }
                }
                if let owner {
                    groups[g].holders[owner, default: 0] += 1
                    groups[g].holderEvidence[owner] = "mutex-owner"
                    if let j = tick.first(where: { samples[$0].tid == owner }) {
                        groups[g].holderStacks[samples[j].stack, default: 0] += 1
                    }
                    continue
                }
            }
            let isGIL = groups[g].kind == .gil
            let fn = groups[g].siteFunction.map { classifier.baseID($0) }
            var best: (tid: Int32, rank: Int, evidence: String)?
            var peers = 0
            var peer: Int32 = 0
            for j in tick {
                let o = samples[j]
                guard o.pid == pid, tickGroup[j - tick.lowerBound] != g else { continue }
                if isGIL {
                    if o.holdsGIL == true {
                        best = (o.tid, 3, "gil-flag")
                        break
                    }
                    if o.state == .onCPU && o.holdsGIL == nil && (best?.rank ?? 0) < 1 {
                        let f = classifier.flags(o.stack)
                        if f.contains(.hasPython) || f.contains(.leafInInterpreter) {
                            best = (o.tid, 1, "python-on-cpu")
                        }
                    }
                    continue
                }
                // A peer: a thread that waits on this lock at other times but not now, and is
                // not parked elsewhere — with several waiters, the likely holder. Counted
                // only when exactly one peer fits.
                if groups[g].waiters.count >= 2 && groups[g].waiters.contains(o.tid)
                    && o.state != .lockWait && o.state != .gilWait {
                    peers += 1
                    peer = o.tid
                }
                guard let fn else { continue }
                let rank = o.state == .onCPU ? 3 : 2
                guard rank > (best?.rank ?? 0) else { continue }
                let contains = classifier.stack(o.stack, containsBase: fn)
                if contains { best = (o.tid, rank, rank == 3 ? "same-site-on-cpu" : "same-site") }
            }
            if best == nil && peers == 1 { best = (peer, 1, "peer-not-waiting") }
            if let best {
                groups[g].holders[best.tid, default: 0] += 1
                if groups[g].holderEvidence[best.tid] == nil || best.evidence == "gil-flag" || best.evidence == "same-site-on-cpu" {
                    groups[g].holderEvidence[best.tid] = best.evidence
                }
            }
        }
    }

    /// One `LockContention` per group: wait time and share of the waiters' working time,
    /// top stacks, the holders seen; contention first (hottest first), idle waits after.
    static func contentions(_ groups: [Group], context: AnalysisContext, classifier: inout StackClassifier) -> [LockContention] {
        let profile = context.profile, period = context.period
        let names = Dictionary(profile.threads.map { ($0.tid, $0.name) }, uniquingKeysWith: { _, b in b })
        var result: [LockContention] = []
        for g in groups {
            let seconds = g.weight * period
            let denominator = g.pids.reduce(0) { $0 + context.workingSamples(pid: $1) }
            let share = denominator > 0 ? g.weight / Double(denominator) : 0
            let top = Support.top(g.stacks, 3).map { classifier.labels($0.key) }
            var holder: String?
            var holderShare: Double?
            var evidence: String?
            let holders = Support.top(g.holders, 3)
            if let h = holders.first {
                holder = holders.map { "tid \($0.key) \(names[$0.key] ?? "?")" }.joined(separator: ", ")
                    + (g.holders.count > 3 ? " +\(g.holders.count - 3) more" : "")
                let identified = g.holders.values.reduce(0, +)
                holderShare = g.contendedTicks > 0 ? Double(identified) / Double(g.contendedTicks) : nil
                evidence = g.holderEvidence[h.key]
            }
            let lockName: String
            switch g.kind {
            case .gil: lockName = "gil"
            case .pthreadMutex, .futex:
                lockName = g.grouping == "caller" ? "caller:\(g.site ?? "?")"
                    : g.futex.map { "futex:\(Text.hex($0))" } ?? "\(g.kind.rawValue):\(g.site ?? "?")"
            case .pythonLock: lockName = "python:\(g.site ?? "?")"
            default: lockName = "\(g.kind.rawValue):\(g.site ?? g.futex.map(Text.hex) ?? "?")"
            }
            result.append(LockContention(
                lock: lockName, kind: g.kind.rawValue, waitSeconds: seconds, waiters: g.waiters.count, topStacks: top,
                holder: holder, pid: g.pid, samples: g.samples, waitShare: share, idle: g.kind.isIdle, site: g.site,
                holderEvidence: evidence, holderShare: holderShare, grouping: g.grouping,
                holderStack: Support.top(g.holderStacks, 1).first.map { classifier.labels($0.key) },
                waiterPids: g.pids.count > 1 ? g.pids.sorted() : nil))
        }
        // Contention first (hottest first), idle waits after.
        result.sort { a, b in
            if a.idle != b.idle { return !a.idle }
            return a.waitSeconds != b.waitSeconds ? a.waitSeconds > b.waitSeconds : a.lock < b.lock
        }
        return result
    }

    /// A `lock.hot` finding for each lock (not the GIL, not a wait for work) that took at
    /// least 10% of its waiters' working time.
    func hotLockFindings(_ result: [LockContention]) -> [Finding] {
        var findings: [Finding] = []
        for l in result where !l.idle && l.kind != LockWaitKind.gil.rawValue && l.isContention && l.waitShare >= 0.1 {
            let what = l.kind == LockWaitKind.pthreadMutex.rawValue ? "pthread mutex" : l.kind == LockWaitKind.pythonLock.rawValue ? "Python lock" : "lock"
            let who = (l.waiterPids?.count ?? 1) > 1 ? "in \(l.waiterPids!.count) processes" : "of pid \(l.pid)"
            var detail = "\(l.waiters) thread\(l.waiters == 1 ? "" : "s") \(who) waited \(Text.secs(l.waitSeconds)) on this \(what) "
                + "(\(Text.pct(l.waitShare)) of their working time)"
            if let site = l.site { detail += ", taken in \(site)" }
            if let h = l.holder {
                detail += "; held by \(h)" + (l.holderShare.map { " (a holder seen at \(Text.pct($0)) of contended ticks)" } ?? "")
            }
            detail += "."
            findings.append(Finding(
                source: descriptor.name, id: "lock.hot", severity: l.waitShare >= 0.3 ? .critical : .warning, factor: .locks,
                title: "Hot \(what) \(l.lock)" + (l.site.map { " in \($0)" } ?? ""), detail: detail,
                metrics: ["wait_seconds": l.waitSeconds, "wait_share": l.waitShare, "waiters": Double(l.waiters)],
                stacks: Array(l.topStacks.prefix(2))))
        }
        return findings
    }

    /// Lock identity: when every waiter sleeps on a futex of its own (a semaphore per
    /// process, a condition variable or parking slot per thread: one waiter per address),
    /// the address names the waiter, not the lock. Such waits are grouped by where the lock
    /// is taken instead: the first frames above the system libraries (the lock library's
    /// entry and its caller, `PGSemaphoreLock ← LWLockAcquire ← XLogFlush`). Waits of idle
    /// threads never take part (a pool of threads each parked on its own condition is
    /// waiting for work, not contending). Groups with a real shared address keep it.
    static func groupByCaller(_ groups: [Group], idle: Set<Int32>, classifier: inout StackClassifier) -> [Group] {
        var byKey: [String: [Int]] = [:]
        for (i, g) in groups.enumerated() {
            guard g.kind == .futex || g.kind == .pthreadMutex, g.futex != nil, g.waiters.count == 1,
                  !g.waiters.contains(where: idle.contains),
                  let top = g.stacks.max(by: { $0.value < $1.value })?.key else { continue }
            let key = classifier.callerKey(top, depth: 3)
            guard !key.isEmpty else { continue }
            byKey[key.joined(separator: " ← "), default: []].append(i)
        }
        var merged: [Group] = []
        var used = Set<Int>()
        for (key, members) in byKey where members.count >= 2 {
            var m = groups[members[0]]
            for i in members.dropFirst() {
                let g = groups[i]
                m.samples += g.samples
                m.weight += g.weight
                m.waiters.formUnion(g.waiters)
                m.pids.formUnion(g.pids)
                m.stacks.merge(g.stacks, uniquingKeysWith: +)
                m.holders.merge(g.holders, uniquingKeysWith: +)
                m.holderEvidence.merge(g.holderEvidence) { a, _ in a }
                m.holderStacks.merge(g.holderStacks, uniquingKeysWith: +)
                m.contendedTicks += g.contendedTicks
            }
            let bySamples = members.map { groups[$0] }.reduce(into: [Int32: Int]()) { $0[$1.pid, default: 0] += $1.samples }
            m.pid = bySamples.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }?.key ?? m.pid
            m.grouping = "caller"
            m.site = key
            m.futex = nil
            m.key = "caller:" + key
            merged.append(m)
            used.formUnion(members)
        }
        guard !merged.isEmpty else { return groups }
        return groups.enumerated().filter { !used.contains($0.offset) }.map(\.element) + merged.sorted { $0.key < $1.key }
    }
}
