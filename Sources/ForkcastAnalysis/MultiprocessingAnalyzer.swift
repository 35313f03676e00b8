import ForkcastModel

/// The `multiprocessing` analyzer: what running work in several processes cost — CPU spent
/// pickling and unpickling, moving bytes through pipes and queues, time blocked on those
/// pipes, and each worker's start-up (from its process start to its first sample in user
/// code: the innermost Python frame outside the standard library, or for a native process
/// its first sample on CPU).
public struct MultiprocessingAnalyzer: ClassifyingAnalyzer {
    public init() {}
    public var descriptor: PluginDescriptor {
        PluginDescriptor(name: "multiprocessing", kind: .analyzer, version: "1.0",
                         summary: "Pickling, pipe/queue transfer, and worker start-up costs of process-based parallelism.")
    }

    /// File suffixes of the module run with `python3 -m MODULE`: `/MODULE.py` and, for a
    /// package, `/MODULE/`. Empty for a script (its file is not in the standard library).
    static func mainModuleSuffixes(_ command: [String]) -> [String] {
        guard let i = command.firstIndex(of: "-m"), i + 1 < command.count else { return [] }
        let path = command[i + 1].replacingOccurrences(of: ".", with: "/")
        guard !path.isEmpty else { return [] }
        return ["/\(path).py", "/\(path)/"]
    }

    static let readCalls: Set<String> = ["read", "readv", "pread64", "preadv", "recvfrom", "recvmsg", "recv", "poll", "ppoll",
                                         "select", "pselect6", "epoll_wait", "epoll_pwait", "epoll_pwait2"]
    static let writeCalls: Set<String> = ["write", "writev", "pwrite64", "pwritev", "sendto", "sendmsg", "send", "splice"]

    func fill(_ part: inout AnalysisPart, from context: AnalysisContext, classifier: inout StackClassifier) {
        let profile = context.profile, period = context.period
        var code = UserCode(profile)
        let firstUser = Self.firstUserCode(profile, code: &code, classifier: &classifier)
        let tally = Self.tally(profile, code: &code, firstUser: firstUser, classifier: &classifier)
        guard profile.processes.count > 1 || tally.pickleSamples > 0 || tally.transfer > 0 else {
            part.multiprocessing = .some(nil)
            return
        }
        let poolWorkers = Self.poolWorkers(profile, code: code, poolEvidence: tally.poolEvidence, poolLoop: tally.poolLoop)
        let costs = Self.costs(profile, period: period, code: code, tally: tally, poolWorkers: poolWorkers, firstUser: firstUser,
                               classifier: &classifier)
        part.multiprocessing = .some(costs)
        let serialization = Double(tally.pickle + tally.unpickle + tally.transfer) * period
        part.findings += findings(costs, poolWorkers: poolWorkers.count, serialization: serialization)
    }

    /// What tells a worker's user code from its interpreter's start-up and the pool's own
    /// frames: the worker processes, which ones run Python, and the program's `__main__`.
    struct UserCode {
        let profile: Profile
        /// Children of a recorded process (not the root, not attached ones).
        let workers: [ProcessInfo]
        let workerPids: Set<Int32>
        let isPython: [Int32: Bool]
        /// Without any Python frame in the profile (no Python sampler), user code cannot be
        /// told from the interpreter's start-up: every process is treated as native.
        let pythonFrames: Bool
        /// The program's own __main__ module is its useful work, even a standard-library one
        /// (`python3 -m compileall`): its frames count as user code.
        let mainSuffixes: [String]
        var mainLeafCache: [Int32: Bool] = [:]

        init(_ profile: Profile) {
            self.profile = profile
            let pids = Set(profile.processes.map(\.pid))
            let root = profile.recording.rootPid
            workers = profile.processes.filter { $0.pid != root && pids.contains($0.ppid) }
            workerPids = Set(workers.map(\.pid))
            isPython = Dictionary(profile.processes.map { p in
                (p.pid, (p.runtime ?? "").lowercased().contains("python") || p.executable.contains("python"))
            }, uniquingKeysWith: { a, _ in a })
            pythonFrames = profile.frames.contains { $0.kind == .python }
            mainSuffixes = MultiprocessingAnalyzer.mainModuleSuffixes(profile.recording.command)
        }

        func isWorker(_ pid: Int32) -> Bool { !workerPids.isEmpty && workerPids.contains(pid) }

