import Foundation

/// A recorded profile: who ran (processes, threads), what they were doing at each tick
/// (samples), and where (interned stacks of interned frames).
///
/// Stack order, written down once: `Stack.frames[0]` is the **leaf** (innermost, the
/// function executing), the last element is the outermost caller (`_start`, `clone3`).
/// All indices are 0-based positions in the profile's tables.
///
/// Format version 2 keys samples by thread row and frames by mapping row (pprof's way):
/// `Sample.thread` indexes `threads` (so a thread id the kernel reused is two rows, never
/// one), `Frame.mapping` indexes `mappings`. `Sample.pid`/`tid` and `Frame.module` stay
/// filled in memory for convenience; the reader derives them from the rows.
/// `normalized()` is the form the writer writes and the reader returns.
///
/// The file format is documented in `docs/profile-format.md`.
public struct Profile: Sendable, Equatable {
    /// The format version this build writes.
    public static let currentFormatVersion = 2
    /// The format versions this build reads (version 1 keyed samples by (pid, tid) and
    /// repeated each frame's module path).
    public static let readableFormatVersions: ClosedRange<Int> = 1...2
    public static let formatName = "forkcast-profile"

    public var formatVersion: Int = Profile.currentFormatVersion
    public var recording: RecordingInfo
    public var stats: RecordingStats
    public var processes: [ProcessInfo]
    public var threads: [ThreadInfo]
    public var frames: [Frame]
    /// The mapped files frames came from (file, build-id, load bias), referenced by `Frame.mapping`.
    public var mappings: [MappingInfo]
    public var stacks: [Stack]
    public var waits: [WaitInfo]
    public var samples: [Sample]

    public init(
        recording: RecordingInfo, stats: RecordingStats = RecordingStats(),
        processes: [ProcessInfo] = [], threads: [ThreadInfo] = [],
        frames: [Frame] = [], mappings: [MappingInfo] = [], stacks: [Stack] = [], waits: [WaitInfo] = [],
        samples: [Sample] = []
    ) {
        self.recording = recording
        self.stats = stats
        self.processes = processes
        self.threads = threads
        self.frames = frames
        self.mappings = mappings
        self.stacks = stacks
        self.waits = waits
        self.samples = samples
    }
}

/// How, when and what was recorded.
public struct RecordingInfo: Codable, Sendable, Equatable {
    public enum Mode: String, Codable, Sendable { case launch, attach }
    public var tool: String = "forkcast"
    public var toolVersion: String
    public var mode: Mode
    /// The command line that was launched, or the attached process's command line.
    public var command: [String]
    /// The root process (launched child or attached PID).
    public var rootPid: Int32
    /// Wall-clock start, ISO 8601 with milliseconds (UTC).
    public var startedAt: String
    /// Recording length in nanoseconds (monotonic clock).
    public var durationNs: UInt64
    /// The sampling rate asked for, in Hz.
    public var rateHz: Double
    public var hostname: String
    /// Online CPUs on the recording machine.
    public var cores: Int
    public var kernel: String
    /// Why the recording ended: "target-exited", "duration", "interrupted", "terminated", "error".
    public var endReason: String
    /// The root process's exit, when it ended during the recording.
    public var rootExit: ExitInfo?
    /// One-line notes for the reader (e.g. "Python frames unavailable for CPython 3.9").
    public var notes: [String]
    /// What the whole machine's CPUs did meanwhile (`/proc/stat`); nil in older profiles.
    public var machine: MachineLoad?

    public init(
        toolVersion: String, mode: Mode, command: [String], rootPid: Int32, startedAt: String,
        durationNs: UInt64 = 0, rateHz: Double, hostname: String = "", cores: Int = 1, kernel: String = "",
        endReason: String = "", rootExit: ExitInfo? = nil, notes: [String] = [], machine: MachineLoad? = nil
    ) {
        self.toolVersion = toolVersion
        self.mode = mode
        self.command = command
        self.rootPid = rootPid
        self.startedAt = startedAt
        self.durationNs = durationNs
        self.rateHz = rateHz
        self.hostname = hostname
        self.cores = cores
        self.kernel = kernel
        self.endReason = endReason
        self.rootExit = rootExit
        self.notes = notes
        self.machine = machine
    }
}

