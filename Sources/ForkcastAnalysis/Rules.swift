import ForkcastModel

/// Where the working threads' time went: the threads that are not mostly idle (pool workers
/// waiting for work, a main thread joining), pooled by samples. Rules reason from this.
struct WorkMix {
    var samples = 0
    var onCPU = 0.0, runnable = 0.0, gil = 0.0, lock = 0.0, io = 0.0, sleep = 0.0, child = 0.0, other = 0.0
    var threads = 0
    /// Runnable time left out because other programs held the CPUs (`ExternalLoad`), as a
    /// share of the working time as recorded; 0 without a machine record or when they did not.
    var externalRunnable = 0.0

    /// CPU demand: on CPU, waiting for one, or waiting for the interpreter.
    var demand: Double { onCPU + runnable + gil }
    /// Waiting on the world: I/O and sleeps (the GIL is released in both).
    var offCPU: Double { io + sleep }
    /// The share of waiting in the work itself, leaving out what threading adds (GIL and lock
    /// waits): waits / (waits + running). What a serial run would spend waiting.
    var intrinsicWait: Double {
        let total = offCPU + onCPU + runnable
        return total > 0 ? offCPU / total : 0
    }

    /// The working time of the threads of `pid`, or of the workload: the threads whose process
    /// and own role are not background helpers (a helper child such as a local server, a
    /// flusher thread), idle threads left out, and each thread's waits for work left out.
    init(_ analysis: Analysis, pid: Int32? = nil) {
        let candidates: [ThreadBreakdown]
        if let pid {
            candidates = analysis.threads.filter { $0.pid == pid }
        } else {
            let helpers = Set(analysis.processes.filter { $0.role == .helper }.map(\.pid))
            let workload = analysis.threads.filter { !helpers.contains($0.pid) && $0.role != .helper }
            candidates = workload.contains { !$0.idle } ? workload : analysis.threads
        }
        // Working threads: not idle, and not mostly parked on a lock while barely running (a
        // main thread waiting on results, or a lock's victims — the lock rule's business), nor
        // a supervising main thread that barely runs while its workers work (its sleeps and
        // waits are not the tasks').
        var working = candidates.filter { t in
            let s = t.workingStates
            return !t.idle && t.idleShare < 0.95
                && !(s.lockWait >= 0.6 && s.onCPU + s.runnable < 0.2)
                && !(t.role == .supervisor && s.onCPU + s.runnable + s.gilWait < 0.25)
        }
        if working.isEmpty { working = candidates.filter { !$0.idle } }
        threads = working.count
        for t in working {
            let n = (Double(t.samples) * (1 - t.idleShare)).rounded()
            let s = t.workingStates
            samples += Int(n)
            onCPU += s.onCPU * n
            runnable += s.runnable * n
            gil += s.gilWait * n
            lock += s.lockWait * n
            io += s.ioWait * n
            sleep += s.sleep * n
            child += s.childWait * n
            other += s.other * n
        }
        guard samples > 0 else { return }
        let n = Double(samples)
        onCPU /= n; runnable /= n; gil /= n; lock /= n; io /= n; sleep /= n; child /= n; other /= n
        // Runnable because other programs held the CPUs is not the program's demand: left
        // out, and the rest renormalized — the mix the same work shows on a quiet machine.
        if let m = analysis.machine, m.external {
            let ext = runnable * (1 - min(1, max(0, m.ownRunnableShare)))
            guard ext > 0, ext < 0.999 else { return }
            externalRunnable = ext
            runnable -= ext
            let k = 1 / (1 - ext)
            onCPU *= k; runnable *= k; gil *= k; lock *= k; io *= k; sleep *= k; child *= k; other *= k
        }
    }
}

extension LockContention {
    /// Contention, not a thread waiting for something: a known lock type (mutex, Python
    /// lock), several waiters, or a holder seen while it waited. One thread alone on an
    /// unnamed futex is more likely waiting for an event or a join.
    var isContention: Bool {
        kind == LockWaitKind.pthreadMutex.rawValue || kind == LockWaitKind.pythonLock.rawValue || waiters >= 2 || holder != nil
    }
}