        mutating func inMain(_ stack: Int32) -> Bool {
            guard !mainSuffixes.isEmpty, stack >= 0, Int(stack) < profile.stacks.count else { return false }
            if let known = mainLeafCache[stack] { return known }
            // The main module's frame nearest the leaf, before the pool's own frames: a task of
            // `-m compileall` runs in py_compile and importlib, called from compileall.py's
            // compile_file under the pool's worker loop (whose fork keeps compileall's main
            // frames further out, which do not count).
            var hit = false
            let frames = profile.frames
            for frame in profile.stacks[Int(stack)].frames.lazy.map({ frames[Int($0)] }) where frame.kind == .python {
                let file = frame.file ?? ""
                if mainSuffixes.contains(where: { file.hasSuffix($0) || ($0.hasSuffix("/") && file.contains($0)) }) { hit = true; break }
                if file.contains("/multiprocessing/") || file.contains("/concurrent/futures/") { break }
            }
            mainLeafCache[stack] = hit
            return hit
        }

        /// Useful work on this stack: user code (when Python frames tell it apart).
        mutating func isUserWork(_ stack: Int32, _ f: StackFlags) -> Bool {
            !pythonFrames || f.contains(.userLeaf) || !f.contains(.hasPython) || inMain(stack)
        }
    }

    /// Pass 1: when each worker was ready — its first sample running user code, or taking
    /// part in the pool's traffic (waiting for a task, receiving or unpickling one): tiny
    /// tasks may never be caught in user code, but a worker waiting for work has finished
    /// starting.
    static func firstUserCode(_ profile: Profile, code: inout UserCode, classifier: inout StackClassifier) -> [Int32: UInt64] {
        var firstUser: [Int32: UInt64] = [:]
        guard !code.workerPids.isEmpty else { return firstUser }
        for s in profile.samples where code.workerPids.contains(s.pid) && firstUser[s.pid] == nil {
            let f = classifier.flags(s.stack)
            if f.contains(.queueGet) || f.ipc != .none || f.contains(.queueLockKind) {
                firstUser[s.pid] = s.timeNs
                continue
            }
            guard s.state == .onCPU else { continue }
            let python = code.pythonFrames && (f.contains(.hasPython) || (code.isPython[s.pid] ?? false))
            if !python || f.contains(.userLeaf) || code.inMain(s.stack) { firstUser[s.pid] = s.timeNs }
        }
        return firstUser
    }

    /// Pass 2's sample counts.
    struct Tally {
        var pickle = 0, unpickle = 0, transfer = 0, readWait = 0, writeWaits = 0, queueLock = 0, onCPU = 0
        var compute = 0, computeRunnable = 0, pickleSamples = 0
        var ipcStacks: [Int32: Int] = [:]
        /// Workers that exchange work with their parent: pickling, pipe/queue traffic.
        var poolEvidence: [Int32: Int] = [:]
        /// Workers seen inside a pool's worker loop (`_process_worker`, `pool.worker`), in any state.
        var poolLoop: Set<Int32> = []
    }

