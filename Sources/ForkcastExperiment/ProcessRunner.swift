import Foundation
import ForkcastModel
import ForkcastSystem

// Measuring one run: launch it with `Subprocess` in its own process group, wait for it
// (the rusage includes every descendant the child reaped), sample the live tree's RSS
// (`ProcessTree.usage`) every ~20 ms on a monitor thread, and kill the whole group on
// timeout or interrupt. The OS calls are ForkcastSystem's; this file only decides when.

/// What one run measured.
public struct RunMeasurement: Sendable, Equatable {
    public var wallSeconds: Double
    public var userSeconds: Double
    public var systemSeconds: Double
    public var peakRSSBytes: UInt64
    public var peakProcesses: Int
    public var voluntaryContextSwitches: Int
    public var involuntaryContextSwitches: Int
    public var exit: ExitInfo?
    public var outcome: RunOutcome
    /// The run's stdout (when captured) and the tail of its stderr.
    public var stdout: Data
    public var stderrTail: String
    /// Why the run could not start, for `.notStarted`.
    public var startError: String?
    /// CPU time the whole machine was busy during the run (all CPUs; nil when /proc/stat
    /// is unreadable): other programs' share is this less `cpuSeconds`.
    public var machineBusySeconds: Double?

    public var cpuSeconds: Double { userSeconds + systemSeconds }

    public init(wallSeconds: Double = 0, userSeconds: Double = 0, systemSeconds: Double = 0, peakRSSBytes: UInt64 = 0,
                peakProcesses: Int = 0, voluntaryContextSwitches: Int = 0, involuntaryContextSwitches: Int = 0,
                exit: ExitInfo? = nil, outcome: RunOutcome, stdout: Data = Data(), stderrTail: String = "", startError: String? = nil) {
        self.wallSeconds = wallSeconds
        self.userSeconds = userSeconds
        self.systemSeconds = systemSeconds
        self.peakRSSBytes = peakRSSBytes
        self.peakProcesses = peakProcesses
        self.voluntaryContextSwitches = voluntaryContextSwitches
        self.involuntaryContextSwitches = involuntaryContextSwitches
        self.exit = exit
        self.outcome = outcome
        self.stdout = stdout
        self.stderrTail = stderrTail
        self.startError = startError
    }
}

/// Something that says when to stop early (Ctrl-C). Thread-safe.
public final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    public init() {}
    public func stop() { lock.lock(); stopped = true; lock.unlock() }
    public var isStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }
}

/// Launches one command and measures it. The default `RunLauncher` of an experiment.
public struct ProcessRunner: Sendable {
    /// How often the live tree's memory is sampled.
    public var sampleInterval: Double = 0.02
    /// Keep at most this many bytes of stderr for the error line of a failed run.
    public var stderrTailBytes = 4096
    /// Kill what is left of the run's process group when its root exits (stragglers
    /// would disturb the next run). Off for set-up commands that start servers.
    public var killGroupOnExit = true

    public init() {}