extension MultiprocessingCosts {
    /// Seconds spent moving data between processes: pickling, unpickling, copying through
    /// pipes, and writers blocked on full pipes (back-pressure).
    public var movingSeconds: Double { pickleSeconds + unpickleSeconds + ipcCPUSeconds + pipeWriteWaitSeconds }
    /// Moving over moving + the workers' useful work.
    public var movingShare: Double {
        let total = movingSeconds + workerComputeSeconds
        return total > 0 ? movingSeconds / total : 0
    }
    /// True when moving the data, not the task count, is the cost: the volume costs fill
    /// 15% of the workers' lives and moving rivals the work (≥ 40% of moving + work). Tiny
    /// tasks move few bytes — their cost is the round trips and idle workers, the start-up
    /// rule's case.
    public var dataBound: Bool {
        volumeSeconds >= max(0.1, 0.15 * workerLifetimeSeconds) && movingShare >= 0.4
    }

    /// The costs that grow with the bytes moved: pickling, unpickling, and writers blocked
    /// on full pipes. Per-message costs (connection bookkeeping, waking a worker) do not
    /// count: thousands of tiny messages cost that too.
    public var volumeSeconds: Double { pickleSeconds + unpickleSeconds + pipeWriteWaitSeconds }
}

extension Analysis {
    /// True when most on-CPU time is in Python processes.
    var pythonDominant: Bool {
        let py = gil.reduce(0) { $0 + $1.cpuSeconds }
        let all = overall?.cpuSeconds ?? 0
        if all <= 0 { return !gil.isEmpty }
        return py >= 0.5 * all
    }
    var cores: Int { max(profile?.cores ?? overall?.cores ?? 1, 1) }
    /// The busiest Python process's GIL usage.
    var mainGIL: GILUsage? { gil.max { ($0.cpuSeconds + $0.waitSeconds) < ($1.cpuSeconds + $1.waitSeconds) } }
}

/// Task type: I/O-bound work → threads (waits release the GIL and cost no CPU), with a
/// worker count that would keep the cores busy; CPU-bound native work → threads, one per
/// core. CPU-bound Python work is the GIL rule's call.
public struct TaskTypeRule: RecommenderRulePlugin {
    public init() {}
    public var descriptor: PluginDescriptor {
        PluginDescriptor(name: "task-type", kind: .recommenderRule, version: "1.0",
                         summary: "CPU- vs I/O-bound: I/O-bound work suits threads; CPU-bound native work suits one thread per core.")
    }

