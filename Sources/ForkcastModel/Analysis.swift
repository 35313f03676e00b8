import Foundation

/// The result of analyzing one profile. Built-in analyzers fill the typed sections;
/// any analyzer (built-in or external) may append findings. Its JSON form is the
/// `forkcast analyze --json` contract documented in docs/analysis-format.md.
public struct Analysis: Codable, Sendable, Equatable {
    /// Version of this JSON contract; bumped only when a documented key changes meaning or goes away.
    public static let currentFormatVersion = 1
    public static let formatName = "forkcast-analysis"

    public var format: String = Analysis.formatName
    public var formatVersion: Int = Analysis.currentFormatVersion
    /// What was recorded (command, duration, rate, cores), copied from the profile.
    public var profile: ProfileSummary?
    /// Whole-run breakdown: state shares over every sample, achieved parallelism, starvation.
    public var overall: OverallBreakdown?
    /// One entry per recorded process.
    public var processes: [ProcessBreakdown] = []
    public var threads: [ThreadBreakdown] = []
    public var locks: [LockContention] = []
    public var io: [IOWaitGroup] = []
    /// How each Python process used the GIL.
    public var gil: [GILUsage] = []
    /// Costs of running work in several processes; nil when the profile has one process
    /// and no pickling or pipe traffic.
    public var multiprocessing: MultiprocessingCosts?
    /// The machine's load next to the program's (who held the CPUs); nil when the profile
    /// has no `recording.machine`.
    public var machine: MachineUsage?
    public var findings: [Finding] = []
    public var recommendation: Recommendation?
    /// The analyzers and rules that ran, in order.
    public var plugins: [String] = []
    /// Analyzers or rules that failed (one line each); the rest of the analysis still stands.
    public var errors: [String] = []

    private enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", profile, overall, processes, threads, locks, io, gil, multiprocessing,
             machine, findings, recommendation, plugins, errors
    }

    public init() {}

    /// The JSON form (`forkcast analyze --json`): the rules of `DocumentCoding`.
    public func encodedJSON() throws -> Data { try DocumentCoding.encoder().encode(self) }

    /// Reads the JSON form back.
    public static func decode(_ data: Data) throws -> Analysis { try DocumentCoding.decoder().decode(Analysis.self, from: data) }
}

/// The facts of the recording an analysis rests on.
public struct ProfileSummary: Codable, Sendable, Equatable {
    public var command: [String]
    /// The launched or attached process.
    public var rootPid: Int32
    public var durationSeconds: Double
    public var rateHz: Double
    public var cores: Int
    public var samples: Int
    public var ticks: Int
    /// Seconds one sample stands for: duration / ticks (1 / rate when either is unknown).
    public var periodSeconds: Double
    public var processes: Int
    public var threads: Int
    /// Samples whose stack is truncated, as a share of all samples.
    public var truncatedShare: Double
    public var notes: [String]

    private enum CodingKeys: String, CodingKey {
        case command, rootPid = "root_pid", durationSeconds = "duration_s", rateHz = "rate_hz", cores, samples, ticks, periodSeconds = "period_s",
             processes, threads, truncatedShare = "truncated_share", notes
    }

    public init(command: [String], rootPid: Int32 = 0, durationSeconds: Double, rateHz: Double, cores: Int, samples: Int, ticks: Int,
                periodSeconds: Double, processes: Int, threads: Int, truncatedShare: Double, notes: [String]) {
        self.command = command
        self.rootPid = rootPid
        self.durationSeconds = durationSeconds
        self.rateHz = rateHz
        self.cores = cores
        self.samples = samples
        self.ticks = ticks
        self.periodSeconds = periodSeconds
        self.processes = processes
        self.threads = threads
        self.truncatedShare = truncatedShare
        self.notes = notes
    }
}