    /// Pass 2: samples pickling, unpickling, moving bytes, blocked on pipes and queues, and
    /// the workers' useful work after their start-up.
    static func tally(_ profile: Profile, code: inout UserCode, firstUser: [Int32: UInt64],
                      classifier: inout StackClassifier) -> Tally {
        var t = Tally()
        let pipeWait = profile.waits.map { $0.fdKind == .pipe }
        let socketWait = profile.waits.map { $0.fdKind == .socket }
        let writeWait = profile.waits.map { Self.writeCalls.contains($0.syscall) }
        let multi = profile.processes.count > 1
        for s in profile.samples {
            // The pool's own structure: a child running the executor's worker loop is one of
            // its workers, whatever state it was caught in (runnable all along on a loaded
            // machine, it may never be seen blocked on the task queue).
            if code.isWorker(s.pid), s.stack >= 0, !t.poolLoop.contains(s.pid), classifier.flags(s.stack).contains(.poolLoop) {
                t.poolLoop.insert(s.pid)
            }
            switch s.state {
            case .onCPU:
                t.onCPU += 1
                let f = classifier.flags(s.stack)
                let ipc = f.ipc
                if ipc != .none && code.isWorker(s.pid) { t.poolEvidence[s.pid, default: 0] += 1 }
                switch ipc {
                case .pickle: t.pickle += 1; t.pickleSamples += 1; t.ipcStacks[s.stack, default: 0] += 1
                case .unpickle: t.unpickle += 1; t.pickleSamples += 1; t.ipcStacks[s.stack, default: 0] += 1
                case .transfer: t.transfer += 1; t.ipcStacks[s.stack, default: 0] += 1
                case .none:
                    // Useful work: user code (when Python frames tell it apart), after start-up.
                    if !code.workerPids.isEmpty, let first = firstUser[s.pid], s.timeNs >= first, code.isUserWork(s.stack, f) {
                        t.compute += 1
                    }
                }
            case .runnable:
                guard code.isWorker(s.pid) else { continue }
                let f = classifier.flags(s.stack)
                // Woken from the task queue, or mid-send, and waiting for a CPU: still the
                // pool's traffic (the stack says what, the state only when).
                if f.ipc != .none || (f.contains(.queueLockKind) && f.contains(.hasPython)) {
                    t.poolEvidence[s.pid, default: 0] += 1
                }
                // A task's code waiting for a CPU (a loaded machine) is the worker busy with
                // work, not waiting for the next task: it counts toward the busy share.
                guard let first = firstUser[s.pid], s.timeNs >= first else { continue }
                if f.ipc == .none, code.isUserWork(s.stack, f) { t.computeRunnable += 1 }
            case .ioWait:
                guard s.wait >= 0 else { continue }
                let w = Int(s.wait)
                let f = classifier.flags(s.stack)
                guard pipeWait[w] || (socketWait[w] && f.contains(.transfer)) || f.contains(.queueGet) else { continue }
                // With Python frames recorded, a pool's traffic shows them: a pipe read with
                // none is a shell's (a `$(…)` in a launcher the process ran before its exec).
                if code.isWorker(s.pid) && (!code.pythonFrames || f.contains(.hasPython)) {
                    t.poolEvidence[s.pid, default: 0] += 1
                }
                if writeWait[w] {
                    t.writeWaits += 1
                    t.ipcStacks[s.stack, default: 0] += 1
                } else {
                    t.readWait += 1
                }
            case .lockWait:
                let f = classifier.flags(s.stack)
                if f.contains(.queueGet) || (f.contains(.queueLockKind) && f.contains(.hasPython) && multi) {
                    t.queueLock += 1
                    if code.isWorker(s.pid) { t.poolEvidence[s.pid, default: 0] += 1 }
                }
            default:
                continue
            }
        }
        return t
    }

    /// A pool worker is a child seen in the pool's traffic (pickling, pipe/queue transfer,
    /// waiting on the task queue — in any state) or inside a pool's worker loop
    /// (`_process_worker`, `multiprocessing.pool.worker`). It runs the same program as its
    /// parent (a fork, or a spawn of the same interpreter): a shell or a launcher the
    /// parent runs (pyenv's shims, `sh -c`) reading a pipe is not one — nor are that
    /// shell's own forks (bash under bash), so the workers of a Python program are Python
    /// processes.
    static func poolWorkers(_ profile: Profile, code: UserCode, poolEvidence: [Int32: Int], poolLoop: Set<Int32>) -> [ProcessInfo] {
        let executable = Dictionary(profile.processes.map { ($0.pid, $0.executable) }, uniquingKeysWith: { _, b in b })
        let pythonProgram = code.isPython[profile.recording.rootPid] ?? false
        return code.workers.filter { w in
            ((poolEvidence[w.pid] ?? 0) > 0 || poolLoop.contains(w.pid)) && (executable[w.ppid].map { $0 == w.executable } ?? true)
                && (!pythonProgram || code.isPython[w.pid] == true)
        }
    }

