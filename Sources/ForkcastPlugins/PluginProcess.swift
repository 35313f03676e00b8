import Foundation
import ForkcastModel
import ForkcastSystem

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

/// Where a plugin's stderr lines go (the user's log). The application chooses: the CLI
/// passes its terminal layer's (`[plugin NAME] line`, sanitized); the library itself never
/// writes to stderr.
public typealias PluginLog = @Sendable (_ plugin: String, _ line: String) -> Void

public enum PluginLogs {
    /// Drops the lines (the default for library users that pass no log).
    public static let discard: PluginLog = { _, _ in }
}

/// One run of an external plugin's executable: its own process group, stdin/stdout
/// pipes carrying newline-delimited JSON, stderr forwarded line by line to the log, and
/// one deadline for the whole exchange. On timeout or any protocol failure the whole
/// process group is killed, so a plugin's children cannot outlive it. The process and
/// its pipes are ForkcastSystem's `Subprocess`; this class is the protocol's pacing.
final class PluginProcess {
    let name: String
    private let child: Subprocess
    var pid: Int32 { child.pid }
    private var stdinFD: FileDescriptor?
    private var stdoutFD: FileDescriptor?
    private var stderrFD: FileDescriptor?
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
    private let ignoredSIGPIPE: IgnoredSignal
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
        var executable: String?
        if first.contains("/") {
            let program = first.hasPrefix("/") ? first : (directory as NSString).appendingPathComponent(first)
            guard Subprocess.isExecutable(program) else {
                throw PluginError(plugin: name, reason: "command \(first) is not an executable file in \(directory)")
            }
            executable = program
        }
        var environment = ["FORKCAST_PLUGIN_NAME": name, "PYTHONUNBUFFERED": "1"]
        // The Python SDK (`import forkcast_plugin`) first on the path; without it only the
        // plugins that import it fail, and they say why on stderr.
        do {
            let inherited = Foundation.ProcessInfo.processInfo.environment["PYTHONPATH"]
            environment["PYTHONPATH"] = PluginSDK.pythonPath(inherited, sdk: try PluginSDK.folder())
        } catch {
            log(name, "forkcast: \(error)")
        }
        var options = Subprocess.Options(workingDirectory: directory, environment: environment,
                                         standardInput: .pipe, standardOutput: .pipe, standardError: .pipe)
        options.executable = executable
        do {
            child = try Subprocess.spawn(argv, options: options)
        } catch {
            throw PluginError(plugin: name, reason: "cannot start \(argv.joined(separator: " ")) in \(directory): \(error.message)")
        }
        ignoredSIGPIPE = IgnoredSignal(SIGPIPE)
        stdinFD = child.standardInput
        stdoutFD = child.standardOutput
        stderrFD = child.standardError
        for fd in [stdinFD, stdoutFD, stderrFD] { fd?.setNonBlocking() }
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
        closeStdin()
        _ = waitForExit(graceNs: 2_000_000_000)
    }

    /// Kills the plugin's whole process group and reaps it.
    func kill() {
        if !reaped {
            child.signalGroup(SIGKILL)
            _ = child.wait()
            reaped = true
        }
        drainStderr()
        for fd in [stdinFD, stdoutFD, stderrFD] { fd?.close() }
        stdinFD = nil; stdoutFD = nil; stderrFD = nil
        ignoredSIGPIPE.restore()
    }

    // MARK: internals

    private func closeStdin() {
        stdinFD?.close()
        stdinFD = nil
    }

    /// One poll round: write what is pending, read what is ready. Throws on the deadline.
    private func pump() throws {
        let now = DispatchTime.now().uptimeNanoseconds
        guard now < deadline else {
            kill()
            throw PluginError(plugin: name, reason: "timed out after \(Formatting.seconds(timeoutSeconds)) (killed its process group)")
        }
        var interests: [(FileDescriptor, Poll.Events)] = []
        if let stdinFD, inputOffset < pendingInput.count { interests.append((stdinFD, .writable)) }
        if let stdoutFD, !stdoutEOF { interests.append((stdoutFD, .readable)) }
        if let stderrFD { interests.append((stderrFD, .readable)) }
        let waitMs = Int32(min(Double(Int32.max), max(1, Double(deadline - now) / 1e6)))
        let ready: [(FileDescriptor, Poll.Events)]
        do { ready = try Poll.wait(interests, timeoutMs: min(waitMs, 1000)) } catch {
            throw PluginError(plugin: name, reason: "poll failed: \(error.message)")
        }
        for (fd, events) in ready {
            if fd == stdinFD {
                if !events.isDisjoint(with: [.error, .hangUp]) {
                    // The plugin closed its stdin: it will not read the rest.
                    closeStdin()
                    inputOffset = pendingInput.count
                    continue
                }
                do {
                    inputOffset += try pendingInput.withUnsafeBytes { buf in
                        try fd.writeSome(UnsafeRawBufferPointer(rebasing: buf[inputOffset..<min(buf.count, inputOffset + (1 << 20))]))
                    }
                } catch {
                    closeStdin()
                    inputOffset = pendingInput.count
                }
            } else if fd == stdoutFD {
                if !fd.readAvailable(into: &stdoutBuffer) { stdoutEOF = true }
            } else if fd == stderrFD {
                readStderr()
            }
        }
    }

    /// Reads what stderr has, forwards whole lines; closes it at end of file.
    private func readStderr() {
        guard let fd = stderrFD else { return }
        if !fd.readAvailable(into: &stderrBuffer) {
            forwardStderr(final: true)
            fd.close()
            stderrFD = nil
        } else {
            forwardStderr(final: false)
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
        guard let fd = stderrFD else { return }
        _ = fd.readAvailable(into: &stderrBuffer)
        forwardStderr(final: true)
    }

    /// Waits up to `graceNs` (and the deadline) for the plugin to exit, forwarding stderr;
    /// kills its group otherwise. Returns how it ended, for messages.
    @discardableResult
    private func waitForExit(graceNs: UInt64) -> String {
        if let d = exitDescription { return d }
        let until = min(deadline, DispatchTime.now().uptimeNanoseconds + graceNs)
        while true {
            if let (termination, _) = child.poll() {
                reaped = true
                exitDescription = termination.description
                child.signalGroup(SIGKILL) // leftovers of its group
                kill()
                return exitDescription!
            }
            if DispatchTime.now().uptimeNanoseconds >= until { break }
            var interests: [(FileDescriptor, Poll.Events)] = []
            if let stderrFD { interests.append((stderrFD, .readable)) }
            if let stdoutFD, !stdoutEOF { interests.append((stdoutFD, .readable)) }
            if interests.isEmpty {
                Thread.sleep(forTimeInterval: 0.01)
                continue
            }
            for (fd, _) in (try? Poll.wait(interests, timeoutMs: 20)) ?? [] {
                if fd == stderrFD {
                    readStderr()
                } else if fd == stdoutFD, !fd.readAvailable(into: &stdoutBuffer) {
                    stdoutEOF = true
                }
            }
        }
        kill()
        exitDescription = "did not exit (killed its process group)"
        return exitDescription!
    }
}
