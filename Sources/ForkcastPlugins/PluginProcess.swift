import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why an external plugin could not be used: always one line, naming the plugin.
public struct PluginError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The plugin's name (or its folder when the manifest is unreadable).
    public var plugin: String
    /// What went wrong, without the plugin's name.
    public var reason: String

    /// False when the caller already names the plugin (the analyzer records errors as
    /// "analyzer NAME: …"): the description is then the reason alone.
    public var named: Bool

    public init(plugin: String, reason: String, named: Bool = true) {
        self.plugin = plugin
        self.reason = reason.replacingOccurrences(of: "\n", with: " ")
        self.named = named
    }

    public var description: String { named ? "plugin \(plugin): \(reason)" : reason }

    /// The same error, for callers that prefix the plugin's name themselves.
    public var unnamed: PluginError { PluginError(plugin: plugin, reason: reason, named: false) }
}

/// Where a plugin's stderr lines go (the user's log). Default: forkcast's stderr, each
/// line prefixed with `[plugin NAME]`.
public typealias PluginLog = @Sendable (_ plugin: String, _ line: String) -> Void

public enum PluginLogs {
    /// Writes `[plugin NAME] line` to forkcast's stderr.
    public static let standardError: PluginLog = { plugin, line in
        FileHandle.standardError.write(Data("[plugin \(plugin)] \(line)\n".utf8))
    }
}

/// One run of an external plugin's executable: its own process group, stdin/stdout
/// pipes carrying newline-delimited JSON, stderr forwarded line by line to the log, and
/// one deadline for the whole exchange. On timeout or any protocol failure the whole
/// process group is killed, so a plugin's children cannot outlive it.
final class PluginProcess {
    let name: String
    let pid: pid_t
    private var stdinFD: Int32
    private var stdoutFD: Int32
    private var stderrFD: Int32
    private var pendingInput = [UInt8]()
    private var inputOffset = 0
    private var stdoutBuffer = [UInt8]()
    private var stderrBuffer = [UInt8]()
    private var stdoutEOF = false
    private let deadline: UInt64
    private let timeoutSeconds: Double
    private let log: PluginLog
    private var exitDescription: String?
    private var reaped = false
    /// SIGPIPE is ignored while a plugin runs: writing to one that quit must be an EPIPE
    /// error, not the end of forkcast. Restored when the plugin is reaped.
    private var savedSIGPIPE: (@convention(c) (Int32) -> Void)?
    private var ignoringSIGPIPE = false
    /// Responses longer than this are garbage, not a protocol message.
    static let maxLineBytes = 512 << 20