    /// The costs in seconds and shares: serialization, transfer, waits, each pool worker's
    /// start-up, its useful work and busy share.
    static func costs(_ profile: Profile, period: Double, code: UserCode, tally t: Tally, poolWorkers: [ProcessInfo],
                      firstUser: [Int32: UInt64], classifier: inout StackClassifier) -> MultiprocessingCosts {
        let duration = Double(profile.recording.durationNs) / 1e9
        var startups: [ProcessStartup] = []
        for w in poolWorkers {
            if let first = firstUser[w.pid] {
                startups.append(ProcessStartup(pid: w.pid, seconds: Double(first &- min(first, w.startNs)) / 1e9, reachedUserCode: true))
            } else {
                let end = w.endNs ?? profile.recording.durationNs
                startups.append(ProcessStartup(pid: w.pid, seconds: Double(end &- min(end, w.startNs)) / 1e9, reachedUserCode: false))
            }
        }
        let startup = startups.reduce(0) { $0 + $1.seconds }
        let lifetimes = poolWorkers.reduce(0.0) { sum, w in
            let end = w.endNs ?? profile.recording.durationNs
            return sum + Double(end &- min(end, w.startNs)) / 1e9
        }
        let cpu = Double(t.onCPU) * period
        let serialization = Double(t.pickle + t.unpickle + t.transfer) * period
        let computeSeconds = Double(t.compute) * period
        var costs = MultiprocessingCosts(
            processes: profile.processes.count, workerProcesses: code.workers.count, poolWorkerProcesses: poolWorkers.count,
            poolWorkerPids: poolWorkers.map(\.pid),
            pickleSeconds: Double(t.pickle) * period, unpickleSeconds: Double(t.unpickle) * period,
            ipcCPUSeconds: Double(t.transfer) * period, pipeReadWaitSeconds: Double(t.readWait) * period,
            pipeWriteWaitSeconds: Double(t.writeWaits) * period, queueLockWaitSeconds: Double(t.queueLock) * period,
            startupSeconds: startup, startupByProcess: startups, cpuSeconds: cpu,
            serializationShare: cpu > 0 ? serialization / cpu : 0,
            startupShare: poolWorkers.isEmpty || duration <= 0 ? 0 : min(1, startup / (Double(poolWorkers.count) * duration)),
            workerComputeSeconds: computeSeconds,
            workerBusyShare: lifetimes > 0 ? min(1, (computeSeconds + Double(t.computeRunnable) * period) / lifetimes) : 0,
            workerLifetimeSeconds: lifetimes,
            overheadRatio: (serialization + startup) / max(computeSeconds, period),
            topStacks: Support.top(t.ipcStacks, 3).map { classifier.labels($0.key) })
        if poolWorkers.isEmpty { costs.overheadRatio = 0 }
        return costs
    }

    /// `ipc.serialization` when moving data took 15% of the CPU time or more; `ipc.overhead`
    /// when start-up and transfer cost as much as the workers' useful work.
    func findings(_ costs: MultiprocessingCosts, poolWorkers: Int, serialization: Double) -> [Finding] {
        var findings: [Finding] = []
        if costs.serializationShare >= 0.15 {
            findings.append(Finding(
                source: descriptor.name, id: "ipc.serialization", severity: costs.serializationShare >= 0.3 ? .critical : .warning,
                factor: .ipc,
                title: "Moving data between processes took \(Text.pct(costs.serializationShare)) of the CPU time",
                detail: "Pickling \(Text.secs(costs.pickleSeconds)), unpickling \(Text.secs(costs.unpickleSeconds)), "
                    + "pipe/queue transfer \(Text.secs(costs.ipcCPUSeconds)) on CPU; blocked writing pipes \(Text.secs(costs.pipeWriteWaitSeconds)).",
                metrics: ["serialization_share": costs.serializationShare, "pickle_seconds": costs.pickleSeconds,
                          "unpickle_seconds": costs.unpickleSeconds, "ipc_cpu_seconds": costs.ipcCPUSeconds],
                stacks: Array(costs.topStacks.prefix(2))))
        }
        if poolWorkers > 0 && (costs.startupShare >= 0.2 || costs.overheadRatio >= 1) {
            findings.append(Finding(
                source: descriptor.name, id: "ipc.overhead", severity: costs.overheadRatio >= 1 ? .warning : .info, factor: .startup,
                title: "Process overhead vs work: \(Text.num(costs.overheadRatio))× the workers' useful CPU time",
                detail: "\(poolWorkers) worker processes computed \(Text.secs(costs.workerComputeSeconds)) in user code, against "
                    + "\(Text.secs(costs.startupSeconds)) of start-up and \(Text.secs(serialization)) of pickling and transfer.",
                metrics: ["overhead_ratio": costs.overheadRatio, "startup_seconds": costs.startupSeconds, "startup_share": costs.startupShare,
                          "worker_compute_seconds": costs.workerComputeSeconds]))
        }
        return findings
    }
}
