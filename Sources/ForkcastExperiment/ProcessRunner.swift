#if canImport(Glibc)
import Glibc
#endif
import Foundation
import ForkcastModel

// The OS-facing part of the experiment: launch one run in its own process group, wait
// for it with wait4 (whose rusage includes every descendant the child reaped), sample
// the live tree's RSS from /proc every ~20 ms on a monitor thread, and kill the whole
// group on timeout or interrupt. Everything else in this module is pure computation.
//
// (Kept here rather than in ForkcastSystem because it needs nothing from ptrace; it is a
// candidate to move there. See README.md.)

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
        Subreaper.enableOnce()
        let stdoutURL = outputDirectory.appendingPathComponent("\(label).stdout")
        let stderrURL = outputDirectory.appendingPathComponent("\(label).stderr")
        guard let program = spec.command.first else {
            return RunMeasurement(outcome: .notStarted, startError: "empty command")
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutURL.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrURL.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if let dir = spec.workingDirectory {
            guard SpawnChdir.add(&actions, dir) else {
                return RunMeasurement(outcome: .notStarted, startError: "cannot change to directory \"\(dir)\"")
            }
        }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var env = ProcessInfo.processInfo.environment
        for (k, v) in spec.environment { env[k] = v }
        let argv = spec.command.map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let start = DispatchTime.now().uptimeNanoseconds
        let rc = posix_spawnp(&pid, program, &actions, &attr, argv, envp)
        if rc != 0 {
            let reason = String(cString: strerror(rc))
            return RunMeasurement(outcome: .notStarted, startError: "cannot start \"\(program)\": \(reason)")
        }

        let monitor = TreeMonitor(root: pid, interval: sampleInterval, deadline: timeout.map { start + UInt64($0 * 1e9) }, stop: stop)
        let thread = Thread { monitor.loop() }
        thread.name = "forkcast-run-monitor"
        thread.start()

        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let end = DispatchTime.now().uptimeNanoseconds
        monitor.finish()

        // Stragglers left in the run's process group are killed so they cannot disturb the
        // next run; orphans (re-parented to us as subreaper) are reaped and their CPU counted.
        var extra = rusage()
        if killGroupOnExit { ProcessRunner.reapGroup(pid, into: &extra) }

        var m = RunMeasurement(outcome: .ok)
        m.wallSeconds = Double(end - start) / 1e9
        m.userSeconds = seconds(usage.ru_utime) + seconds(extra.ru_utime)
        m.systemSeconds = seconds(usage.ru_stime) + seconds(extra.ru_stime)
        m.voluntaryContextSwitches = usage.ru_nvcsw + extra.ru_nvcsw
        m.involuntaryContextSwitches = usage.ru_nivcsw + extra.ru_nivcsw
        let (peakRSS, peakProcs, reason) = monitor.result()
        m.peakRSSBytes = max(peakRSS, UInt64(max(0, usage.ru_maxrss)) * 1024)
        m.peakProcesses = max(peakProcs, 1)
        m.exit = ProcessRunner.decode(status)
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

    static func decode(_ status: Int32) -> ExitInfo {
        let sig = status & 0x7f
        if sig == 0 { return ExitInfo(code: (status >> 8) & 0xff) }
        return ExitInfo(signal: sig, signalName: signalName(sig), coreDumped: (status & 0x80) != 0)
    }

    static func signalName(_ sig: Int32) -> String {
        let names: [Int32: String] = [1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 6: "SIGABRT", 7: "SIGBUS",
                                      8: "SIGFPE", 9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM"]
        return names[sig] ?? "signal \(sig)"
    }

    static func reapGroup(_ pgid: pid_t, into total: inout rusage) {
        _ = kill(-pgid, SIGKILL)
        var waited = 0
        while waited < 100 {
            var st: Int32 = 0
            var ru = rusage()
            let r = wait4(-pgid, &st, WNOHANG, &ru)
            if r > 0 {
                total.ru_utime = add(total.ru_utime, ru.ru_utime)
                total.ru_stime = add(total.ru_stime, ru.ru_stime)
                total.ru_nvcsw += ru.ru_nvcsw
                total.ru_nivcsw += ru.ru_nivcsw
                continue
            }
            if r < 0 && errno == EINTR { continue }
            // Nothing to reap now: done unless some member of the group still lives (it is
            // being killed, or its parent is, and it will be re-parented to us).
            if kill(-pgid, 0) != 0 { return }
            usleep(10_000)
            waited += 1
        }
    }

    private static func add(_ a: timeval, _ b: timeval) -> timeval {
        var r = timeval(tv_sec: a.tv_sec + b.tv_sec, tv_usec: a.tv_usec + b.tv_usec)
        if r.tv_usec >= 1_000_000 { r.tv_sec += 1; r.tv_usec -= 1_000_000 }
        return r
    }
}

private func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }

/// The live process tree under a root, from /proc (for killing what a recording left).
public enum ProcessTree {
    /// The root and every descendant alive now, parents before children.
    public static func members(of root: pid_t) -> [pid_t] {
        var out: [pid_t] = []
        var queue: [pid_t] = [root]
        var seen = Set<pid_t>()
        while !queue.isEmpty {
            let pid = queue.removeFirst()
            guard seen.insert(pid).inserted, FileManager.default.fileExists(atPath: "/proc/\(pid)") else { continue }
            out.append(pid)
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
            for tid in tasks {
                guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/children", encoding: .utf8) else { continue }
                queue.append(contentsOf: text.split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
            }
        }
        return out
    }

    /// SIGKILLs the root and its descendants, then reaps the root if it is our child.
    public static func kill(_ root: pid_t) {
        for pid in members(of: root) { _ = Glibc.kill(pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(root, &status, 0) < 0 && errno == EINTR {}
    }
}

/// Makes this process a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so descendants
/// orphaned during a run are re-parented to us and can be reaped and accounted.
enum Subreaper {
    private static let once: Void = {
        // prctl is variadic and Swift cannot call it directly; calling it through a
        // fixed-arity pointer is ABI-correct for integer arguments on Linux x86_64/arm64.
        typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
        guard let handle = dlopen(nil, RTLD_NOW), let sym = dlsym(handle, "prctl") else { return }
        let prctl = unsafeBitCast(sym, to: Prctl.self)
        _ = prctl(36 /* PR_SET_CHILD_SUBREAPER */, 1, 0, 0, 0)
    }()
    static func enableOnce() { _ = once }
}

/// posix_spawn_file_actions_addchdir_np (glibc ≥ 2.29), which the Glibc module does not
/// export without _GNU_SOURCE: looked up once by name.
enum SpawnChdir {
    typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    private static let function: AddChdir? = {
        guard let handle = dlopen(nil, RTLD_NOW), let sym = dlsym(handle, "posix_spawn_file_actions_addchdir_np") else { return nil }
        return unsafeBitCast(sym, to: AddChdir.self)
    }()
    static func add(_ actions: inout posix_spawn_file_actions_t, _ dir: String) -> Bool {
        guard let function, FileManager.default.fileExists(atPath: dir) else { return false }
        return function(&actions, dir) == 0
    }
}

/// Samples the run's process tree from /proc and enforces the timeout and the stop flag.
final class TreeMonitor: @unchecked Sendable {
    enum KillReason { case timeout, stopped }
    private let root: pid_t
    private let interval: Double
    private let deadline: UInt64?
    private let stop: StopFlag?
    private let lock = NSLock()
    private var done = false
    private var finished = DispatchSemaphore(value: 0)
    private var peakRSS: UInt64 = 0
    private var peakProcs = 0
    private var reason: KillReason?
    private let pageSize = UInt64(sysconf(Int32(_SC_PAGESIZE)))

    init(root: pid_t, interval: Double, deadline: UInt64?, stop: StopFlag?) {
        self.root = root
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
            let (rss, count) = sampleTree()
            lock.lock()
            peakRSS = max(peakRSS, rss)
            peakProcs = max(peakProcs, count)
            var kill: KillReason?
            if reason == nil {
                if let deadline, DispatchTime.now().uptimeNanoseconds >= deadline { kill = .timeout }
                else if stop?.isStopped == true { kill = .stopped }
                if kill != nil { reason = kill }
            }
            lock.unlock()
            if kill != nil { _ = Glibc.kill(-root, SIGKILL) }
            usleep(useconds_t(interval * 1e6))
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

    /// Sum of RSS over the root and every descendant, found through
    /// /proc/PID/task/TID/children.
    private func sampleTree() -> (UInt64, Int) {
        var total: UInt64 = 0
        var count = 0
        var queue: [pid_t] = [root]
        var seen = Set<pid_t>()
        while let pid = queue.popLast() {
            guard seen.insert(pid).inserted else { continue }
            guard let statm = readSmall("/proc/\(pid)/statm") else { continue }
            let fields = statm.split(separator: " ")
            if fields.count > 1, let pages = UInt64(fields[1]) {
                total += pages * pageSize
                count += 1
            }
            guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { continue }
            for tid in tasks {
                if let children = readSmall("/proc/\(pid)/task/\(tid)/children") {
                    for c in children.split(separator: " ") { if let cp = pid_t(c.trimmingCharacters(in: .whitespacesAndNewlines)) { queue.append(cp) } }
                }
            }
        }
        return (total, count)
    }

    private func readSmall(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = read(fd, &buf, buf.count)
        guard n >= 0 else { return nil }
        return String(decoding: buf[0..<n], as: UTF8.self)
    }
}