/// The whole run: where all thread-time went, and how parallel it was.
public struct OverallBreakdown: Codable, Sendable, Equatable {
    public var samples: Int
    public var ticks: Int
    /// Shares over the *working* samples: those of threads that are not idle, less their
    /// waits for work (see `idleShare`).
    public var states: StateShares
    /// Samples that were work (the denominator of `states`).
    public var workingSamples: Int = 0
    /// Share of all samples that waited for work (idle threads, event loops with nothing
    /// ready, pool workers between tasks, joins): left out of `states` and of every rule.
    public var idleShare: Double = 0
    /// Samples × period: the thread-time observed.
    public var threadSeconds: Double
    /// On-CPU samples × period.
    public var cpuSeconds: Double
    /// Achieved parallelism: average number of threads on a CPU per tick.
    public var parallelism: Double
    /// The most threads seen on a CPU at one tick.
    public var peakParallelism: Int
    /// Average number of threads runnable but without a CPU per tick.
    public var runnableThreads: Double
    /// Average number of threads alive per tick.
    public var liveThreads: Double
    /// Cores of the recording machine.
    public var cores: Int
    /// parallelism / cores (0–1): how much of the machine the program used.
    public var coreUtilization: Double
    /// CPU starvation: share of ticks with a runnable thread while on-CPU + runnable threads
    /// exceeded the cores.
    public var starvedTickShare: Double

    private enum CodingKeys: String, CodingKey {
        case samples, ticks, states, threadSeconds = "thread_seconds", cpuSeconds = "cpu_seconds", parallelism,
             peakParallelism = "peak_parallelism", runnableThreads = "runnable_threads", liveThreads = "live_threads",
             cores, coreUtilization = "core_utilization", starvedTickShare = "starved_tick_share",
             workingSamples = "working_samples", idleShare = "idle_share"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        samples = try c.decode(Int.self, forKey: .samples)
        ticks = try c.decode(Int.self, forKey: .ticks)
        states = try c.decode(StateShares.self, forKey: .states)
        threadSeconds = try c.decode(Double.self, forKey: .threadSeconds)
        cpuSeconds = try c.decode(Double.self, forKey: .cpuSeconds)
        parallelism = try c.decode(Double.self, forKey: .parallelism)
        peakParallelism = try c.decode(Int.self, forKey: .peakParallelism)
        runnableThreads = try c.decode(Double.self, forKey: .runnableThreads)
        liveThreads = try c.decode(Double.self, forKey: .liveThreads)
        cores = try c.decode(Int.self, forKey: .cores)
        coreUtilization = try c.decode(Double.self, forKey: .coreUtilization)
        starvedTickShare = try c.decode(Double.self, forKey: .starvedTickShare)
        // Analyses written before idle time was told apart: every sample counted as work.
        workingSamples = try c.decodeIfPresent(Int.self, forKey: .workingSamples) ?? samples
        idleShare = try c.decodeIfPresent(Double.self, forKey: .idleShare) ?? 0
    }

    public init(samples: Int, ticks: Int, states: StateShares, threadSeconds: Double, cpuSeconds: Double, parallelism: Double,
                peakParallelism: Int, runnableThreads: Double, liveThreads: Double, cores: Int, coreUtilization: Double,
                starvedTickShare: Double) {
        self.samples = samples
        self.ticks = ticks
        self.states = states
        self.threadSeconds = threadSeconds
        self.cpuSeconds = cpuSeconds
        self.parallelism = parallelism
        self.peakParallelism = peakParallelism
        self.runnableThreads = runnableThreads
        self.liveThreads = liveThreads
        self.cores = cores
        self.coreUtilization = coreUtilization
        self.starvedTickShare = starvedTickShare
    }
}

/// What a process or thread is for, as far as the recording shows it (process tree,
/// command lines, stacks). Rules reason about the workers.
public enum Role: String, Codable, CaseIterable, Sendable {
    /// The only process (or thread) doing the program's work.
    case main
    /// A parent that starts and watches others and does little of the work itself
    /// (a postmaster, nginx's master, a pool's parent waiting on results).
    case supervisor
    /// One of several doing the same work (backends, worker processes, pool workers).
    case worker
    /// A background helper (a flusher, a logger, a timer, a crawler): not the workload.
    case helper
}

/// One process's breakdown.
public struct ProcessBreakdown: Codable, Sendable, Equatable {
    public var pid: Int32
    public var ppid: Int32
    public var command: [String]
    /// "launched", "attached", "fork", …
    public var origin: String
    public var runtime: String?
    /// Threads that were sampled at least once.
    public var threads: Int
    public var samples: Int
    public var states: StateShares
    public var cpuSeconds: Double
    /// Average threads of this process on a CPU per tick it was sampled in.
    public var parallelism: Double
    /// Seconds since the recording started.
    public var startSeconds: Double
    public var endSeconds: Double?
    /// True when every sampled thread of the process was idle: waiting for work for the
    /// whole recording. Its time is left out of the breakdown's working time and the rules.
    public var idle: Bool = false
    /// Why it is idle, in a sentence (nil when working).
    public var idleReason: String?
    public var role: Role?