    public func advise(_ input: RecommendationInput) throws -> [Advice] {
        let a = input.analysis
        let w = WorkMix(a)
        guard w.samples > 0 else { return [] }
        let cores = a.cores
        let metrics = ["on_cpu": w.onCPU, "runnable": w.runnable, "gil_wait": w.gil, "lock_wait": w.lock,
                       "io_wait": w.io, "sleep": w.sleep, "io_share": w.offCPU, "cpu_demand": w.demand]
        if w.offCPU >= 0.5 {
            let top = a.io.first { $0.kind != .pipe }
            let cpuPerTask = max(w.onCPU + w.runnable, 0.01)
            let workers = min(32, max(2, Int((Double(cores) * (w.offCPU + cpuPerTask) / cpuPerTask).rounded(.up))))
            var text = "I/O-bound: working threads spent \(Text.pct(w.offCPU)) of their time waiting "
                + "(I/O \(Text.pct(w.io)), sleep \(Text.pct(w.sleep))) and \(Text.pct(w.onCPU)) on CPU"
            if let top, w.io >= w.sleep {
                text += "; top wait \(top.kind.rawValue) \(top.syscalls.first ?? "") at \(top.callSite)"
                    + (top.targets.isEmpty ? "" : " (\(top.targets.prefix(2).joined(separator: ", ")))")
            }
            text += ". Waiting threads release the GIL and use no CPU, so threads overlap the waits cheaply; "
                + "about \(workers) keep \(cores) core\(cores == 1 ? "" : "s") busy."
            // Python work that also needs the CPU with the GIL is the GIL rule's call (hybrid).
            let weight = (0.4 + 0.5 * w.offCPU) * (a.pythonDominant && w.demand >= 0.25 ? 1 - w.demand : 1)
            return [Advice(rule: descriptor.name, strategy: .threads, weight: weight, workers: workers,
                           reason: Reason(factor: .taskType, text: text, metrics: metrics, stack: top?.stack))]
        }
        if w.demand >= 0.6 {
            if a.pythonDominant {
                return [Advice(rule: descriptor.name, strategy: nil, weight: 0, reason: Reason(
                    factor: .taskType,
                    text: "CPU-bound: working threads wanted a CPU \(Text.pct(w.demand)) of their time "
                        + "(on CPU \(Text.pct(w.onCPU)), GIL wait \(Text.pct(w.gil)), runnable \(Text.pct(w.runnable))).",
                    metrics: metrics))]
            }
            // Work done by other programs the recorded one starts (make's compilers) cannot
            // become threads of one process: as many of them at a time as cores.
            if let (root, jobs) = Jobs.runner(in: a.processes) {
                let names = Array(Set(jobs.map { Jobs.programName($0.command) })).sorted()
                let parent = a.processes.first { $0.pid == root }.map { Jobs.programName($0.command) } ?? "the recorded program"
                return [Advice(rule: descriptor.name, strategy: .processes, weight: 0.6, workers: cores, reason: Reason(
                    factor: .taskType,
                    text: "CPU-bound native code run as other programs (\(jobs.count) × \(names.prefix(3).joined(separator: ", ")) started by \(parent)): "
                        + "working threads were on CPU or runnable \(Text.pct(w.demand)) of their time; separate programs cannot be threads "
                        + "of one process — one at a time per core (\(cores)).",
                    metrics: metrics.merging(["other_program_jobs": Double(jobs.count)]) { a, _ in a }))]
            }
            return [Advice(rule: descriptor.name, strategy: .threads, weight: 0.6, workers: cores, reason: Reason(
                factor: .taskType,
                text: "CPU-bound native code: working threads were on CPU or runnable \(Text.pct(w.demand)) of their time "
                    + "with no interpreter lock; threads share memory at no copy cost — one per core (\(cores)).",
                metrics: metrics))]
        }
        return []
    }
}

/// GIL impact, for Python: CPU-bound code that holds the GIL cannot run in parallel on
/// threads → processes; CPU time in C code that releases it (hashlib, zlib) → threads;
/// GIL-holding CPU work mixed with I/O waits → hybrid.
public struct GILRule: RecommenderRulePlugin {
    /// Fewer on-CPU samples than this in the process the rule judges: no vote.
    static let minimumOnCPUSamples = 20
    public init() {}
    public var descriptor: PluginDescriptor {
        PluginDescriptor(name: "gil", kind: .recommenderRule, version: "1.0",
                         summary: "GIL held → processes; GIL released in C code → threads; held plus I/O → hybrid.")
    }