    /// Starts `argv` in `directory` (argv[0] is looked up in the folder first, then in PATH).
    init(name: String, argv: [String], directory: String, timeoutSeconds: Double, log: @escaping PluginLog) throws {
        self.name = name
        self.log = log
        self.timeoutSeconds = timeoutSeconds
        self.deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0.001, timeoutSeconds) * 1e9)
        guard let first = argv.first, !first.isEmpty else {
            throw PluginError(plugin: name, reason: "manifest command is empty")
        }
        var program = first
        if first.contains("/") {
            program = first.hasPrefix("/") ? first : (directory as NSString).appendingPathComponent(first)
            guard access(program, X_OK) == 0 else {
                throw PluginError(plugin: name, reason: "command \(first) is not an executable file in \(directory)")
            }
        }

        var inPipe: [Int32] = [0, 0], outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard pipe(&inPipe) == 0, pipe(&outPipe) == 0, pipe(&errPipe) == 0 else {
            throw PluginError(plugin: name, reason: "cannot create pipes: \(String(cString: strerror(errno)))")
        }
        // Not inherited by other children forkcast may start meanwhile (the dup2 copies are).
        for fd in inPipe + outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        _ = spawnFileActionsAddChdir(&actions, directory)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // Its own process group (so a timeout kills its children too), default signals
        // (forkcast ignores SIGPIPE while talking to it) and an empty signal mask.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGTERM)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var env = Foundation.ProcessInfo.processInfo.environment
        env["FORKCAST_PLUGIN_NAME"] = name
        env["PYTHONUNBUFFERED"] = "1"
        // The Python SDK (`import forkcast_plugin`) first on the path; without it only the
        // plugins that import it fail, and they say why on stderr.
        do {
            env["PYTHONPATH"] = PluginSDK.pythonPath(env["PYTHONPATH"], sdk: try PluginSDK.folder())
        } catch {
            log(name, "forkcast: \(error)")
        }
        let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        let cEnv: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in cArgs { free(p) }
            for p in cEnv { free(p) }
        }
        var child: pid_t = 0
        let rc = program.contains("/")
            ? posix_spawn(&child, program, &actions, &attr, cArgs, cEnv)
            : posix_spawnp(&child, program, &actions, &attr, cArgs, cEnv)
        close(inPipe[0]); close(outPipe[1]); close(errPipe[1])
        guard rc == 0 else {
            close(inPipe[1]); close(outPipe[0]); close(errPipe[0])
            throw PluginError(plugin: name, reason: "cannot start \(argv.joined(separator: " ")) in \(directory): \(String(cString: strerror(rc)))")
        }
        pid = child
        savedSIGPIPE = signal(SIGPIPE, SIG_IGN)
        ignoringSIGPIPE = true
        stdinFD = inPipe[1]
        stdoutFD = outPipe[0]
        stderrFD = errPipe[0]
        for fd in [stdinFD, stdoutFD, stderrFD] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    }

    deinit {
        kill()
    }

    /// Queues one message (a JSON object without newlines) for the plugin's stdin.
    func send(_ message: Data) {
        if inputOffset > 0 && inputOffset == pendingInput.count {
            pendingInput.removeAll(keepingCapacity: true)
            inputOffset = 0
        }
        pendingInput.append(contentsOf: message)
        pendingInput.append(0x0a)
    }

    /// Waits for the next line on the plugin's stdout, writing queued input and forwarding
    /// stderr meanwhile. Throws on timeout, or when stdout closes first (naming how the
    /// plugin ended).
    func receiveLine(expecting what: String) throws -> Data {
        while true {
            if let nl = stdoutBuffer.firstIndex(of: 0x0a) {
                let line = Data(stdoutBuffer[..<nl])
                stdoutBuffer.removeSubrange(...nl)
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x0d || $0 == 0x09 }) { continue }
                return line
            }
            if stdoutBuffer.count > Self.maxLineBytes {
                throw PluginError(plugin: name, reason: "wrote more than \(Self.maxLineBytes >> 20) MiB on stdout without a newline (stdout is only for protocol messages)")
            }
            if stdoutEOF {
                let ended = waitForExit(graceNs: 2_000_000_000)
                if !stdoutBuffer.isEmpty {
                    let line = Data(stdoutBuffer)
                    stdoutBuffer.removeAll()
                    return line
                }
                throw PluginError(plugin: name, reason: "\(ended) before sending its \(what)")
            }
            try pump()
        }
    }

    /// Closes stdin and waits briefly for the plugin to exit; kills its group if it does not.
    func finish() {
        if stdinFD >= 0 { close(stdinFD); stdinFD = -1 }
        _ = waitForExit(graceNs: 2_000_000_000)
    }

    /// Kills the plugin's whole process group and reaps it.
    func kill() {
        if !reaped {
            _ = Glibc.kill(-pid, SIGKILL)
            _ = Glibc.kill(pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            reaped = true
        }
        drainStderr()
        for fd in [stdinFD, stdoutFD, stderrFD] where fd >= 0 { close(fd) }
        stdinFD = -1; stdoutFD = -1; stderrFD = -1
        if ignoringSIGPIPE {
            signal(SIGPIPE, savedSIGPIPE)
            ignoringSIGPIPE = false
        }
    }

    // MARK: internals

    /// One poll round: write what is pending, read what is ready. Throws on the deadline.
    private func pump() throws {
        let now = DispatchTime.now().uptimeNanoseconds
        guard now < deadline else {
            kill()
            throw PluginError(plugin: name, reason: "timed out after \(formatSeconds(timeoutSeconds)) s (killed its process group)")
        }
        var fds: [pollfd] = []
        let wantWrite = stdinFD >= 0 && inputOffset < pendingInput.count
        if wantWrite { fds.append(pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)) }
        if stdoutFD >= 0 && !stdoutEOF { fds.append(pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)) }
        if stderrFD >= 0 { fds.append(pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)) }
        let waitMs = Int32(min(Double(Int32.max), max(1, Double(deadline - now) / 1e6)))
        let n = poll(&fds, nfds_t(fds.count), min(waitMs, 1000))
        if n < 0 && errno != EINTR {
            throw PluginError(plugin: name, reason: "poll failed: \(String(cString: strerror(errno)))")
        }
        for p in fds where p.revents != 0 {
            if p.fd == stdinFD {
                if p.revents & Int16(POLLERR | POLLHUP) != 0 {
                    // The plugin closed its stdin: it will not read the rest.
                    close(stdinFD); stdinFD = -1
                    inputOffset = pendingInput.count
                    continue
                }
                let written = pendingInput.withUnsafeBytes { buf in
                    write(stdinFD, buf.baseAddress! + inputOffset, min(buf.count - inputOffset, 1 << 20))
                }
                if written > 0 {
                    inputOffset += written
                } else if written < 0 && errno != EAGAIN && errno != EINTR {
                    close(stdinFD); stdinFD = -1
                    inputOffset = pendingInput.count
                }
            } else if p.fd == stdoutFD {
                if !readInto(&stdoutBuffer, fd: stdoutFD) { stdoutEOF = true }
            } else if p.fd == stderrFD {
                if !readInto(&stderrBuffer, fd: stderrFD) {
                    forwardStderr(final: true)
                    close(stderrFD); stderrFD = -1
                } else {
                    forwardStderr(final: false)
                }
            }
        }
    }

    /// Reads what is available; false at end of file.
    private func readInto(_ buffer: inout [UInt8], fd: Int32) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let r = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if r > 0 {
                buffer.append(contentsOf: chunk[..<r])
                if r < chunk.count { return true }
            } else if r == 0 {
                return false
            } else {
                return errno == EAGAIN || errno == EINTR
            }
        }
    }

    private func forwardStderr(final: Bool) {
        while let nl = stderrBuffer.firstIndex(of: 0x0a) {
            log(name, String(decoding: stderrBuffer[..<nl], as: UTF8.self))
            stderrBuffer.removeSubrange(...nl)
        }
        if stderrBuffer.count > 8192 || (final && !stderrBuffer.isEmpty) {
            log(name, String(decoding: stderrBuffer, as: UTF8.self))
            stderrBuffer.removeAll()
        }
    }

    private func drainStderr() {
        guard stderrFD >= 0 else { return }
        _ = readInto(&stderrBuffer, fd: stderrFD)
        forwardStderr(final: true)
    }

    /// Waits up to `graceNs` (and the deadline) for the plugin to exit, forwarding stderr;
    /// kills its group otherwise. Returns how it ended, for messages.
    @discardableResult
    private func waitForExit(graceNs: UInt64) -> String {
        if let d = exitDescription { return d }
        let until = min(deadline, DispatchTime.now().uptimeNanoseconds + graceNs)
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid {
                reaped = true
                let sig = status & 0x7f
                if sig == 0 {
                    exitDescription = "exited with status \((status >> 8) & 0xff)"
                } else {
                    exitDescription = "was killed by signal \(sig) (\(String(cString: strsignal(sig))))"
                }
                _ = Glibc.kill(-pid, SIGKILL) // leftovers of its group
                kill()
                return exitDescription!
            }
            if DispatchTime.now().uptimeNanoseconds >= until { break }
            if stderrFD >= 0 || (stdoutFD >= 0 && !stdoutEOF) {
                var fds: [pollfd] = []
                if stderrFD >= 0 { fds.append(pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)) }
                if stdoutFD >= 0 && !stdoutEOF { fds.append(pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)) }
                _ = poll(&fds, nfds_t(fds.count), 20)
                for p in fds where p.revents != 0 {
                    if p.fd == stderrFD {
                        if !readInto(&stderrBuffer, fd: stderrFD) { forwardStderr(final: true); close(stderrFD); stderrFD = -1 } else { forwardStderr(final: false) }
                    } else if p.fd == stdoutFD {
                        if !readInto(&stdoutBuffer, fd: stdoutFD) { stdoutEOF = true }
                    }
                }
            } else {
                usleep(10_000)
            }
        }
        kill()
        exitDescription = "did not exit (killed its process group)"
        return exitDescription!
    }
}

/// glibc ≥ 2.29 has it, but Swift's Glibc module does not export it (it needs _GNU_SOURCE).
@_silgen_name("posix_spawn_file_actions_addchdir_np")
private func spawnFileActionsAddChdir(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ path: UnsafePointer<CChar>) -> Int32

func formatSeconds(_ s: Double) -> String {
    s == s.rounded() ? String(Int(s)) : s < 1 ? String(format: "%.2g", s) : String(format: "%.1f", s)
}