    private enum CodingKeys: String, CodingKey {
        case pid, ppid, command, origin, runtime, threads, samples, states, cpuSeconds = "cpu_seconds", parallelism,
             startSeconds = "start_s", endSeconds = "end_s", idle, idleReason = "idle_reason", role
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        pid = try c.decode(Int32.self, forKey: .pid)
        ppid = try c.decode(Int32.self, forKey: .ppid)
        command = try c.decode([String].self, forKey: .command)
        origin = try c.decode(String.self, forKey: .origin)
        runtime = try c.decodeIfPresent(String.self, forKey: .runtime)
        threads = try c.decode(Int.self, forKey: .threads)
        samples = try c.decode(Int.self, forKey: .samples)
        states = try c.decode(StateShares.self, forKey: .states)
        cpuSeconds = try c.decode(Double.self, forKey: .cpuSeconds)
        parallelism = try c.decode(Double.self, forKey: .parallelism)
        startSeconds = try c.decode(Double.self, forKey: .startSeconds)
        endSeconds = try c.decodeIfPresent(Double.self, forKey: .endSeconds)
        // Analyses written before idle and roles existed read as working, role unknown.
        idle = try c.decodeIfPresent(Bool.self, forKey: .idle) ?? false
        idleReason = try c.decodeIfPresent(String.self, forKey: .idleReason)
        role = try c.decodeIfPresent(Role.self, forKey: .role)
    }

    public init(pid: Int32, ppid: Int32, command: [String], origin: String, runtime: String?, threads: Int, samples: Int,
                states: StateShares, cpuSeconds: Double, parallelism: Double, startSeconds: Double, endSeconds: Double?) {
        self.pid = pid
        self.ppid = ppid
        self.command = command
        self.origin = origin
        self.runtime = runtime
        self.threads = threads
        self.samples = samples
        self.states = states
        self.cpuSeconds = cpuSeconds
        self.parallelism = parallelism
        self.startSeconds = startSeconds
        self.endSeconds = endSeconds
    }
}

/// What running work in several processes cost: serializing, moving bytes, starting up.
public struct MultiprocessingCosts: Codable, Sendable, Equatable {
    /// Processes in the profile, and those that are children of another recorded process.
    public var processes: Int
    public var workerProcesses: Int
    /// Worker processes seen exchanging work with their parent (pickling, pipe or queue
    /// traffic): a pool. A child such as a server talking over a socket is not one.
    public var poolWorkerProcesses: Int
    /// Their pids.
    public var poolWorkerPids: [Int32]
    /// On-CPU seconds inside pickling (dumps/Pickler/save).
    public var pickleSeconds: Double
    /// On-CPU seconds inside unpickling (loads/Unpickler/load).
    public var unpickleSeconds: Double
    /// On-CPU seconds moving bytes through pipes/queues (send/recv, not pickling).
    public var ipcCPUSeconds: Double
    /// Seconds blocked reading a pipe or queue between processes (includes idle waits for work).
    public var pipeReadWaitSeconds: Double
    /// Seconds blocked writing a pipe or queue (the reader is behind: back-pressure).
    public var pipeWriteWaitSeconds: Double
    /// Seconds blocked on the locks of a queue shared between processes.
    public var queueLockWaitSeconds: Double
    /// Sum over pool worker processes of the time from process start to its first sample in user code.
    public var startupSeconds: Double
    /// Start-up of each pool worker process, in seconds.
    public var startupByProcess: [ProcessStartup]
    /// All on-CPU seconds of all processes (the denominator of the CPU shares below).
    public var cpuSeconds: Double
    /// (pickle + unpickle + ipc CPU) / cpu seconds.
    public var serializationShare: Double
    /// startup seconds / (pool worker processes × run duration).
    public var startupShare: Double
    /// On-CPU seconds of worker processes outside pickling, IPC and start-up: the useful work.
    public var workerComputeSeconds: Double
    /// workerComputeSeconds over the pool workers' summed lifetimes: how busy the pool was.
    public var workerBusyShare: Double
    /// The pool workers' summed lifetimes (start to exit, or to the end of the recording).
    public var workerLifetimeSeconds: Double
    /// Overhead (pickle + unpickle + IPC CPU + start-up) over worker compute; > 1 means the
    /// processes spend more moving work than doing it.
    public var overheadRatio: Double
    /// The costliest serialization or IPC stacks, outermost first.
    public var topStacks: [[String]]