/// How well the recording went: the fidelity figures the summary and benchmarks print.
public struct RecordingStats: Codable, Sendable, Equatable {
    /// Sampling ticks that ran.
    public var ticks: Int = 0
    /// Ticks that started later than one period after they were due.
    public var lateTicks: Int = 0
    /// Samples asked for: the sum over ticks of the threads alive at that tick.
    public var samplesExpected: Int = 0
    /// Samples recorded.
    public var samplesTaken: Int = 0
    /// Samples whose stack unwound to the outermost frame.
    public var stacksComplete: Int = 0
    /// Samples whose stack unwinding failed before the root (the stack is kept, marked truncated).
    public var unwindErrors: Int = 0
    /// Samples of blocked threads whose stack changed while it was read (kept as the leaf only).
    public var inconsistentStacks: Int = 0
    /// Samples of ticks that passed while a runnable thread was still on its way to the
    /// previous tick's stop: recorded as runnable with the stack it stopped with (a
    /// runnable thread runs no user code until it stops).
    public var missedStops: Int = 0
    /// Cost of taking one sample of one thread, in nanoseconds of tracer time.
    public var sampleCostMedianNs: UInt64 = 0
    public var sampleCostP99Ns: UInt64 = 0
    /// Failed reads of Python interpreter state (the sample keeps its native stack).
    public var pythonReadErrors: Int = 0
    /// CPU time the tracer used, in nanoseconds.
    public var tracerCPUNs: UInt64 = 0
    /// Samples of blocked threads that had not run since their previous sample, recorded
    /// again from it without reading their stack (exact: see docs/recording.md). Absent
    /// (0) in profiles written before it existed.
    public var reusedSamples: Int = 0
    /// Of `reusedSamples`, those reused without reading anything about the thread: the
    /// kernel's scheduler events showed it had been neither woken nor put on a CPU.
    /// Absent (0) in profiles written before it existed or without scheduler events.
    public var reusedOnEvents: Int = 0

    public init() {}
}

extension RecordingStats {
    /// Every field is required except `reusedSamples` and `reusedOnEvents`, which
    /// profiles written before them do not have.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        ticks = try c.decode(Int.self, forKey: .ticks)
        lateTicks = try c.decode(Int.self, forKey: .lateTicks)
        samplesExpected = try c.decode(Int.self, forKey: .samplesExpected)
        samplesTaken = try c.decode(Int.self, forKey: .samplesTaken)
        stacksComplete = try c.decode(Int.self, forKey: .stacksComplete)
        unwindErrors = try c.decode(Int.self, forKey: .unwindErrors)
        inconsistentStacks = try c.decode(Int.self, forKey: .inconsistentStacks)
        missedStops = try c.decode(Int.self, forKey: .missedStops)
        sampleCostMedianNs = try c.decode(UInt64.self, forKey: .sampleCostMedianNs)
        sampleCostP99Ns = try c.decode(UInt64.self, forKey: .sampleCostP99Ns)
        pythonReadErrors = try c.decode(Int.self, forKey: .pythonReadErrors)
        tracerCPUNs = try c.decode(UInt64.self, forKey: .tracerCPUNs)
        reusedSamples = try c.decodeIfPresent(Int.self, forKey: .reusedSamples) ?? 0
        reusedOnEvents = try c.decodeIfPresent(Int.self, forKey: .reusedOnEvents) ?? 0
    }
}

/// How a process or the recording's root ended.
public struct ExitInfo: Codable, Sendable, Equatable {
    /// Exit code when it exited normally.
    public var code: Int32?
    /// Signal number when it was killed by a signal.
    public var signal: Int32?
    public var signalName: String?
    public var coreDumped: Bool?

    public init(code: Int32? = nil, signal: Int32? = nil, signalName: String? = nil, coreDumped: Bool? = nil) {
        self.code = code
        self.signal = signal
        self.signalName = signalName
        self.coreDumped = coreDumped
    }

    /// A shell-style status: the code, or 128 + signal.
    public var shellStatus: Int32 {
        if let code { return code }
        if let signal { return 128 + signal }
        return 0
    }

    public var description: String {
        if let code { return "exited with status \(code)" }
        if let signal {
            let name = signalName ?? "signal \(signal)"
            return "killed by \(name)" + ((coreDumped ?? false) ? " (core dumped)" : "")
        }
        return "ended"
    }
}

/// One process of the recorded tree.
public struct ProcessInfo: Codable, Sendable, Equatable {
    public var pid: Int32
    /// The parent process id (0 when unknown).
    public var ppid: Int32
    /// argv, as read from /proc/PID/cmdline (latest exec).
    public var command: [String]
    /// Resolved path of the executable (latest exec).
    public var executable: String
    /// Nanoseconds since the recording started; 0 for processes alive at the start.
    public var startNs: UInt64
    /// Nanoseconds since the recording started when it ended, nil when alive at the end.
    public var endNs: UInt64?
    public var exit: ExitInfo?
    /// Interpreter detected in the process, e.g. "CPython 3.11.7".
    public var runtime: String?
    /// How it came to be: "launched", "attached", "fork", "vfork", "clone".
    public var origin: String
    /// What the recorder read of the CPython runtime (free-threaded build, GIL enabled,
    /// interpreters); nil when the process is not CPython or its state was not readable.
    public var python: PythonRuntimeInfo?
    /// The process's root directory (`/proc/PID/root`) as the recorder saw it, when it is
    /// not "/": a chroot or a container's mount namespace. `command`, `executable` and the
    /// frames' `module` paths are inside that root.
    public var root: String?

