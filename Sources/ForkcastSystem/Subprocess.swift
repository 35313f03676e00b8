import CForkcastSys
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Starting a process: the one place forkcast spawns a child (experiment runs, set-up
/// commands, external plugins, the recorder's launch). Every child gets the same signal
/// policy — an empty signal mask and default dispositions for every signal, whatever
/// forkcast blocks or ignores itself — and, unless asked otherwise, its own process group
/// so that the whole group can be killed.
///
/// A non-zero exit of the child is a result (`Termination`), not an error; errors are the
/// OS refusing to start it (`SystemError`, e.g. `.ENOENT` for a missing program).
public struct Subprocess: Sendable {
    /// Where one of the child's standard descriptors comes from or goes to.
    public enum Redirect: Sendable, Equatable {
        /// The same descriptor as forkcast's.
        case inherit
        /// `/dev/null`.
        case null
        /// A file opened for writing (created, truncated) — or for reading, as stdin.
        case file(String)
        /// A descriptor forkcast holds (duplicated into the child; forkcast keeps its own).
        case descriptor(Int32)
        /// A new pipe; forkcast's end is in `Subprocess.standardInput/Output/Error`.
        case pipe
    }

    public struct Options: Sendable {
        /// Directory the child starts in (nil: forkcast's).
        public var workingDirectory: String?
        /// Variables set over forkcast's own environment.
        public var environment: [String: String] = [:]
        public var standardInput: Redirect = .inherit
        public var standardOutput: Redirect = .inherit
        public var standardError: Redirect = .inherit
        /// Put the child in a new process group whose id is its pid.
        public var newProcessGroup = true
        /// Look a program name without a `/` up in PATH.
        public var searchPath = true
        /// The program to run when it is not argv[0] (argv[0] is then only its name).
        public var executable: String?

        public init(workingDirectory: String? = nil, environment: [String: String] = [:],
                    standardInput: Redirect = .inherit, standardOutput: Redirect = .inherit,
                    standardError: Redirect = .inherit, newProcessGroup: Bool = true, searchPath: Bool = true) {
            self.workingDirectory = workingDirectory
            self.environment = environment
            self.standardInput = standardInput
            self.standardOutput = standardOutput
            self.standardError = standardError
            self.newProcessGroup = newProcessGroup
            self.searchPath = searchPath
        }
    }

    /// How a child ended.
    public enum Termination: Equatable, Sendable {
        case exited(Int32)
        case signaled(Int32, coreDumped: Bool)

        /// Decodes a wait status.
        public init(status: Int32) {
            let sig = status & 0x7f
            self = sig == 0 ? .exited((status >> 8) & 0xff) : .signaled(sig, coreDumped: (status & 0x80) != 0)
        }

        /// "exited with status 3", "was killed by signal 9 (Killed)".
        public var description: String {
            switch self {
            case .exited(let code): "exited with status \(code)"
            case .signaled(let sig, _): "was killed by signal \(sig) (\(SignalNames.text(sig)))"
            }
        }
    }

    /// CPU time and context switches of a reaped child (and of every descendant it reaped).
    public struct ResourceUsage: Equatable, Sendable {
        public var userSeconds: Double = 0
        public var systemSeconds: Double = 0
        public var maxRSSBytes: UInt64 = 0
        public var voluntaryContextSwitches = 0
        public var involuntaryContextSwitches = 0

        public init() {}

        init(_ ru: rusage) {
            userSeconds = Double(ru.ru_utime.tv_sec) + Double(ru.ru_utime.tv_usec) / 1e6
            systemSeconds = Double(ru.ru_stime.tv_sec) + Double(ru.ru_stime.tv_usec) / 1e6
            maxRSSBytes = UInt64(max(0, ru.ru_maxrss)) * 1024
            voluntaryContextSwitches = ru.ru_nvcsw
            involuntaryContextSwitches = ru.ru_nivcsw
        }

        /// Times and switches add; the peak is the larger one.
        public static func + (a: ResourceUsage, b: ResourceUsage) -> ResourceUsage {
            var r = ResourceUsage()
            r.userSeconds = a.userSeconds + b.userSeconds
            r.systemSeconds = a.systemSeconds + b.systemSeconds
            r.maxRSSBytes = max(a.maxRSSBytes, b.maxRSSBytes)
            r.voluntaryContextSwitches = a.voluntaryContextSwitches + b.voluntaryContextSwitches
            r.involuntaryContextSwitches = a.involuntaryContextSwitches + b.involuntaryContextSwitches
            return r
        }
    }

    public let pid: Int32
    /// forkcast's end of the child's stdin, for `.pipe` (write; close-on-exec).
    public let standardInput: FileDescriptor?
    /// forkcast's end of the child's stdout, for `.pipe` (read; close-on-exec).
    public let standardOutput: FileDescriptor?
    /// forkcast's end of the child's stderr, for `.pipe` (read; close-on-exec).
    public let standardError: FileDescriptor?
    /// The child's process group (its pid), when it got one of its own.
    public let processGroup: Int32?

    /// Starts `arguments` (argv[0] is the program). Throws when the OS refuses: a missing
    /// or non-executable program, a working directory that does not exist
    /// (`call` is then "chdir DIR"), a descriptor or file that cannot be opened.
    public static func spawn(_ arguments: [String], options: Options = Options()) throws(SystemError) -> Subprocess {
        guard let program = options.executable ?? arguments.first, !program.isEmpty else {
            throw SystemError("spawn", Glibc.EINVAL)
        }
        if let dir = options.workingDirectory {
            var st = stat()
            if stat(dir, &st) != 0 { throw SystemError("chdir \(dir)", Glibc.errno) }
            if st.st_mode & S_IFMT != S_IFDIR { throw SystemError("chdir \(dir)", Glibc.ENOTDIR) }
        }
        var actions: [fc_fd_action] = []
        var ours: [Int32?] = [nil, nil, nil]      // forkcast's pipe ends
        var theirs: [Int32] = []                  // the child's pipe ends, closed after spawn
        func closeAll() {
            for fd in theirs { close(fd) }
            for case let fd? in ours { close(fd) }
        }
        let redirects = [options.standardInput, options.standardOutput, options.standardError]
        let paths = redirects.map { r -> UnsafeMutablePointer<CChar>? in
            switch r {
            case .null: strdup("/dev/null")
            case .file(let p): strdup(p)
            default: nil
            }
        }
        defer { paths.forEach { free($0) } }
        for (fd, redirect) in redirects.enumerated() {
            let child = Int32(fd)
            switch redirect {
            case .inherit:
                continue
            case .null, .file:
                let flags = fd == 0 ? O_RDONLY : (O_WRONLY | O_CREAT | O_TRUNC)
                actions.append(fc_fd_action(kind: Int32(FC_FD_OPEN), child_fd: child, source_fd: -1,
                                            path: paths[fd], flags: flags, mode: 0o644))
            case .descriptor(let source):
                actions.append(fc_fd_action(kind: Int32(FC_FD_DUP), child_fd: child, source_fd: source,
                                            path: nil, flags: 0, mode: 0))
            case .pipe:
                var ends: [Int32] = [-1, -1]
                let r = fc_pipe_cloexec(&ends)
                guard r == 0 else {
                    closeAll()
                    throw SystemError("pipe", negated: r)
                }
                // stdin: the child reads ends[0]; stdout/stderr: the child writes ends[1].
                let (childEnd, ourEnd) = fd == 0 ? (ends[0], ends[1]) : (ends[1], ends[0])
                theirs.append(childEnd)
                ours[fd] = ourEnd
                actions.append(fc_fd_action(kind: Int32(FC_FD_DUP), child_fd: child, source_fd: childEnd,
                                            path: nil, flags: 0, mode: 0))
            }
        }
        var env = Foundation.ProcessInfo.processInfo.environment
        for (k, v) in options.environment { env[k] = v }
        var pid: pid_t = 0
        let rc = withCStrings(arguments) { argv in
            withCStrings(env.map { "\($0.key)=\($0.value)" }) { envp in
                actions.withUnsafeBufferPointer { acts in
                    fc_spawn(program, options.searchPath && !program.contains("/") ? 1 : 0, argv, envp,
                             options.workingDirectory, acts.baseAddress, Int32(acts.count),
                             options.newProcessGroup ? 1 : 0, &pid)
                }
            }
        }
        for fd in theirs { close(fd) }
        guard rc == 0 else {
            for case let fd? in ours { close(fd) }
            throw SystemError("spawn \(program)", negated: rc)
        }
        return Subprocess(pid: pid, standardInput: ours[0].map(FileDescriptor.init), standardOutput: ours[1].map(FileDescriptor.init),
                          standardError: ours[2].map(FileDescriptor.init), processGroup: options.newProcessGroup ? pid : nil)
    }

    /// Waits for the child to end (EINTR retried). nil when it is not (or no longer) our
    /// child to wait for.
    public func wait() -> (Termination, ResourceUsage)? {
        var status: Int32 = 0
        var ru = rusage()
        let r = Errno.retryingEINTR { wait4(pid, &status, 0, &ru) }
        return r == pid ? (Termination(status: status), ResourceUsage(ru)) : nil
    }

    /// The child's end if it has ended (and reaps it), without blocking.
    public func poll() -> (Termination, ResourceUsage)? {
        var status: Int32 = 0
        var ru = rusage()
        let r = Errno.retryingEINTR { wait4(pid, &status, WNOHANG, &ru) }
        return r == pid ? (Termination(status: status), ResourceUsage(ru)) : nil
    }

    /// Sends `signal` to the child; false when it is gone.
    @discardableResult
    public func signal(_ signal: Int32) -> Bool { Glibc.kill(pid, signal) == 0 }

    /// Sends `signal` to the child's whole process group (and to the child itself, in
    /// case it left the group).
    public func signalGroup(_ signal: Int32) {
        if let processGroup { _ = Glibc.kill(-processGroup, signal) }
        _ = Glibc.kill(pid, signal)
    }

    // MARK: - Process groups and orphans

    /// Makes forkcast a child subreaper (PR_SET_CHILD_SUBREAPER), once: descendants
    /// orphaned during a run are re-parented to it, so they can be reaped and counted.
    public static func becomeChildSubreaper() { _ = subreaperOnce }
    private static let subreaperOnce: Void = { _ = fc_set_child_subreaper() }()

    /// Sends `signal` to process group `pgid`; false when no member is left.
    @discardableResult
    public static func signalGroup(_ pgid: Int32, _ signal: Int32) -> Bool { Glibc.kill(-pgid, signal) == 0 }

    /// SIGKILLs what is left of process group `pgid` and reaps every member that is (or
    /// becomes, as forkcast is subreaper) forkcast's child, for at most ~1 s. Returns their
    /// summed resource usage.
    public static func killAndReapGroup(_ pgid: Int32) -> ResourceUsage {
        _ = Glibc.kill(-pgid, SIGKILL)
        var total = ResourceUsage()
        var waited = 0
        while waited < 100 {
            var st: Int32 = 0
            var ru = rusage()
            let r = Errno.retryingEINTR { wait4(-pgid, &st, WNOHANG, &ru) }
            if r > 0 {
                total = total + ResourceUsage(ru)
                continue
            }
            // Nothing to reap now: done unless some member of the group still lives (it is
            // being killed, or its parent is, and it will be re-parented to us).
            if Glibc.kill(-pgid, 0) != 0 { return total }
            usleep(10_000)
            waited += 1
        }
        return total
    }

    // MARK: - The recorder's launch

    /// A child forked for tracing: stopped by its own SIGSTOP before `execve`, with a
    /// close-on-exec pipe that reports a failed chdir/exec.
    public final class StoppedChild: @unchecked Sendable {
        public let pid: Int32
        private var execErrorFD: Int32

        init(pid: Int32, execErrorFD: Int32) {
            self.pid = pid
            self.execErrorFD = execErrorFD
        }

        deinit { forgetExecReport() }

        /// Whether the exec report has not been read or dropped yet.
        public var execReportPending: Bool { execErrorFD >= 0 }

        /// The errno of a failed chdir/exec, or nil once exec succeeded (blocks until one
        /// of the two). Reads the report once; later calls return nil.
        public func execError() -> SystemError? {
            guard execErrorFD >= 0 else { return nil }
            let e = fc_read_exec_error(execErrorFD)
            execErrorFD = -1
            return e == 0 ? nil : SystemError("exec", e)
        }

        /// Closes the report unread (the exec was seen to succeed).
        public func forgetExecReport() {
            if execErrorFD >= 0 { _ = Glibc.close(execErrorFD); execErrorFD = -1 }
        }
    }

    /// Forks a child that resets its signals (the same policy as `spawn`), changes to
    /// `workingDirectory`, points stdout/stderr at the given descriptors (when >= 0),
    /// stops itself with SIGSTOP and, once continued, `execve`s `executable` (a path; no
    /// PATH search). The tracer seizes it while it is stopped, so it sees the exec. The
    /// child stays in forkcast's process group (Ctrl-C reaches both).
    public static func spawnStopped(executable: String, arguments: [String], environment: [String],
                                    workingDirectory: String? = nil, standardOutput: Int32 = -1,
                                    standardError: Int32 = -1) throws(SystemError) -> StoppedChild {
        var fd: Int32 = -1
        let pid = withCStrings(arguments) { argv in
            withCStrings(environment) { envp in
                fc_spawn_stopped(executable, argv, envp, workingDirectory, standardOutput, standardError, &fd)
            }
        }
        if pid < 0 { throw SystemError("fork", negated: pid) }
        return StoppedChild(pid: pid, execErrorFD: fd)
    }

    /// Sends `signal` to `pid`; false when it is gone or not ours to signal.
    @discardableResult
    public static func signal(_ pid: Int32, _ signal: Int32) -> Bool { fc_kill(pid, signal) == 0 }

    /// Whether `path` names a file forkcast may execute.
    public static func isExecutable(_ path: String) -> Bool { access(path, X_OK) == 0 }
}

/// A descriptor forkcast owns (a pipe end of a `Subprocess`). Not closed automatically.
public struct FileDescriptor: Hashable, Sendable {
    public let rawValue: Int32
    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    public func close() { _ = Glibc.close(rawValue) }

    /// Creates (or truncates) a file for a child's output, close-on-exec. A run's log
    /// file, not an output of forkcast's (those go through `AtomicFile`).
    public static func create(_ path: String, permissions: mode_t = 0o644) throws(SystemError) -> FileDescriptor {
        let fd = Errno.retryingEINTR { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, permissions) }
        guard fd >= 0 else { throw SystemError("open \(path)", .current) }
        return FileDescriptor(fd)
    }

    /// Makes reads and writes return at once instead of blocking.
    public func setNonBlocking() {
        _ = fcntl(rawValue, F_SETFL, fcntl(rawValue, F_GETFL) | O_NONBLOCK)
    }

    /// Appends what can be read now (up to EAGAIN) to `buffer`. False at end of file or
    /// on an error other than EAGAIN.
    public func readAvailable(into buffer: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let r = Errno.retryingEINTR { chunk.withUnsafeMutableBytes { Glibc.read(rawValue, $0.baseAddress, $0.count) } }
            if r > 0 {
                buffer.append(contentsOf: chunk[..<r])
                if r < chunk.count { return true }
            } else if r == 0 {
                return false
            } else {
                return Glibc.errno == Glibc.EAGAIN
            }
        }
    }

    /// Writes what the descriptor takes now; 0 when it would block. Throws other errors
    /// (`.EPIPE` when the reader is gone).
    public func writeSome(_ bytes: UnsafeRawBufferPointer) throws(SystemError) -> Int {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return 0 }
        let n = Errno.retryingEINTR { Glibc.write(rawValue, base, bytes.count) }
        if n >= 0 { return n }
        if Glibc.errno == Glibc.EAGAIN { return 0 }
        throw SystemError("write", Glibc.errno)
    }
}