    private enum CodingKeys: String, CodingKey {
        case processes, workerProcesses = "worker_processes", poolWorkerProcesses = "pool_worker_processes", poolWorkerPids = "pool_worker_pids", pickleSeconds = "pickle_seconds",
             unpickleSeconds = "unpickle_seconds", ipcCPUSeconds = "ipc_cpu_seconds",
             pipeReadWaitSeconds = "pipe_read_wait_seconds", pipeWriteWaitSeconds = "pipe_write_wait_seconds",
             queueLockWaitSeconds = "queue_lock_wait_seconds", startupSeconds = "startup_seconds",
             startupByProcess = "startup_by_process", cpuSeconds = "cpu_seconds", serializationShare = "serialization_share",
             startupShare = "startup_share", workerComputeSeconds = "worker_compute_seconds", workerBusyShare = "worker_busy_share",
             workerLifetimeSeconds = "worker_lifetime_seconds",
             overheadRatio = "overhead_ratio", topStacks = "top_stacks"
    }

    public init(processes: Int = 0, workerProcesses: Int = 0, poolWorkerProcesses: Int = 0, poolWorkerPids: [Int32] = [], pickleSeconds: Double = 0, unpickleSeconds: Double = 0,
                ipcCPUSeconds: Double = 0, pipeReadWaitSeconds: Double = 0, pipeWriteWaitSeconds: Double = 0,
                queueLockWaitSeconds: Double = 0, startupSeconds: Double = 0, startupByProcess: [ProcessStartup] = [],
                cpuSeconds: Double = 0, serializationShare: Double = 0, startupShare: Double = 0,
                workerComputeSeconds: Double = 0, workerBusyShare: Double = 0, workerLifetimeSeconds: Double = 0, overheadRatio: Double = 0, topStacks: [[String]] = []) {
        self.processes = processes
        self.workerProcesses = workerProcesses
        self.poolWorkerProcesses = poolWorkerProcesses
        self.poolWorkerPids = poolWorkerPids
        self.pickleSeconds = pickleSeconds
        self.unpickleSeconds = unpickleSeconds
        self.ipcCPUSeconds = ipcCPUSeconds
        self.pipeReadWaitSeconds = pipeReadWaitSeconds
        self.pipeWriteWaitSeconds = pipeWriteWaitSeconds
        self.queueLockWaitSeconds = queueLockWaitSeconds
        self.startupSeconds = startupSeconds
        self.startupByProcess = startupByProcess
        self.cpuSeconds = cpuSeconds
        self.serializationShare = serializationShare
        self.startupShare = startupShare
        self.workerComputeSeconds = workerComputeSeconds
        self.workerBusyShare = workerBusyShare
        self.workerLifetimeSeconds = workerLifetimeSeconds
        self.overheadRatio = overheadRatio
        self.topStacks = topStacks
    }
}

/// One worker process's start-up: from its start to its first sample in user code.
public struct ProcessStartup: Codable, Sendable, Equatable {
    public var pid: Int32
    public var seconds: Double
    /// False when the process never reached user code while recorded (its whole life counts).
    public var reachedUserCode: Bool

    private enum CodingKeys: String, CodingKey {
        case pid, seconds, reachedUserCode = "reached_user_code"
    }

    public init(pid: Int32, seconds: Double, reachedUserCode: Bool) {
        self.pid = pid
        self.seconds = seconds
        self.reachedUserCode = reachedUserCode
    }
}