    public init(pid: Int32, ppid: Int32, command: [String], executable: String, startNs: UInt64,
                endNs: UInt64? = nil, exit: ExitInfo? = nil, runtime: String? = nil, origin: String,
                python: PythonRuntimeInfo? = nil, root: String? = nil) {
        self.pid = pid
        self.ppid = ppid
        self.command = command
        self.executable = executable
        self.startNs = startNs
        self.endNs = endNs
        self.exit = exit
        self.runtime = runtime
        self.origin = origin
        self.root = root
        self.python = python
    }
}

/// The CPython runtime of a recorded process, as read from its memory.
public struct PythonRuntimeInfo: Codable, Sendable, Equatable {
    /// "3.13.5", or "3.13" when only the file name told.
    public var version: String
    /// A free-threaded build (`--disable-gil`, `python3.13t`): the debug offsets'
    /// `free_threaded` flag, else what the binary shows of its build.
    public var freeThreaded: Bool
    /// Whether the GIL was enabled while recording: always true on a default build; on a
    /// free-threaded build true when `PYTHON_GIL=1` or an extension that is not
    /// free-threading safe re-enabled it. nil when it could not be read.
    public var gilEnabled: Bool?
    /// The interpreters seen (the main one first, then subinterpreters), nil when the
    /// reader does not walk them.
    public var interpreters: [PythonInterpreterInfo]?

    public init(version: String, freeThreaded: Bool, gilEnabled: Bool?, interpreters: [PythonInterpreterInfo]? = nil) {
        self.version = version
        self.freeThreaded = freeThreaded
        self.gilEnabled = gilEnabled
        self.interpreters = interpreters
    }
}

/// One interpreter of a CPython process (the main interpreter has id 0).
public struct PythonInterpreterInfo: Codable, Sendable, Equatable {
    /// `PyInterpreterState.id`: 0 for the main interpreter.
    public var id: Int64
    /// True when the interpreter has a GIL of its own (a subinterpreter created with
    /// `gil="own"`, as `InterpreterPoolExecutor`'s are); false when it shares the main
    /// interpreter's; nil when unknown.
    public var ownGIL: Bool?

    public init(id: Int64, ownGIL: Bool? = nil) {
        self.id = id
        self.ownGIL = ownGIL
    }
}

/// One thread of a recorded process.
public struct ThreadInfo: Codable, Sendable, Equatable {
    public var pid: Int32
    public var tid: Int32
    /// The kernel's thread name (comm), or the Python `threading` name where known.
    public var name: String
    public var startNs: UInt64
    public var endNs: UInt64?
    /// The id of the CPython interpreter whose thread state the thread had (0 = main,
    /// see `PythonRuntimeInfo.interpreters`); nil for threads not running Python.
    public var interpreter: Int64?
    /// The kernel's accounting over the recording window (`/proc/TID/schedstat` at the
    /// thread's first and last read by the sampler): time on a CPU, time runnable on a
    /// run queue, and the wall time between the two reads. Free of the sampler's own
    /// timing, so the analysis checks the sampled states against it (observer bias).
    /// Nil in files written before format 2's accounting, or when the kernel keeps no
    /// scheduler statistics or the thread was read only once.
    public var cpuNs: UInt64?
    public var runqueueNs: UInt64?
    public var accountedNs: UInt64?

    public init(pid: Int32, tid: Int32, name: String, startNs: UInt64, endNs: UInt64? = nil, interpreter: Int64? = nil,
                cpuNs: UInt64? = nil, runqueueNs: UInt64? = nil, accountedNs: UInt64? = nil) {
        self.pid = pid
        self.tid = tid
        self.name = name
        self.startNs = startNs
        self.endNs = endNs
        self.interpreter = interpreter
        self.cpuNs = cpuNs
        self.runqueueNs = runqueueNs
        self.accountedNs = accountedNs
    }

    /// The kernel-measured shares of the accounted window: (on CPU, on a run queue), or
    /// nil when the thread has no accounting.
    public var measuredShares: (onCPU: Double, runnable: Double)? {
        guard let cpu = cpuNs, let rq = runqueueNs, let window = accountedNs, window > 0 else { return nil }
        let w = Double(window)
        return (min(1, Double(cpu) / w), min(1, Double(rq) / w))
    }
}