    /// Runs `spec` to completion (or timeout, or stop). Never throws for the child's own
    /// failures: a non-zero exit, a signal, a timeout or a failure to start are outcomes.
    /// `outputDirectory` receives the run's stdout/stderr files named by `label`.
    public func run(_ spec: LaunchSpec, timeout: Double?, stop: StopFlag?, outputDirectory: URL, label: String) -> RunMeasurement {
        Subprocess.becomeChildSubreaper()
        let stdoutURL = outputDirectory.appendingPathComponent("\(label).stdout")
        let stderrURL = outputDirectory.appendingPathComponent("\(label).stderr")
        guard let program = spec.command.first else {
            return RunMeasurement(outcome: .notStarted, startError: "empty command")
        }
        let options = Subprocess.Options(workingDirectory: spec.workingDirectory, environment: spec.environment,
                                         standardInput: .null, standardOutput: .file(stdoutURL.path),
                                         standardError: .file(stderrURL.path))
        let machine = MachineStatFile()
        let machineBefore = machine?.read()
        let start = DispatchTime.now().uptimeNanoseconds
        let child: Subprocess
        do {
            child = try Subprocess.spawn(spec.command, options: options)
        } catch {
            if let dir = spec.workingDirectory, error.call.hasPrefix("chdir") {
                return RunMeasurement(outcome: .notStarted, startError: "cannot change to directory \"\(dir)\"")
            }
            return RunMeasurement(outcome: .notStarted, startError: "cannot start \"\(program)\": \(error.message)")
        }

        let monitor = TreeMonitor(child: child, interval: sampleInterval, deadline: timeout.map { start + UInt64($0 * 1e9) }, stop: stop)
        let thread = Thread { monitor.loop() }
        thread.name = "forkcast-run-monitor"
        thread.start()

        let ended = child.wait()
        let end = DispatchTime.now().uptimeNanoseconds
        let machineAfter = machine?.read()
        monitor.finish()

        // Stragglers left in the run's process group are killed so they cannot disturb the
        // next run; orphans (re-parented to us as subreaper) are reaped and their CPU counted.
        var usage = ended?.1 ?? Subprocess.ResourceUsage()
        if killGroupOnExit { usage = usage + Subprocess.killAndReapGroup(child.pid) }

        var m = RunMeasurement(outcome: .ok)
        m.wallSeconds = Double(end - start) / 1e9
        if let b = machineBefore, let a = machineAfter, a.busyNs >= b.busyNs { m.machineBusySeconds = Double(a.busyNs - b.busyNs) / 1e9 }
        m.userSeconds = usage.userSeconds
        m.systemSeconds = usage.systemSeconds
        m.voluntaryContextSwitches = usage.voluntaryContextSwitches
        m.involuntaryContextSwitches = usage.involuntaryContextSwitches
        let (peakRSS, peakProcs, reason) = monitor.result()
        m.peakRSSBytes = max(peakRSS, ended?.1.maxRSSBytes ?? 0)
        m.peakProcesses = max(peakProcs, 1)
        m.exit = ended.map { ProcessRunner.exitInfo($0.0) }
        switch reason {
        case .timeout: m.outcome = .timedOut
        case .stopped: m.outcome = .interrupted
        case nil: m.outcome = (m.exit?.code == 0) ? .ok : .failed
        }
        m.stdout = (try? Data(contentsOf: stdoutURL)) ?? Data()
        if let err = try? Data(contentsOf: stderrURL) {
            m.stderrTail = String(decoding: err.suffix(stderrTailBytes), as: UTF8.self)
        }
        return m
    }

    static func exitInfo(_ termination: Subprocess.Termination) -> ExitInfo {
        switch termination {
        case .exited(let code): ExitInfo(code: code)
        case .signaled(let sig, let core): ExitInfo(signal: sig, signalName: SignalNames.name(sig), coreDumped: core)
        }
    }
}

/// Samples the run's process tree and enforces the timeout and the stop flag.
final class TreeMonitor: @unchecked Sendable {
    enum KillReason { case timeout, stopped }
    private let child: Subprocess
    private let interval: Double
    private let deadline: UInt64?
    private let stop: StopFlag?
    private let lock = NSLock()
    private var done = false
    private var finished = DispatchSemaphore(value: 0)
    private var peakRSS: UInt64 = 0
    private var peakProcs = 0
    private var reason: KillReason?

    init(child: Subprocess, interval: Double, deadline: UInt64?, stop: StopFlag?) {
        self.child = child
        self.interval = interval
        self.deadline = deadline
        self.stop = stop
    }

    func loop() {
        defer { finished.signal() }
        while true {
            lock.lock()
            let isDone = done
            lock.unlock()
            if isDone { return }
            let usage = ProcessTree.usage(of: child.pid)
            lock.lock()
            peakRSS = max(peakRSS, usage.residentBytes)
            peakProcs = max(peakProcs, usage.processes)
            var kill: KillReason?
            if reason == nil {
                if let deadline, DispatchTime.now().uptimeNanoseconds >= deadline { kill = .timeout }
                else if stop?.isStopped == true { kill = .stopped }
                if kill != nil { reason = kill }
            }
            lock.unlock()
            if kill != nil { Subprocess.signalGroup(child.pid, SIGKILL) }
            Thread.sleep(forTimeInterval: interval)
        }
    }

    func finish() {
        lock.lock()
        done = true
        lock.unlock()
        finished.wait()
    }

    func result() -> (UInt64, Int, KillReason?) {
        lock.lock()
        defer { lock.unlock() }
        return (peakRSS, peakProcs, reason)
    }
}