/// Shares (0–1) of a thread's samples in each state.
public struct StateShares: Codable, Sendable, Equatable {
    public var onCPU = 0.0, runnable = 0.0, gilWait = 0.0, lockWait = 0.0, ioWait = 0.0, sleep = 0.0, childWait = 0.0, other = 0.0
    private enum CodingKeys: String, CodingKey {
        case onCPU = "on_cpu", runnable, gilWait = "gil_wait", lockWait = "lock_wait", ioWait = "io_wait", sleep, childWait = "child_wait", other
    }
    public init() {}
    public subscript(state: ThreadState) -> Double {
        get {
            switch state {
            case .onCPU: onCPU
            case .runnable: runnable
            case .gilWait: gilWait
            case .lockWait: lockWait
            case .ioWait: ioWait
            case .sleep: sleep
            case .childWait: childWait
            case .other: other
            }
        }
        set {
            switch state {
            case .onCPU: onCPU = newValue
            case .runnable: runnable = newValue
            case .gilWait: gilWait = newValue
            case .lockWait: lockWait = newValue
            case .ioWait: ioWait = newValue
            case .sleep: sleep = newValue
            case .childWait: childWait = newValue
            case .other: other = newValue
            }
        }
    }
}

/// A thread's CPU time as the kernel accounted it over the recording, next to what its
/// samples showed. The samples are biased when the sampler's own wake-ups change what it
/// sees (all cores busy: the tracer preempts a program that then looks idle).
public struct MeasuredCPU: Codable, Sendable, Equatable {
    /// Share of the accounted window on a CPU, and waiting on a run queue.
    public var onCPU: Double
    public var runnable: Double
    /// The accounted window, seconds.
    public var windowSeconds: Double
    /// Share of the thread's samples on a CPU or runnable, and on a CPU.
    public var sampledRunning: Double
    public var sampledOnCPU: Double?
    /// How far the two may differ by sampling error alone (binomial 95% interval on the
    /// thread's samples, plus a floor).
    public var tolerance: Double
    /// True when they differ by more (running, or on a CPU): the states were corrected
    /// from the kernel's shares.
    public var biased: Bool

    private enum CodingKeys: String, CodingKey {
        case onCPU = "on_cpu", runnable, windowSeconds = "window_seconds", sampledRunning = "sampled_running",
             sampledOnCPU = "sampled_on_cpu", tolerance, biased
    }

    public init(onCPU: Double, runnable: Double, windowSeconds: Double, sampledRunning: Double, sampledOnCPU: Double? = nil,
                tolerance: Double, biased: Bool) {
        self.onCPU = onCPU
        self.runnable = runnable
        self.windowSeconds = windowSeconds
        self.sampledRunning = sampledRunning
        self.sampledOnCPU = sampledOnCPU
        self.tolerance = tolerance
        self.biased = biased
    }

    /// On a CPU or runnable, as measured.
    public var running: Double { min(1, onCPU + runnable) }

    /// The larger disagreement of the two: running, on a CPU.
    public var gap: Double { max(abs(running - sampledRunning), sampledOnCPU.map { abs(onCPU - $0) } ?? 0) }
}

/// One thread's time breakdown.
public struct ThreadBreakdown: Codable, Sendable, Equatable {
    public var pid: Int32
    public var tid: Int32
    public var name: String
    public var samples: Int
    public var states: StateShares
    /// Samples × period.
    public var seconds: Double
    /// Share of its samples spent waiting for work (an idle pool worker, a thread joining
    /// others or waiting on a future, an event loop with nothing ready): such waits are not
    /// contention and not work.
    public var idleShare: Double
    /// Shares over its working samples only (all zero for an idle thread).
    public var workingStates: StateShares = StateShares()
    /// True when the thread was idle for the recording: waiting for work nearly all the time.
    public var idle: Bool = false
    /// Why it is idle, in a sentence naming the evidence (nil when working).
    public var idleReason: String?
    public var role: Role?
    /// The kernel's accounting for the thread (from the profile's `cpuNs`/`runqueueNs`),
    /// checked against its samples; nil when the profile has none for it.
    public var measured: MeasuredCPU?
    /// The shares as sampled, kept when `states` were corrected for observer bias (the
    /// sampled running share disagreed with the kernel's beyond sampling error).
    public var sampledStates: StateShares?

    private enum CodingKeys: String, CodingKey {
        case pid, tid, name, samples, states, seconds, idleShare = "idle_share", idle, idleReason = "idle_reason", role,
             workingStates = "working_states", measured, sampledStates = "sampled_states"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        pid = try c.decode(Int32.self, forKey: .pid)
        tid = try c.decode(Int32.self, forKey: .tid)
        name = try c.decode(String.self, forKey: .name)
        samples = try c.decode(Int.self, forKey: .samples)
        states = try c.decode(StateShares.self, forKey: .states)
        seconds = try c.decode(Double.self, forKey: .seconds)
        idleShare = try c.decode(Double.self, forKey: .idleShare)
        workingStates = try c.decodeIfPresent(StateShares.self, forKey: .workingStates) ?? states
        idle = try c.decodeIfPresent(Bool.self, forKey: .idle) ?? false
        idleReason = try c.decodeIfPresent(String.self, forKey: .idleReason)
        role = try c.decodeIfPresent(Role.self, forKey: .role)
        measured = try c.decodeIfPresent(MeasuredCPU.self, forKey: .measured)
        sampledStates = try c.decodeIfPresent(StateShares.self, forKey: .sampledStates)
    }