    public func advise(_ input: RecommendationInput) throws -> [Advice] {
        let a = input.analysis
        guard a.pythonDominant else { return [] }
        // Under a process pool, the question is the workers' work, not the parent's dispatching
        // (that is the start-up rule's business).
        let pool = Set(a.multiprocessing?.poolWorkerPids ?? [])
        let entries = pool.isEmpty ? a.gil : a.gil.filter { pool.contains($0.pid) }
        guard let g = entries.max(by: { ($0.cpuSeconds + $0.waitSeconds) < ($1.cpuSeconds + $1.waitSeconds) }),
              g.cpuSeconds + g.waitSeconds > 0 else { return [] }
        if !pool.isEmpty, let mp = a.multiprocessing, mp.workerBusyShare < 0.3 { return [] }
        let w = WorkMix(a, pid: g.pid)
        let all = WorkMix(a)
        let cores = a.cores
        let metrics = ["held_share": g.heldShare, "gil_wait_share": g.waitShare, "cpu_demand": w.demand,
                       "io_share": all.offCPU, "intrinsic_wait": all.intrinsicWait, "parallelism": g.parallelism]
        let evidence = g.heldEvidence == "flag" ? "read from the interpreter" : "inferred from the leaf frames"
        // The held share is a share of on-CPU samples: from a handful it says nothing (python3
        // -m compileall -j 2 on a loaded machine: 5 on-CPU samples of its busiest worker, 3 of
        // them in C code → "GIL released: 60%" → threads × 2). Under 20, as the observer-bias
        // check, no vote.
        let onCPUSamples = Int((g.cpuSeconds / max(a.profile?.periodSeconds ?? 0.01, 1e-9)).rounded())
        if g.freeThreaded != true && onCPUSamples < Self.minimumOnCPUSamples {
            return [Advice(rule: descriptor.name, strategy: nil, weight: 0, reason: Reason(
                factor: .gil,
                text: "GIL not judged: \(onCPUSamples) on-CPU samples of pid \(g.pid) (under \(Self.minimumOnCPUSamples)) cannot tell "
                    + "Python holding the GIL from C code releasing it. Record longer, or run `forkcast experiment`.",
                metrics: metrics.merging(["on_cpu_samples": Double(onCPUSamples)]) { a, _ in a }))]
        }
        if g.freeThreaded != true && g.heldShare >= 0.6 && all.intrinsicWait >= 0.25 && all.intrinsicWait <= 0.8 && all.demand >= 0.2 {
            return [Advice(rule: descriptor.name, strategy: .hybrid, weight: 0.7, workers: cores, reason: Reason(
                factor: .gil,
                text: "Mixed work: the tasks wait on I/O or sleep \(Text.pct(all.intrinsicWait)) of their own time and run Python "
                    + "holding the GIL the rest (\(Text.pct(g.heldShare)) of on-CPU samples, \(evidence)); threads waited "
                    + "\(Text.pct(all.gil)) of their time for the GIL. "
                    + "Processes (one per core, \(cores)) for the Python work, threads inside each to overlap the waits.",
                metrics: metrics, stack: g.heldStack.isEmpty ? nil : g.heldStack))]
        }
        guard w.demand >= 0.5 else { return [] }
        if g.freeThreaded == true {
            // No GIL: CPU-bound Python threads run in parallel, with no copy to other processes.
            return [Advice(rule: descriptor.name, strategy: .threads, weight: 0.8, workers: cores, reason: Reason(
                factor: .gil,
                text: "Free-threaded CPython without the GIL: Python threads run bytecode in parallel (parallelism "
                    + "\(Text.num(g.parallelism))), so threads, one per core (\(cores)), scale CPU-bound Python work without "
                    + "copying data to other processes.",
                metrics: metrics))]
        }
        if g.heldShare >= 0.6 {
            var text = "GIL held: \(Text.pct(g.heldShare)) of on-CPU samples ran Python bytecode holding the GIL (\(evidence))"
            if g.waitShare >= 0.05 {
                text += "; threads waited \(Text.pct(g.waitShare)) of their time for it and reached a parallelism of \(Text.num(g.parallelism))"
            }
            text += ". Only one thread runs Python at a time: processes, one per core (\(cores)), run it in parallel."
            return [Advice(rule: descriptor.name, strategy: .processes, weight: 0.5 + 0.4 * g.heldShare, workers: cores,
                           reason: Reason(factor: .gil, text: text, metrics: metrics, stack: g.heldStack.isEmpty ? nil : g.heldStack))]
        }
        if g.heldShare <= 0.4 {
            let leaf = g.releasedStack.last.map { " (e.g. in \($0))" } ?? ""
            return [Advice(rule: descriptor.name, strategy: .threads, weight: 0.5 + 0.4 * (1 - g.heldShare), workers: cores,
                           reason: Reason(
                            factor: .gil,
                            text: "GIL released: \(Text.pct(1 - g.heldShare)) of on-CPU samples ran in C code without the GIL\(leaf) "
                                + "(\(evidence)). Threads run that in parallel without copying data to other processes — one per core (\(cores)).",
                            metrics: metrics, stack: g.releasedStack.isEmpty ? nil : g.releasedStack))]
        }
        return [Advice(rule: descriptor.name, strategy: .processes, weight: 0.35, workers: cores, reason: Reason(
            factor: .gil,
            text: "GIL partly held: \(Text.pct(g.heldShare)) of on-CPU samples held it (\(evidence)); processes avoid the contention, "
                + "threads would overlap only the released part.",
            metrics: metrics, stack: g.heldStack.isEmpty ? nil : g.heldStack))]
    }
}

