import Foundation
import ForkcastModel
import ForkcastSystem

/// What to record.
public enum RecordTarget: Sendable {
    /// Launch `executable` with `arguments` (argv, including argv[0]) and `environment`
    /// ("KEY=value"). Its stdin is Forkcast's; its stdout/stderr are Forkcast's unless
    /// descriptors are given in `io`.
    case launch(executable: String, arguments: [String], environment: [String], io: LaunchIO = LaunchIO())
    /// Attach to a running process and the processes below it.
    case attach(pid: Int32)
}

/// Where a launched target runs and writes.
public struct LaunchIO: Sendable {
    public var workingDirectory: String?
    /// Descriptors the target's stdout and stderr go to (-1: inherit Forkcast's).
    public var standardOutput: Int32
    public var standardError: Int32

    public init(workingDirectory: String? = nil, standardOutput: Int32 = -1, standardError: Int32 = -1) {
        self.workingDirectory = workingDirectory
        self.standardOutput = standardOutput
        self.standardError = standardError
    }
}

/// How to record.
public struct RecordOptions: Sendable {
    /// Sampling rate per thread, Hz.
    public var rateHz: Double = 100
    /// Stop after this many seconds (nil: until the target exits or a signal).
    public var duration: Double?
    /// Deepest native stack kept; deeper stacks are marked truncated.
    public var maxFrames: Int = 256
    /// Read Python frames of CPython processes.
    public var pythonFrames: Bool = true
    /// Use the kernel's scheduler events (perf context-switch records and wake-up tracepoints, where
    /// permitted) to reuse idle threads' samples without reading `/proc`.
    public var schedulerEvents: Bool = true
    /// Directories searched for separate debug files.
    public var debugDirectories: [String] = ["/usr/lib/debug"]
    /// Called on the tracer thread once the target runs (e.g. to print its pid).
    public var onStart: (@Sendable (Int32) -> Void)?

    public init(rateHz: Double = 100, duration: Double? = nil) {
        self.rateHz = rateHz
        self.duration = duration
    }
}

/// Why a recording could not start or went wrong. `description` is one line.
public enum RecordError: Error, CustomStringConvertible {
    case notPermitted(pid: Int32, detail: String)
    case noSuchProcess(Int32)
    case launchFailed(String)
    case execFailed(String, SystemError)
    case attachSelf

    public var description: String {
        switch self {
        case .notPermitted(let pid, let detail):
            var text = "not permitted to trace process \(pid) (\(detail)): run as the same user with CAP_SYS_PTRACE (e.g. sudo)"
            if let scope = ProcFS.ptraceScope, scope > 0 {
                text += ", or allow it with `sudo sysctl kernel.yama.ptrace_scope=0` (now \(scope))"
            }
            return text
        case .noSuchProcess(let pid): return "no process with pid \(pid)"
        case .launchFailed(let why): return "could not launch the target: \(why)"
        case .execFailed(let path, let error): return "could not execute \(path): \(error.message)"
        case .attachSelf: return "forkcast cannot record itself"
        }
    }
}

/// The result of a recording: the profile (always, even when the target crashed or the
/// recording was interrupted) and how it ended.
public struct RecordingOutcome: Sendable {
    public var profile: Profile
    /// The pid Forkcast launched (nil when attached).
    public var launchedPid: Int32?
    /// The root process's exit, when it ended during the recording.
    public var rootExit: ExitInfo?
    public var endReason: EndReason
    /// The signal that stopped the recording, if any (SIGINT, SIGTERM, …).
    public var stopSignal: Int32?
}

public enum EndReason: String, Sendable {
    case targetExited = "target-exited"
    case duration
    case interrupted
    case terminated
}

/// Records a program: the entry point of the sampling module.
///
/// All ptrace and waitpid calls happen on one dedicated tracer thread (the kernel ties a
/// tracee to the thread that attached). `record` blocks its caller until the recording
/// ends, then symbolizes and returns the profile.
public final class Recorder: @unchecked Sendable {
    public let options: RecordOptions

    public init(options: RecordOptions) {
        self.options = options
    }

    public func record(_ target: RecordTarget) throws -> RecordingOutcome {
        if case .attach(let pid) = target, pid == getpid() { throw RecordError.attachSelf }
        // Block the tracer's signals before creating the tracer thread so it inherits
        // the mask; the CLI does this first thing too. A library caller gets its mask
        // back afterwards: left blocked, SIGCHLD/SIGINT/SIGTERM stay blocked in its thread
        // and in every child it spawns later (a shell's `wait` there never wakes).
        let callerHadThemBlocked = TracerSignals.areBlocked
        // SIGCHLD blocked in the caller: blocked since before the program had threads
        // (`TracerSignals.blockChildSignalInEveryThread`), so no other thread takes it.
        let childSignalsReliable = TracerSignals.childSignalIsBlocked
        TracerSignals.takeOver()
        defer { if !callerHadThemBlocked { TracerSignals.release() } }
        let box = ResultBox()
        let options = self.options
        let thread = Thread {
            let session = TraceSession(options: options)
            session.childSignalsReliable = childSignalsReliable
            do {
                box.result = .success(try session.run(target))
            } catch {
                box.result = .failure(error)
            }
            box.done.signal()
        }
        thread.stackSize = 8 << 20
        thread.name = "forkcast-tracer"
        thread.start()
        box.done.wait()
        switch box.result! {
        case .success(let outcome): return outcome
        case .failure(let error): throw error
        }
    }

    private final class ResultBox: @unchecked Sendable {
        var result: Result<RecordingOutcome, Error>?
        let done = DispatchSemaphore(value: 0)
    }
}