    public init(pid: Int32, tid: Int32, name: String, samples: Int, states: StateShares, seconds: Double = 0, idleShare: Double = 0) {
        self.pid = pid
        self.tid = tid
        self.name = name
        self.samples = samples
        self.states = states
        self.seconds = seconds
        self.idleShare = idleShare
    }
}

/// Waits on one lock.
public struct LockContention: Codable, Sendable, Equatable {
    /// "futex:0x7f…", "gil:PID", "python:file.py:42", …
    public var lock: String
    /// "gil", "pthread-mutex", "python-lock", "futex", or an idle kind: "condition",
    /// "thread-join", "queue-get", "future-wait" (see `idle`).
    public var kind: String
    public var waitSeconds: Double
    public var waiters: Int
    /// The waiters' most common stacks, outermost first.
    public var topStacks: [[String]]
    /// Who held the lock while others waited, where knowable: up to three threads, most often
    /// seen holding first ("tid 102 worker-1, tid 101 worker-0").
    public var holder: String?
    /// Process the lock lives in.
    public var pid: Int32
    public var samples: Int
    /// waitSeconds over the thread-seconds of the process's threads that are not idle.
    public var waitShare: Double
    /// True for waits that are a thread waiting for work or for others to finish
    /// (condition variables, joins, queue gets, futures): not contention.
    public var idle: Bool
    /// Where the waiters call the lock: the innermost user frame above the lock call.
    public var site: String?
    /// How the holder was found: "mutex-owner" (read from the mutex word), "gil-flag", "python-on-cpu", "same-site-on-cpu", "same-site",
    /// "peer-not-waiting" (the one thread that waits on this lock at other times but was
    /// running or sleeping then), or nil.
    public var holderEvidence: String?
    /// Share of contended ticks at which a holder was identified (0–1).
    public var holderShare: Double?
    /// How waits were grouped into this lock: "futex-address" (one address, its waiters),
    /// "caller" (per-waiter futexes grouped by the frames taking the lock), "python-line",
    /// "gil", or "site".
    public var grouping: String?
    /// The holder's most common stack at the ticks it was read from the mutex word, outermost first.
    public var holderStack: [String]?
    /// The waiters' processes, when they are several (a lock in shared memory).
    public var waiterPids: [Int32]?

    private enum CodingKeys: String, CodingKey {
        case lock, kind, waitSeconds = "wait_seconds", waiters, topStacks = "top_stacks", holder, pid, samples,
             waitShare = "wait_share", idle, site, holderEvidence = "holder_evidence", holderShare = "holder_share",
             grouping, holderStack = "holder_stack", waiterPids = "waiter_pids"
    }

    public init(lock: String, kind: String, waitSeconds: Double, waiters: Int, topStacks: [[String]], holder: String? = nil,
                pid: Int32 = 0, samples: Int = 0, waitShare: Double = 0, idle: Bool = false, site: String? = nil,
                holderEvidence: String? = nil, holderShare: Double? = nil, grouping: String? = nil, holderStack: [String]? = nil,
                waiterPids: [Int32]? = nil) {
        self.grouping = grouping
        self.holderStack = holderStack
        self.waiterPids = waiterPids
        self.lock = lock
        self.kind = kind
        self.waitSeconds = waitSeconds
        self.waiters = waiters
        self.topStacks = topStacks
        self.holder = holder
        self.pid = pid
        self.samples = samples
        self.waitShare = waitShare
        self.idle = idle
        self.site = site
        self.holderEvidence = holderEvidence
        self.holderShare = holderShare
    }
}