/// Lock contention: when one lock (not the GIL, not a wait for work) takes a large part of
/// the working threads' time, the strategy is not the problem — "fix this lock first".
/// Above half of their time, more workers only queue on it, so it votes serial.
public struct LockContentionRule: RecommenderRulePlugin {
    public init() {}
    public var descriptor: PluginDescriptor {
        PluginDescriptor(name: "lock-contention", kind: .recommenderRule, version: "1.0",
                         summary: "A hot lock dominating the working threads' time: fix this lock first.")
    }

    public func advise(_ input: RecommendationInput) throws -> [Advice] {
        let a = input.analysis
        guard let hot = a.locks.first(where: { !$0.idle && $0.kind != LockWaitKind.gil.rawValue && $0.isContention }),
              hot.waitShare >= 0.25 else {
            return []
        }
        var text = "Fix this lock first: \(hot.waiters) thread\(hot.waiters == 1 ? "" : "s") spent \(Text.pct(hot.waitShare)) "
            + "of their working time (\(Text.secs(hot.waitSeconds))) waiting on \(hot.kind) \(hot.lock)"
        if let site = hot.site { text += " taken in \(site)" }
        if let h = hot.holder {
            text += "; held by \(h)" + (hot.holderShare.map { " (a holder seen at \(Text.pct($0)) of contended ticks)" } ?? "")
        }
        text += ". The critical section serializes the work whatever the strategy: shorten it, split the lock, or move the slow part (I/O, sleep) out of it."
        let reason = Reason(factor: .locks, text: text,
                            metrics: ["wait_share": hot.waitShare, "wait_seconds": hot.waitSeconds, "waiters": Double(hot.waiters)],
                            stack: hot.topStacks.first)
        let strategy: ConcurrencyStrategy? = hot.waitShare >= 0.5 ? .serial : nil
        return [Advice(rule: descriptor.name, strategy: strategy, weight: strategy == nil ? 0 : hot.waitShare,
                       workers: strategy == nil ? nil : 1, fixFirst: true, reason: reason)]
    }
}

/// Data sharing and IPC cost: when pickling and moving bytes between processes take a large
/// part of the CPU, threads (which share memory) win unless the work itself holds the GIL.
public struct IPCCostRule: RecommenderRulePlugin {
    public init() {}
    public var descriptor: PluginDescriptor {
        PluginDescriptor(name: "ipc-cost", kind: .recommenderRule, version: "1.0",
                         summary: "Pickling and pipe transfer between processes costlier than the work: share memory with threads.")
    }

    public func advise(_ input: RecommendationInput) throws -> [Advice] {
        let a = input.analysis
        guard let mp = a.multiprocessing, mp.poolWorkerProcesses > 0, mp.dataBound else { return [] }
        // Does the workers' own work hold the GIL? Then threads would trade IPC for GIL contention.
        let workerGIL = a.gil.filter { g in a.processes.contains { $0.pid == g.pid && $0.origin != "launched" && $0.origin != "attached" } }
        let cpu = workerGIL.reduce(0) { $0 + $1.cpuSeconds }
        let held = cpu > 0 ? workerGIL.reduce(0) { $0 + $1.heldShare * $1.cpuSeconds } / cpu : 0
        let moved = mp.movingSeconds
        let metrics = ["serialization_share": mp.serializationShare, "moving_share": mp.movingShare,
                       "pipe_write_wait_seconds": mp.pipeWriteWaitSeconds, "pickle_seconds": mp.pickleSeconds,
                       "unpickle_seconds": mp.unpickleSeconds, "ipc_cpu_seconds": mp.ipcCPUSeconds,
                       "worker_compute_seconds": mp.workerComputeSeconds, "worker_gil_held_share": held]
        let base = "Explicit IPC: moving data between processes took \(Text.secs(moved)) — pickling \(Text.secs(mp.pickleSeconds)), "
            + "unpickling \(Text.secs(mp.unpickleSeconds)), pipe copies \(Text.secs(mp.ipcCPUSeconds)), writers blocked on full pipes "
            + "\(Text.secs(mp.pipeWriteWaitSeconds)) — against \(Text.secs(mp.workerComputeSeconds)) of work in the workers "
            + "(\(Text.pct(mp.serializationShare)) of all CPU time in serialization)"
        if held <= 0.5 || moved >= mp.workerComputeSeconds {
            return [Advice(rule: descriptor.name, strategy: .threads, weight: min(0.95, 0.4 + max(mp.serializationShare, mp.movingShare / 2)), workers: a.cores,
                           reason: Reason(factor: .ipc, text: base + ". Threads share the data in memory with no copy"
                                          + (held <= 0.5 ? " and the work releases the GIL." : "; the copy costs more than the GIL would."),
                                          metrics: metrics, stack: mp.topStacks.first))]
        }
        return [Advice(rule: descriptor.name, strategy: nil, weight: 0, reason: Reason(
            factor: .ipc, text: base + ". The work holds the GIL, so keep processes but send less: larger chunks, shared memory.",
            metrics: metrics, stack: mp.topStacks.first))]
    }
}