/// poll(2) over a few descriptors.
public enum Poll {
    public struct Events: OptionSet, Sendable, Hashable {
        public let rawValue: Int16
        public init(rawValue: Int16) { self.rawValue = rawValue }
        public static let readable = Events(rawValue: Int16(POLLIN))
        public static let writable = Events(rawValue: Int16(POLLOUT))
        public static let error = Events(rawValue: Int16(POLLERR))
        public static let hangUp = Events(rawValue: Int16(POLLHUP))
    }

    /// Waits up to `timeoutMs` for one of `interests`; returns the descriptors that are
    /// ready with what happened (empty on timeout or EINTR). Throws other poll errors.
    public static func wait(_ interests: [(FileDescriptor, Events)], timeoutMs: Int32) throws(SystemError) -> [(FileDescriptor, Events)] {
        var fds = interests.map { pollfd(fd: $0.0.rawValue, events: $0.1.rawValue, revents: 0) }
        let n = Glibc.poll(&fds, nfds_t(fds.count), timeoutMs)
        if n < 0 {
            if Glibc.errno == Glibc.EINTR { return [] }
            throw SystemError("poll", Glibc.errno)
        }
        return fds.filter { $0.revents != 0 }.map { (FileDescriptor($0.fd), Events(rawValue: $0.revents)) }
    }
}

