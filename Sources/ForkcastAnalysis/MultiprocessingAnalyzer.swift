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
        let pids = Set(profile.processes.map(\.pid))
        let root = profile.recording.rootPid
        // Worker processes: children of a recorded process (not the root, not attached ones).
        let workers = profile.processes.filter { $0.pid != root && pids.contains($0.ppid) }
        let workerPids = Set(workers.map(\.pid))
        let isPython = Dictionary(profile.processes.map { p in
            (p.pid, (p.runtime ?? "").lowercased().contains("python") || p.executable.contains("python"))
        }, uniquingKeysWith: { a, _ in a })

        // Pass 1: first sample in user code per worker.
        // Without any Python frame in the profile (no Python sampler), user code cannot be told
        // from the interpreter's start-up: every process is treated as native.
        let pythonFrames = profile.frames.contains { $0.kind == .python }
        // The program's own __main__ module is its useful work, even a standard-library one
        // (`python3 -m compileall`): its frames count as user code.
        let mainSuffixes = Self.mainModuleSuffixes(profile.recording.command)
        var mainLeafCache: [Int32: Bool] = [:]
        func inMain(_ stack: Int32) -> Bool {
            guard !mainSuffixes.isEmpty, stack >= 0, Int(stack) < profile.stacks.count else { return false }
            if let known = mainLeafCache[stack] { return known }
            // The main module's frame nearest the leaf, before the pool's own frames: a task of
            // `-m compileall` runs in py_compile and importlib, called from compileall.py's
            // compile_file under the pool's worker loop (whose fork keeps compileall's main
            // frames further out, which do not count).
            var hit = false
            for frame in profile.stacks[Int(stack)].frames.lazy.map({ profile.frames[Int($0)] }) where frame.kind == .python {
                let file = frame.file ?? ""
                if mainSuffixes.contains(where: { file.hasSuffix($0) || ($0.hasSuffix("/") && file.contains($0)) }) { hit = true; break }
                if file.contains("/multiprocessing/") || file.contains("/concurrent/futures/") { break }
            }
            mainLeafCache[stack] = hit
            return hit
        }
        var firstUser: [Int32: UInt64] = [:]
        if !workerPids.isEmpty {
            // Ready: the first sample running user code, or taking part in the pool's traffic
            // (waiting for a task, receiving or unpickling one) — tiny tasks may never be caught
            // in user code, but a worker waiting for work has finished starting.
            for s in profile.samples where workerPids.contains(s.pid) && firstUser[s.pid] == nil {
                let f = classifier.flags(s.stack)
                if f.contains(.queueGet) || f.ipc != .none || f.contains(.queueLockKind) {
                    firstUser[s.pid] = s.timeNs
                    continue
                }
                guard s.state == .onCPU else { continue }
                let python = pythonFrames && (f.contains(.hasPython) || (isPython[s.pid] ?? false))
                if !python || f.contains(.userLeaf) || inMain(s.stack) { firstUser[s.pid] = s.timeNs }
            }
        }

        // Pass 2: costs.
        var pickle = 0, unpickle = 0, transfer = 0, readWait = 0, writeWaits = 0, queueLock = 0, onCPU = 0, compute = 0, computeRunnable = 0
        let pipeWait = profile.waits.map { $0.fdKind == .pipe }
        let socketWait = profile.waits.map { $0.fdKind == .socket }
        let writeWait = profile.waits.map { Self.writeCalls.contains($0.syscall) }
        let multi = profile.processes.count > 1
        var pickleSamples = 0
        var ipcStacks: [Int32: Int] = [:]
        // Workers that exchange work with their parent: pickling, pipe/queue traffic.
        var poolEvidence: [Int32: Int] = [:]
        for s in profile.samples {
            switch s.state {
            case .onCPU:
                onCPU += 1
                let f = classifier.flags(s.stack)
                let ipc = f.ipc
                if ipc != .none && !workerPids.isEmpty && workerPids.contains(s.pid) { poolEvidence[s.pid, default: 0] += 1 }
                switch ipc {
                case .pickle: pickle += 1; pickleSamples += 1; ipcStacks[s.stack, default: 0] += 1
                case .unpickle: unpickle += 1; pickleSamples += 1; ipcStacks[s.stack, default: 0] += 1
                case .transfer: transfer += 1; ipcStacks[s.stack, default: 0] += 1
                case .none:
                    // Useful work: user code (when Python frames tell it apart), after start-up.
                    if !workerPids.isEmpty, let first = firstUser[s.pid], s.timeNs >= first,
                       !pythonFrames || f.contains(.userLeaf) || !f.contains(.hasPython) || inMain(s.stack) {
                        compute += 1
                    }
                }
            case .runnable:
                // A task's code waiting for a CPU (a loaded machine) is the worker busy with
                // work, not waiting for the next task: it counts toward the busy share.
                guard !workerPids.isEmpty, workerPids.contains(s.pid), let first = firstUser[s.pid], s.timeNs >= first else { continue }
                let f = classifier.flags(s.stack)
                if f.ipc == .none, !pythonFrames || f.contains(.userLeaf) || !f.contains(.hasPython) || inMain(s.stack) {
                    computeRunnable += 1
                }
            case .ioWait:
                guard s.wait >= 0 else { continue }
                let w = Int(s.wait)
                let f = classifier.flags(s.stack)
                guard pipeWait[w] || (socketWait[w] && f.contains(.transfer)) || f.contains(.queueGet) else { continue }
                // With Python frames recorded, a pool's traffic shows them: a pipe read with
                // none is a shell's (a `$(…)` in a launcher the process ran before its exec).
                if !workerPids.isEmpty && workerPids.contains(s.pid) && (!pythonFrames || f.contains(.hasPython)) {
                    poolEvidence[s.pid, default: 0] += 1
                }
                if writeWait[w] {
                    writeWaits += 1
                    ipcStacks[s.stack, default: 0] += 1
                } else {
                    readWait += 1
                }
            case .lockWait:
                let f = classifier.flags(s.stack)
                if f.contains(.queueGet) || (f.contains(.queueLockKind) && f.contains(.hasPython) && multi) {
                    queueLock += 1
                    if !workerPids.isEmpty && workerPids.contains(s.pid) { poolEvidence[s.pid, default: 0] += 1 }
                }
            default:
                continue
            }
        }
        guard profile.processes.count > 1 || pickleSamples > 0 || transfer > 0 else {
            part.multiprocessing = .some(nil)
            return
        }

        let duration = Double(profile.recording.durationNs) / 1e9
        // A pool worker runs the same program as its parent (a fork, or a spawn of the same
        // interpreter): a shell or a launcher the parent runs (pyenv's shims, `sh -c`) reading
        // a pipe is not one — nor are that shell's own forks (bash under bash), so the
        // workers of a Python program are Python processes.
        let executable = Dictionary(profile.processes.map { ($0.pid, $0.executable) }, uniquingKeysWith: { _, b in b })
        let pythonProgram = isPython[root] ?? false
        let poolWorkers = workers.filter { w in
            (poolEvidence[w.pid] ?? 0) > 0 && (executable[w.ppid].map { $0 == w.executable } ?? true)
                && (!pythonProgram || isPython[w.pid] == true)
        }
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
        let cpu = Double(onCPU) * period
        let serialization = Double(pickle + unpickle + transfer) * period
        let computeSeconds = Double(compute) * period
        var costs = MultiprocessingCosts(
            processes: profile.processes.count, workerProcesses: workers.count, poolWorkerProcesses: poolWorkers.count,
            poolWorkerPids: poolWorkers.map(\.pid),
            pickleSeconds: Double(pickle) * period, unpickleSeconds: Double(unpickle) * period,
            ipcCPUSeconds: Double(transfer) * period, pipeReadWaitSeconds: Double(readWait) * period,
            pipeWriteWaitSeconds: Double(writeWaits) * period, queueLockWaitSeconds: Double(queueLock) * period,
            startupSeconds: startup, startupByProcess: startups, cpuSeconds: cpu,
            serializationShare: cpu > 0 ? serialization / cpu : 0,
            startupShare: poolWorkers.isEmpty || duration <= 0 ? 0 : min(1, startup / (Double(poolWorkers.count) * duration)),
            workerComputeSeconds: computeSeconds,
            workerBusyShare: lifetimes > 0 ? min(1, (computeSeconds + Double(computeRunnable) * period) / lifetimes) : 0,
            workerLifetimeSeconds: lifetimes,
            overheadRatio: (serialization + startup) / max(computeSeconds, period),
            topStacks: Support.top(ipcStacks, 3).map { classifier.labels($0.key) })
        if poolWorkers.isEmpty { costs.overheadRatio = 0 }
        part.multiprocessing = .some(costs)

        if costs.serializationShare >= 0.15 {
            part.findings.append(Finding(
                source: descriptor.name, id: "ipc.serialization", severity: costs.serializationShare >= 0.3 ? .critical : .warning,
                factor: .ipc,
                title: "Moving data between processes took \(Text.pct(costs.serializationShare)) of the CPU time",
                detail: "Pickling \(Text.secs(costs.pickleSeconds)), unpickling \(Text.secs(costs.unpickleSeconds)), "
                    + "pipe/queue transfer \(Text.secs(costs.ipcCPUSeconds)) on CPU; blocked writing pipes \(Text.secs(costs.pipeWriteWaitSeconds)).",
                metrics: ["serialization_share": costs.serializationShare, "pickle_seconds": costs.pickleSeconds,
                          "unpickle_seconds": costs.unpickleSeconds, "ipc_cpu_seconds": costs.ipcCPUSeconds],
                stacks: Array(costs.topStacks.prefix(2))))
        }
        if !poolWorkers.isEmpty && (costs.startupShare >= 0.2 || costs.overheadRatio >= 1) {
            part.findings.append(Finding(
                source: descriptor.name, id: "ipc.overhead", severity: costs.overheadRatio >= 1 ? .warning : .info, factor: .startup,
                title: "Process overhead vs work: \(Text.num(costs.overheadRatio))× the workers' useful CPU time",
                detail: "\(poolWorkers.count) worker processes computed \(Text.secs(computeSeconds)) in user code, against "
                    + "\(Text.secs(startup)) of start-up and \(Text.secs(serialization)) of pickling and transfer.",
                metrics: ["overhead_ratio": costs.overheadRatio, "startup_seconds": startup, "startup_share": costs.startupShare,
                          "worker_compute_seconds": computeSeconds]))
        }
    }
}