/// Start-up and overhead vs task size: a pool whose workers sit idle while the parent
/// dispatches tiny tasks, or whose start-up rivals the work, loses to running serially.
public struct StartupRule: RecommenderRulePlugin {
    public init() {}
    public var descriptor: PluginDescriptor {
        PluginDescriptor(name: "startup-overhead", kind: .recommenderRule, version: "1.0",
                         summary: "Tasks too small for the pool, or start-up rivalling the work: run serially or batch.")
    }

    public func advise(_ input: RecommendationInput) throws -> [Advice] {
        let a = input.analysis
        guard let mp = a.multiprocessing, mp.poolWorkerProcesses > 0 else { return [] }
        let metrics = ["worker_busy_share": mp.workerBusyShare, "overhead_ratio": mp.overheadRatio,
                       "startup_seconds": mp.startupSeconds, "startup_share": mp.startupShare,
                       "worker_compute_seconds": mp.workerComputeSeconds]
        // Long tasks (the pool's queue traffic shows them) and idle workers: they idled after
        // their work, not between tasks — a short run, not tasks too small for processes.
        // (The work itself must be long too: `task_seconds` is the time between tasks, and
        // workers that computed next to nothing per task — examples/tiny_tasks.py, 4 tasks
        // seen 0.2 s apart, 0.0 s of work — idled *between* tiny tasks.)
        if mp.workerBusyShare < 0.3 && !mp.dataBound,
           let tasks = a.findings.first(where: { $0.id == "pool.tasks" }), let perTask = tasks.metrics["task_seconds"], perTask >= 0.05,
           (tasks.metrics["tasks_lower_bound"] ?? 0) == 0,
           mp.workerComputeSeconds / max(tasks.metrics["tasks_seen"] ?? 1, 1) >= 0.05 {
            return [Advice(rule: descriptor.name, strategy: nil, weight: 0, reason: Reason(
                factor: .startup,
                text: "Worker processes did useful work only \(Text.pct(mp.workerBusyShare)) of their lifetime, but their tasks were long "
                    + "(about \(Text.secs(perTask)) of work each, \(Int(tasks.metrics["tasks_seen"] ?? 0)) seen): they idled after the work, "
                    + "not between tasks. The recording is too short to judge the pool; `forkcast experiment` measures it.",
                metrics: metrics.merging(["task_seconds": perTask]) { a, _ in a }))]
        }
        if mp.workerBusyShare < 0.3 && !mp.dataBound {
            let text = "Tasks too small for processes: \(mp.poolWorkerProcesses) worker processes did useful work only "
                + "\(Text.pct(mp.workerBusyShare)) of their lifetime (\(Text.secs(mp.workerComputeSeconds))) — the rest went to "
                + "start-up (\(Text.secs(mp.startupSeconds))) and waiting for the next task. Run serially, or batch tasks (chunksize) "
                + "so each is worth the round trip."
            return [Advice(rule: descriptor.name, strategy: .serial, weight: 0.5 + 0.4 * (1 - mp.workerBusyShare / 0.3), workers: 1,
                           reason: Reason(factor: .startup, text: text, metrics: metrics, stack: mp.topStacks.first))]
        }
        // Busy workers, but the pool's own cost (start-up, pickling, transfer) exceeded all the
        // useful work they did: a pool cannot win back more than that work (python3 -m
        // compileall -j 2 on a hundred files: 0.15 s of overhead for 0.12 s of compiling;
        // measured, -j 1 beat -j 2).
        if mp.overheadRatio >= 1 && !mp.dataBound {
            let text = "Process overhead exceeds the work: start-up (\(Text.secs(mp.startupSeconds))) and moving data between processes "
                + "cost \(Text.num(mp.overheadRatio))× the \(Text.secs(mp.workerComputeSeconds)) of useful CPU time the "
                + "\(mp.poolWorkerProcesses) worker processes spent on the tasks; the pool cannot save more than that work. "
                + "Run serially, or give each process more work."
            return [Advice(rule: descriptor.name, strategy: .serial, weight: min(0.8, 0.4 + 0.2 * mp.overheadRatio), workers: 1,
                           reason: Reason(factor: .startup, text: text, metrics: metrics, stack: mp.topStacks.first))]
        }
        if mp.startupShare >= 0.3 {
            return [Advice(rule: descriptor.name, strategy: .threads, weight: 0.4, workers: a.cores, reason: Reason(
                factor: .startup,
                text: "Start-up heavy: worker processes spent \(Text.pct(mp.startupShare)) of their life starting "
                    + "(\(Text.secs(mp.startupSeconds)) in all) before reaching user code; threads start in microseconds.",
                metrics: metrics))]
        }
        return []
    }
}

