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
public struct LockContentionAnalyzer: AnalyzerPlugin {
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
        var waiters = Set<Int32>()
        var stacks: [Int32: Int] = [:]
        var site: String?
        var siteFunction: String?
        var futex: UInt64?
        var contendedTicks = 0
        var holders: [Int32: Int] = [:]
        var holderEvidence: [Int32: String] = [:]
        var lastTick: UInt64 = .max
    }

    struct LockSlot: Hashable {
        var pid: Int32
        var stack: Int32
        var wait: Int32
        var gilState: Bool
    }

    public func analyze(_ profile: Profile, into analysis: inout Analysis) throws {
        let period = Support.breakdown(profile, &analysis)
        var classifier = StackClassifier(profile)
        var groups: [Group] = []
        var groupIndex: [String: Int] = [:]
        let samples = profile.samples
        let waits = profile.waits
        var tickStart = 0
        // Samples of one tick: [tickStart, i).
        var tickWaits: [(sample: Int, group: Int)] = []

        func keyFor(_ s: Sample, _ f: StackFacts) -> (String, LockWaitKind) {
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

        var tickGroup: [Int] = []

        func closeTick(_ end: Int) {
            guard !tickWaits.isEmpty else { return }
            tickGroup.removeAll(keepingCapacity: true)
            tickGroup.append(contentsOf: repeatElement(-1, count: end - tickStart))
            for (i, g) in tickWaits { tickGroup[i - tickStart] = g }
            // For each contended (non-idle) group in this tick, look for its holder.
            var seen: [Int] = []
            for (_, g) in tickWaits where !seen.contains(g) {
                seen.append(g)
                groups[g].contendedTicks += 1
                if groups[g].kind.isIdle { continue }
                let pid = groups[g].pid
                let isGIL = groups[g].kind == .gil
                let fn = groups[g].siteFunction.map { classifier.baseID($0) }
                var best: (tid: Int32, rank: Int, evidence: String)?
                var peers = 0
                var peer: Int32 = 0
                for j in tickStart..<end {
                    let o = samples[j]
                    guard o.pid == pid, tickGroup[j - tickStart] != g else { continue }
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
                let (key, kind) = keyFor(s, f)
                if let existing = groupIndex[key] {
                    g = existing
                } else {
                    g = groups.count
                    groupIndex[key] = g
                    var group = Group(key: key, kind: kind, pid: s.pid)
                    group.site = kind == .gil ? nil : f.lockSite
                    group.siteFunction = f.lockSiteFunction
                    group.futex = s.wait >= 0 ? waits[Int(s.wait)].futex : nil
                    groups.append(group)
                }
                slots[slot] = g
            }
            groups[g].samples += 1
            groups[g].waiters.insert(s.tid)
            groups[g].stacks[s.stack, default: 0] += 1
            tickWaits.append((i, g))
        }
        closeTick(samples.count)

        let names = Dictionary(profile.threads.map { ($0.tid, $0.name) }, uniquingKeysWith: { _, b in b })
        var result: [LockContention] = []
        for g in groups {
            let seconds = Double(g.samples) * period
            let denominator = Support.workingSamples(analysis, pid: g.pid)
            let share = denominator > 0 ? Double(g.samples) / Double(denominator) : 0
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
            case .pthreadMutex, .futex: lockName = g.futex.map { "futex:\(Text.hex($0))" } ?? "\(g.kind.rawValue):\(g.site ?? "?")"
            case .pythonLock: lockName = "python:\(g.site ?? "?")"
            default: lockName = "\(g.kind.rawValue):\(g.site ?? g.futex.map(Text.hex) ?? "?")"
            }
            result.append(LockContention(
                lock: lockName, kind: g.kind.rawValue, waitSeconds: seconds, waiters: g.waiters.count, topStacks: top,
                holder: holder, pid: g.pid, samples: g.samples, waitShare: share, idle: g.kind.isIdle, site: g.site,
                holderEvidence: evidence, holderShare: holderShare))
        }
        // Contention first (hottest first), idle waits after.
        result.sort { a, b in
            if a.idle != b.idle { return !a.idle }
            return a.waitSeconds != b.waitSeconds ? a.waitSeconds > b.waitSeconds : a.lock < b.lock
        }
        analysis.locks = result

        for l in result where !l.idle && l.kind != LockWaitKind.gil.rawValue && l.isContention && l.waitShare >= 0.1 {
            let what = l.kind == LockWaitKind.pthreadMutex.rawValue ? "pthread mutex" : l.kind == LockWaitKind.pythonLock.rawValue ? "Python lock" : "lock"
            var detail = "\(l.waiters) thread\(l.waiters == 1 ? "" : "s") of pid \(l.pid) waited \(Text.secs(l.waitSeconds)) on this \(what) "
                + "(\(Text.pct(l.waitShare)) of their working time)"
            if let site = l.site { detail += ", taken in \(site)" }
            if let h = l.holder {
                detail += "; held by \(h)" + (l.holderShare.map { " (a holder seen at \(Text.pct($0)) of contended ticks)" } ?? "")
            }
            detail += "."
            analysis.findings.append(Finding(
                source: descriptor.name, id: "lock.hot", severity: l.waitShare >= 0.3 ? .critical : .warning, factor: .locks,
                title: "Hot \(what) \(l.lock)" + (l.site.map { " in \($0)" } ?? ""), detail: detail,
                metrics: ["wait_seconds": l.waitSeconds, "wait_share": l.waitShare, "waiters": Double(l.waiters)],
                stacks: Array(l.topStacks.prefix(2))))
        }
    }
}