/// A signal forkcast ignores for a while (SIGPIPE while it writes to a plugin's stdin, so
/// a plugin that quit is an EPIPE error and not the end of forkcast).
public final class IgnoredSignal: @unchecked Sendable {
    private let signal: Int32
    private var saved: (@convention(c) (Int32) -> Void)?
    private var active = true

    public init(_ signal: Int32) {
        self.signal = signal
        saved = Glibc.signal(signal, SIG_IGN)
    }

    /// Puts the previous disposition back (once).
    public func restore() {
        guard active else { return }
        active = false
        _ = Glibc.signal(signal, saved)
    }
}

/// The live process tree under a root, from /proc: who is in it, how much memory it holds,
/// and killing all of it.
public enum ProcessTree {
    /// The root and every descendant alive now, parents before children.
    public static func members(of root: Int32) -> [Int32] {
        var out: [Int32] = []
        var queue: [Int32] = [root]
        var head = 0
        var seen = Set<Int32>()
        while head < queue.count {
            let pid = queue[head]
            head += 1
            guard seen.insert(pid).inserted, ProcFS.exists(pid: pid) else { continue }
            out.append(pid)
            queue.append(contentsOf: children(of: pid))
        }
        return out
    }

    /// What the tree holds now: the sum of the members' resident memory and their count.
    public struct Usage: Equatable, Sendable {
        public var residentBytes: UInt64 = 0
        public var processes = 0
    }