/// CPU starvation: threads runnable without a CPU mean more workers than cores only queue.
public struct CPUStarvationRule: RecommenderRulePlugin {
    public init() {}
    public var descriptor: PluginDescriptor {
        PluginDescriptor(name: "cpu-starvation", kind: .recommenderRule, version: "1.0",
                         summary: "Runnable threads without a CPU: cap CPU-bound workers at the core count.")
    }

    public func advise(_ input: RecommendationInput) throws -> [Advice] {
        let a = input.analysis
        guard let o = a.overall, ExternalLoad.ownStarvation(a), o.runnableThreads >= 0.25 else { return [] }
        return [Advice(rule: descriptor.name, strategy: nil, weight: 0, workers: a.cores, reason: Reason(
            factor: .cpuStarvation,
            text: "CPU starvation: at \(Text.pct(o.starvedTickShare)) of ticks threads were runnable with every core busy "
                + "(\(Text.num(o.runnableThreads)) runnable on average, parallelism \(Text.num(o.parallelism)) of \(o.cores) cores); "
                + "more CPU-bound workers than cores (\(o.cores)) only queue.",
            metrics: ["starved_tick_share": o.starvedTickShare, "runnable_threads": o.runnableThreads, "parallelism": o.parallelism]))]
    }
}

/// Measured: when an experiment ran the workload under several strategies, the fastest
/// configuration is the strongest evidence there is. Votes for it, heavily when its
/// confidence interval does not overlap the runner-up's.
public struct MeasuredRule: RecommenderRulePlugin {
    public init() {}
    public var descriptor: PluginDescriptor {
        PluginDescriptor(name: "measured", kind: .recommenderRule, version: "1.0",
                         summary: "The fastest measured configuration of an experiment, when there is one.")
    }

    public func advise(_ input: RecommendationInput) throws -> [Advice] {
        guard let summary = input.experiment?.summary.filter({ $0.medianWallSeconds > 0 && $0.medianWallSeconds.isFinite }),
              summary.count >= 2 else { return [] }
        let sorted = summary.sorted { $0.medianWallSeconds < $1.medianWallSeconds }
        let best = sorted[0], second = sorted[1]
        guard let strategy = ConcurrencyStrategy(rawValue: best.strategy) else { return [] }
        let separated = best.ciHighSeconds < second.ciLowSeconds
        let text = "Measured: \(best.strategy) × \(best.workers) ran fastest, median \(Text.secs(best.medianWallSeconds)) "
            + "(\(Text.num(best.speedup))× the baseline) against \(Text.secs(second.medianWallSeconds)) for "
            + "\(second.strategy) × \(second.workers)" + (separated ? "; the intervals do not overlap." : "; the intervals overlap.")
        return [Advice(rule: descriptor.name, strategy: strategy, weight: separated ? 1.2 : 0.5,
                       workers: strategy == .serial ? 1 : best.workers,
                       reason: Reason(factor: .measured, text: text,
                                      metrics: ["median_wall_s": best.medianWallSeconds, "runner_up_wall_s": second.medianWallSeconds,
                                                "speedup": best.speedup]))]
    }
}