/// I/O waits of one kind at one call site.
public struct IOWaitGroup: Codable, Sendable, Equatable {
    public var kind: FDKind
    public var callSite: String
    /// Peer addresses, file paths or pipe inodes seen, most waited-on first.
    public var targets: [String]
    public var waitSeconds: Double
    public var threads: Int
    /// The system calls waited in (recvfrom, read, poll, …).
    public var syscalls: [String]
    public var samples: Int
    /// waitSeconds over all thread-seconds of the run.
    public var waitShare: Double
    /// The most common stack, outermost first.
    public var stack: [String]

    private enum CodingKeys: String, CodingKey {
        case kind, callSite = "call_site", targets, waitSeconds = "wait_seconds", threads, syscalls, samples,
             waitShare = "wait_share", stack
    }

    public init(kind: FDKind, callSite: String, targets: [String], waitSeconds: Double, threads: Int,
                syscalls: [String] = [], samples: Int = 0, waitShare: Double = 0, stack: [String] = []) {
        self.kind = kind
        self.callSite = callSite
        self.targets = targets
        self.waitSeconds = waitSeconds
        self.threads = threads
        self.syscalls = syscalls
        self.samples = samples
        self.waitShare = waitShare
        self.stack = stack
    }
}

/// Something an analyzer noticed, with the evidence behind it.
public struct Finding: Codable, Sendable, Equatable {
    public enum Severity: String, Codable, Sendable { case info, warning, critical }
    /// The plugin that produced it.
    public var source: String
    public var id: String
    public var severity: Severity
    public var factor: DecisionFactor
    public var title: String
    public var detail: String
    public var metrics: [String: Double]
    /// Supporting stacks, outermost first.
    public var stacks: [[String]]

    public init(source: String, id: String, severity: Severity, factor: DecisionFactor, title: String, detail: String,
                metrics: [String: Double] = [:], stacks: [[String]] = []) {
        self.source = source
        self.id = id
        self.severity = severity
        self.factor = factor
        self.title = title
        self.detail = detail
        self.metrics = metrics
        self.stacks = stacks
    }
}

/// How one Python process used the GIL: whether its on-CPU time held it (running Python
/// code) or released it (C code such as hashlib or zlib on large buffers), and how long its
/// threads waited for it.
public struct GILUsage: Codable, Sendable, Equatable {
    public var pid: Int32
    /// Threads of the process that ran or waited for the GIL.
    public var pythonThreads: Int
    public var cpuSeconds: Double
    /// Share (0–1) of on-CPU samples that held the GIL.
    public var heldShare: Double
    /// "flag" when the sampler read GIL ownership, "interpreter-frames" when inferred from
    /// the leaf frame being in the interpreter (python/libpython) rather than a C library
    /// (leaves in libc — malloc, memcpy, system calls — are left out of the inference).
    public var heldEvidence: String
    public var waitSeconds: Double
    /// GIL-wait samples over all samples of the process's working threads.
    public var waitShare: Double
    /// Average threads of the process on a CPU per tick.
    public var parallelism: Double
    /// The most common on-CPU stack that released the GIL, outermost first (empty if none).
    public var releasedStack: [String]
    /// The most common on-CPU stack that held the GIL, outermost first.
    public var heldStack: [String]
    /// True for a free-threaded CPython running without the GIL (`ProcessInfo.python`:
    /// free-threaded and the GIL not enabled): its Python threads run bytecode in parallel.
    public var freeThreaded: Bool?

    private enum CodingKeys: String, CodingKey {
        case pid, pythonThreads = "python_threads", cpuSeconds = "cpu_seconds", heldShare = "held_share",
             heldEvidence = "held_evidence", waitSeconds = "wait_seconds", waitShare = "wait_share", parallelism,
             releasedStack = "released_stack", heldStack = "held_stack", freeThreaded = "free_threaded"
    }

    public init(pid: Int32, pythonThreads: Int, cpuSeconds: Double, heldShare: Double, heldEvidence: String,
                waitSeconds: Double, waitShare: Double, parallelism: Double, releasedStack: [String], heldStack: [String],
                freeThreaded: Bool? = nil) {
        self.freeThreaded = freeThreaded
        self.pid = pid
        self.pythonThreads = pythonThreads
        self.cpuSeconds = cpuSeconds
        self.heldShare = heldShare
        self.heldEvidence = heldEvidence
        self.waitSeconds = waitSeconds
        self.waitShare = waitShare
        self.parallelism = parallelism
        self.releasedStack = releasedStack
        self.heldStack = heldStack
    }
}
