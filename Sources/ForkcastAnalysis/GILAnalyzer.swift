import ForkcastModel

/// The `gil` analyzer: for each Python process, whether its on-CPU time held the GIL
/// (running bytecode) or released it (C code such as hashlib or zlib on large buffers),
/// and how long its threads waited for the GIL.
///
/// Ownership comes from the sampler's `holdsGIL` when it read it; otherwise it is inferred
/// from the leaf frame: inside the interpreter (python / libpython) means held, inside
/// another library means released (CPython's C modules release the GIL around long work).
public struct GILAnalyzer: ClassifyingAnalyzer {
    public init() {}
    public var descriptor: PluginDescriptor {
        PluginDescriptor(name: "gil", kind: .analyzer, version: "1.0",
                         summary: "GIL held vs released per Python process, and the time threads waited for it.")
    }

    final class Acc {
        var onCPU = 0, known = 0, knownHeld = 0, inferredHeld = 0, inferredReleased = 0, waits = 0
        var threads = Set<Int32>()
        var held: [Int32: Int] = [:]
        var released: [Int32: Int] = [:]
    }

    func fill(_ part: inout AnalysisPart, from context: AnalysisContext, classifier: inout StackClassifier) {
        let profile = context.profile, period = context.period
        let pythonRuntime = Dictionary(profile.processes.map { p in
            (p.pid, (p.runtime ?? "").lowercased().contains("python") || p.executable.contains("python"))
        }, uniquingKeysWith: { a, _ in a })
        var acc: [Int32: Acc] = [:]
        var lastPid: Int32 = -1
        var lastAcc: Acc?
        func accFor(_ pid: Int32) -> Acc {
            if pid == lastPid, let a = lastAcc { return a }
            let a: Acc
            if let existing = acc[pid] { a = existing } else { a = Acc(); acc[pid] = a }
            lastPid = pid
            lastAcc = a
            return a
        }
        for s in profile.samples {
            switch s.state {
            case .onCPU:
                let f = classifier.flags(s.stack)
                let pythonProcess = f.contains(.hasPython) || s.holdsGIL != nil || (pythonRuntime[s.pid] ?? false)
                guard pythonProcess else { continue }
                let a = accFor(s.pid)
                a.onCPU += 1
                a.threads.insert(s.tid)
                let inInterpreter = f.contains(.leafInInterpreter)
                // A leaf in libc (malloc, memcpy, a syscall) says nothing either way.
                let inferable = inInterpreter || !f.contains(.leafInSystem)
                let held: Bool?
                if let flag = s.holdsGIL {
                    a.known += 1
                    if flag { a.knownHeld += 1 }
                    held = flag
                } else {
                    held = inferable ? inInterpreter : nil
                }
                if inInterpreter { a.inferredHeld += 1 } else if inferable { a.inferredReleased += 1 }
                if held == true { a.held[s.stack, default: 0] += 1 } else if held == false { a.released[s.stack, default: 0] += 1 }
            case .gilWait, .lockWait:
                guard s.state == .gilWait || classifier.flags(s.stack).contains(.gil) else { continue }
                let a = accFor(s.pid)
                a.waits += 1
                a.threads.insert(s.tid)
            default:
                continue
            }
        }
        let noGIL = Dictionary(profile.processes.compactMap { p in
            p.python.map { (p.pid, $0.freeThreaded && $0.gilEnabled != true) }
        }, uniquingKeysWith: { a, _ in a })
        let parallelism = Dictionary(context.breakdown.processes.map { ($0.pid, $0.parallelism) }, uniquingKeysWith: { a, _ in a })
        let usage: [GILUsage] = acc.keys.sorted().compactMap { pid in
            let a = acc[pid]!
            // Use the flag when it was read for most on-CPU samples.
            let useFlag = a.onCPU > 0 && Double(a.known) >= 0.5 * Double(a.onCPU)
            let inferred = a.inferredHeld + a.inferredReleased
            let heldShare = a.onCPU == 0 ? 0 : useFlag ? Double(a.knownHeld) / Double(max(a.known, 1))
                : inferred == 0 ? 0.5 : Double(a.inferredHeld) / Double(inferred)
            let working = context.workingSamples(pid: pid)
            return GILUsage(
                pid: pid, pythonThreads: a.threads.count, cpuSeconds: Double(a.onCPU) * period, heldShare: heldShare,
                heldEvidence: useFlag ? "flag" : "interpreter-frames", waitSeconds: Double(a.waits) * period,
                waitShare: working > 0 ? Double(a.waits) / Double(working) : 0, parallelism: parallelism[pid] ?? 0,
                releasedStack: Support.top(a.released, 1).first.map { classifier.labels($0.key) } ?? [],
                heldStack: Support.top(a.held, 1).first.map { classifier.labels($0.key) } ?? [],
                freeThreaded: noGIL[pid])
        }
        part.gil = usage
        for g in usage where g.waitShare >= 0.15 {
            part.findings.append(Finding(
                source: descriptor.name, id: "gil.contention", severity: g.waitShare >= 0.4 ? .critical : .warning, factor: .gil,
                title: "GIL contention in pid \(g.pid): threads waited \(Text.pct(g.waitShare)) of their time for the GIL",
                detail: "\(g.pythonThreads) Python threads waited \(Text.secs(g.waitSeconds)) in take_gil while on-CPU time held the GIL "
                    + "\(Text.pct(g.heldShare)) of the time (\(g.heldEvidence)); achieved parallelism \(Text.num(g.parallelism)).",
                metrics: ["wait_share": g.waitShare, "wait_seconds": g.waitSeconds, "held_share": g.heldShare, "parallelism": g.parallelism],
                stacks: g.heldStack.isEmpty ? [] : [g.heldStack]))
        }
    }
}