/// A frame of a stack, interned once per profile.
public struct Frame: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable { case native, python }
    public var kind: Kind
    /// Function name (demangled). For an unknown native address: `module+0xOFFSET`.
    public var name: String
    /// The ELF object (native) the address falls in: the file of `mapping` when that is set.
    public var module: String?
    /// Index into `Profile.mappings`: the mapping the address falls in (native frames).
    public var mapping: Int32?
    /// File offset-relative virtual address within `module` (native frames).
    public var offset: UInt64?
    /// Source file: the `.py` file for Python frames.
    public var file: String?
    /// Line number (Python frames).
    public var line: Int?
    /// False when the name is only `module+offset`.
    public var symbolized: Bool

    public init(kind: Kind, name: String, module: String? = nil, offset: UInt64? = nil,
                file: String? = nil, line: Int? = nil, symbolized: Bool = true, mapping: Int32? = nil) {
        self.kind = kind
        self.name = name
        self.module = module
        self.mapping = mapping
        self.offset = offset
        self.file = file
        self.line = line
        self.symbolized = symbolized
    }

    /// How the frame reads in one line: `name (file:line)` for Python, `name` for native.
    public var label: String {
        if kind == .python, let file {
            return "\(name) (\(file)\(line.map { ":\($0)" } ?? ""))"
        }
        return name
    }
}

/// A file mapped into a recorded process that frames came from, interned: pprof's
/// `Mapping`. The same library loaded at two addresses (two processes without a common
/// parent) is two rows.
public struct MappingInfo: Codable, Sendable, Hashable {
    /// The file's path as the process saw it (`/proc/PID/maps`).
    public var file: String
    /// The GNU build-id of the file (hex), when it has one and it could be read.
    public var buildId: String?
    /// What was added to the file's virtual addresses to load it (`Frame.offset` is the
    /// address minus this), when known.
    public var loadBias: UInt64?

    public init(file: String, buildId: String? = nil, loadBias: UInt64? = nil) {
        self.file = file
        self.buildId = buildId
        self.loadBias = loadBias
    }
}

/// A call stack: frame indices, **leaf first**.
public struct Stack: Codable, Sendable, Hashable {
    public var frames: [Int32]
    /// True when unwinding stopped before the outermost frame (error, depth limit, or
    /// no stack could be read); the frames present are still real.
    public var truncated: Bool

    public init(frames: [Int32], truncated: Bool = false) {
        self.frames = frames
        self.truncated = truncated
    }
}

/// What a blocked thread was waiting on, interned.
public struct WaitInfo: Codable, Sendable, Hashable {
    /// System call name (`futex`, `recvfrom`, `clock_nanosleep`, …) or `restart_syscall`.
    public var syscall: String
    /// File descriptor for I/O waits.
    public var fd: Int32?
    public var fdKind: FDKind?
    /// Peer address (`127.0.0.1:8080`), file path, or pipe/socket inode where readable.
    public var target: String?
    /// The futex address for lock waits.
    public var futex: UInt64?
    /// For a wait on a pthread mutex: the TID that owned it (glibc's `__owner`, read from the
    /// mutex word at the futex address when the waiter was sampled, and checked to be a live
    /// thread of the same process). Nil when not a mutex, unreadable, or not a live thread.
    public var owner: Int32?

    public init(syscall: String, fd: Int32? = nil, fdKind: FDKind? = nil, target: String? = nil, futex: UInt64? = nil,
                owner: Int32? = nil) {
        self.syscall = syscall
        self.fd = fd
        self.fdKind = fdKind
        self.target = target
        self.futex = futex
        self.owner = owner
    }
}

/// One observation of one thread at one tick.
public struct Sample: Sendable, Equatable {
    /// Nanoseconds since the recording started (the tick's time; every thread sampled in
    /// one tick carries the same time).
    public var timeNs: UInt64
    /// Index into `Profile.threads`: the thread row, which tells a reused thread id's
    /// threads apart. -1 until resolved: `Profile.normalized()` finds the row from
    /// (`pid`, `tid`, `timeNs`); decoded profiles always have it.
    public var thread: Int32
    /// The thread's process and thread id (the thread row's, in a decoded profile).
    public var pid: Int32
    public var tid: Int32
    /// Index into `Profile.stacks`.
    public var stack: Int32
    /// Index into `Profile.waits`, or -1. (Declared before `state` so a sample packs
    /// into 32 bytes: a million samples are 30.5 MiB in memory.)
    public var wait: Int32
    public var state: ThreadState
    /// GIL ownership: nil when not a Python thread or unknown.
    public var holdsGIL: Bool?

    public init(timeNs: UInt64, pid: Int32, tid: Int32, stack: Int32, state: ThreadState, wait: Int32 = -1,
                holdsGIL: Bool? = nil, thread: Int32 = -1) {
        self.timeNs = timeNs
        self.thread = thread
        self.pid = pid
        self.tid = tid
        self.stack = stack
        self.state = state
        self.wait = wait
        self.holdsGIL = holdsGIL
    }
}