    /// Sums RSS (`/proc/PID/statm`) over the root and every live descendant.
    public static func usage(of root: Int32) -> Usage {
        var usage = Usage()
        var queue: [Int32] = [root]
        var seen = Set<Int32>()
        while let pid = queue.popLast() {
            guard seen.insert(pid).inserted, let statm = readSmall("/proc/\(pid)/statm") else { continue }
            let fields = statm.split(separator: " ")
            if fields.count > 1, let pages = UInt64(fields[1]) {
                usage.residentBytes += pages * pageSize
                usage.processes += 1
            }
            queue.append(contentsOf: children(of: pid))
        }
        return usage
    }

    /// SIGKILLs the root and its descendants, then reaps the root if it is our child.
    public static func kill(_ root: Int32) {
        for pid in members(of: root) { _ = Glibc.kill(pid, SIGKILL) }
        var status: Int32 = 0
        _ = Errno.retryingEINTR { waitpid(root, &status, 0) }
    }

    /// Direct children of every thread of `pid` (`/proc/PID/task/TID/children`).
    static func children(of pid: Int32) -> [Int32] {
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { return [] }
        var out: [Int32] = []
        for tid in tasks {
            guard let text = readSmall("/proc/\(pid)/task/\(tid)/children") else { continue }
            out.append(contentsOf: text.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int32($0) })
        }
        return out
    }

    private static let pageSize = UInt64(sysconf(Int32(_SC_PAGESIZE)))

    private static func readSmall(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = Errno.retryingEINTR { Glibc.read(fd, &buf, buf.count) }
        guard n >= 0 else { return nil }
        return String(decoding: buf[0..<n], as: UTF8.self)
    }
}

func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for p in pointers { free(p) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
