import Foundation
import XCTest

// Running processes in tests, once for every test target: the `forkcast` binary as the
// user runs it (`CLI`), other programs (`Fixtures.run`, `Tools`), and a process's /proc
// state for tests that watch a target (`Proc`, `waitUntil`), and programs kept running
// while a test watches them (`BackgroundProgram`).

extension Fixtures.RunResult {
    /// Asserts the run failed the way every bad input must: a non-zero exit (not a
    /// crash), one line on stderr containing `text`, nothing on stdout.
    public func assertOneLineError(containing text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(status, 0, "exit status", file: file, line: line)
        XCTAssertTrue(status < 128, "crashed with a signal (status \(status)): \(stderr)", file: file, line: line)
        let lines = stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "stderr should be one line: \(stderr)", file: file, line: line)
        XCTAssertTrue(stderr.lowercased().contains(text.lowercased()), "stderr \(stderr.debugDescription) lacks \(text.debugDescription)", file: file, line: line)
        XCTAssertTrue(stdout.isEmpty, "stdout should be empty: \(stdout)", file: file, line: line)
    }
}

/// Runs the `forkcast` binary built next to the test bundle.
public enum CLI {
    public typealias Result = Fixtures.RunResult

    /// The binary's path; the test is skipped when it is not built.
    public static func binary() throws -> String {
        do { return try Fixtures.forkcastBinary() } catch { throw XCTSkip("\(error)") }
    }

    /// Runs `forkcast ARGS…` with this environment (minus NO_COLOR) plus `environment`.
    public static func run(_ args: [String], environment: [String: String] = [:], currentDirectory: String? = nil) throws -> Result {
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = nil
        env.merge(environment) { $1 }
        return try Fixtures.run(binary(), args, environment: env, currentDirectory: currentDirectory)
    }
}

/// Runs external consumers (python3, go, chromium) for the export and browser tests.
public enum Tools {
    public typealias Result = Fixtures.RunResult

    /// The full path of an executable on PATH, or nil.
    public static func which(_ name: String) -> String? { Fixtures.which(name) }

    /// Runs a program to completion with this environment plus `environment`.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> Result {
        var env = ProcessInfo.processInfo.environment
        if let environment { env.merge(environment) { $1 } }
        return try Fixtures.run(executable, arguments, environment: env)
    }

    public static func tempDir() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("forkcast-report-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes data to a fresh temporary file with the given name.
    public static func write(_ data: Data, name: String) throws -> URL {
        let url = try tempDir().appendingPathComponent(name)
        try data.write(to: url)
        return url
    }

    /// Runs a Python script given as text with arguments; fails the test on a non-zero exit.
    public static func python(_ script: String, _ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        guard let python = which("python3") else { throw XCTSkip("python3 is not installed") }
        let url = try write(Data(script.utf8), name: "check.py")
        let r = try run(python, [url.path] + arguments)
        XCTAssertEqual(r.status, 0, "python check failed: \(r.stderr)\(r.stdout)", file: file, line: line)
        return r.stdout
    }
}

/// /proc state of a process's threads.
public enum Proc {
    /// State letter and TracerPid of every thread of `pid` (empty when it is gone).
    public static func threads(of pid: Int32) -> [(tid: Int32, state: Character, tracer: Int32)] {
        guard let tids = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { return [] }
        return tids.compactMap { name -> (Int32, Character, Int32)? in
            guard let tid = Int32(name),
                  let status = try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/status", encoding: .utf8) else { return nil }
            var state: Character = "?"
            var tracer: Int32 = -1
            for line in status.split(separator: "\n") {
                if line.hasPrefix("State:") { state = line.dropFirst(6).trimmingCharacters(in: .whitespaces).first ?? "?" }
                if line.hasPrefix("TracerPid:") { tracer = Int32(line.dropFirst(10).trimmingCharacters(in: .whitespaces)) ?? -1 }
            }
            return (tid, state, tracer)
        }
    }

    /// User + system CPU ticks of a process (fields 14 and 15 of /proc/PID/stat).
    public static func cpuTicks(_ pid: Int32) -> UInt64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let u = UInt64(fields[11]), let s = UInt64(fields[12]) else { return nil }
        return u + s
    }

    /// Children of `pid`, forked by any of its threads (from /proc/PID/task/*/children:
    /// forkcast forks the target from its tracer thread, not its main thread).
    public static func children(of pid: Int32) -> [Int32] {
        let tids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tids.flatMap { tid in
            (try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/children", encoding: .utf8))?
                .split(separator: " ").compactMap { Int32($0) } ?? []
        }
    }
}

/// Polls `condition` every 10 ms until it holds or `seconds` pass; returns whether it held.
/// The condition is what the test asserts on; the deadline only bounds a failure.
@discardableResult
public func waitUntil(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// A program a test starts and keeps running while it watches or records it (`forkcast
/// record --pid`, a tracer, a hog). Started with posix_spawn and reaped with waitpid —
/// not Foundation's Process, which learns that its child exited from a descriptor the
/// child inherits: forked workers (a pool, a server, a killed forkcast's target) keep it
/// open, so `waitUntilExit` waited for them too. As Foundation does, the child starts
/// with no signal blocked and every signal at its default. stdin is /dev/null (or a pipe
/// the test closes with `closeInput`); stdout and stderr go where `stdout`/`stderr` say. `stop()` (also on deinit) kills the program (its whole
/// process group when started with `ownGroup`) if it still runs, and reaps it.
public final class BackgroundProgram: @unchecked Sendable {
    public enum Output: Sendable {
        /// /dev/null.
        case null
        /// A pipe the test reads with `readLine`/`readToEnd`.
        case pipe
        /// A file (created or truncated).
        case file(String)
        /// The test process's own descriptor.
        case inherit
        /// (stderr only) wherever stdout goes.
        case stdout
    }

    public let pid: Int32
    public let argv: [String]
    private let ownGroup: Bool
    private var readEnd: Int32 = -1
    private var inputEnd: Int32 = -1
    private let lock = NSLock()
    private var exitStatus: Int32?

    public init(_ argv: [String], stdout: Output = .null, stderr: Output = .inherit, stdinPipe: Bool = false,
                environment: [String: String]? = nil, ownGroup: Bool = false) throws {
        precondition(!argv.isEmpty)
        self.argv = argv
        self.ownGroup = ownGroup
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var input: [Int32] = [-1, -1]
        if stdinPipe {
            guard pipe(&input) == 0 else { throw Fixtures.Failure(description: "pipe: \(String(cString: strerror(errno)))") }
            inputEnd = input[1]
            posix_spawn_file_actions_adddup2(&actions, input[0], 0)
            posix_spawn_file_actions_addclose(&actions, input[0])
            posix_spawn_file_actions_addclose(&actions, input[1])
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        var fds: [Int32] = [-1, -1]
        var writeEnd: Int32 = -1
        if case .pipe = stdout {
            guard pipe(&fds) == 0 else { throw Fixtures.Failure(description: "pipe: \(String(cString: strerror(errno)))") }
            readEnd = fds[0]
            writeEnd = fds[1]
        }
        for (fd, output) in [(Int32(1), stdout), (Int32(2), stderr)] {
            switch output {
            case .null: posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0)
            case .pipe: posix_spawn_file_actions_adddup2(&actions, writeEnd, fd)
            case .file(let path): posix_spawn_file_actions_addopen(&actions, fd, path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            case .inherit: break
            case .stdout: posix_spawn_file_actions_adddup2(&actions, 1, fd)
            }
        }
        if readEnd >= 0 {
            posix_spawn_file_actions_addclose(&actions, readEnd)
            posix_spawn_file_actions_addclose(&actions, writeEnd)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if ownGroup {
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        let cEnv = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { cEnv?.forEach { free($0) } }
        var child: pid_t = 0
        let rc = cEnv.map { posix_spawn(&child, argv[0], &actions, &attributes, cArgs, $0) }
            ?? posix_spawn(&child, argv[0], &actions, &attributes, cArgs, environ)
        if writeEnd >= 0 { close(writeEnd) }
        if input[0] >= 0 { close(input[0]) }
        guard rc == 0 else {
            if readEnd >= 0 { close(readEnd) }
            if inputEnd >= 0 { close(inputEnd) }
            throw Fixtures.Failure(description: "cannot start \(argv[0]): \(String(cString: strerror(rc)))")
        }
        pid = child
    }

    /// The next line the program writes on its stdout pipe (without the newline), or what
    /// came before end of file or `timeout` seconds.
    public func readLine(timeout: Double = 20) -> String {
        var data: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        while readEnd >= 0, Date() < deadline {
            var p = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, 100)
            if ready < 0 && errno != EINTR { break }
            if ready <= 0 { continue }
            var byte: UInt8 = 0
            if read(readEnd, &byte, 1) != 1 || byte == 0x0A { break }
            data.append(byte)
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Everything left on the stdout pipe, up to end of file.
    public func readToEnd() -> String {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while readEnd >= 0 {
            let n = read(readEnd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Writes `bytes` to the program's stdin pipe.
    public func writeInput(_ bytes: String) {
        guard inputEnd >= 0 else { return }
        let data = Array(bytes.utf8)
        _ = data.withUnsafeBytes { write(inputEnd, $0.baseAddress, $0.count) }
    }

    /// Closes the program's stdin pipe: it reads end of file.
    public func closeInput() {
        if inputEnd >= 0 { close(inputEnd); inputEnd = -1 }
    }

    /// Whether the program has not exited yet (a zombie counts as exited).
    public var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        if exitStatus != nil { return false }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { exitStatus = Self.code(status); return false }
        return true
    }

    /// Waits for the program to exit (once; later calls return the same) and returns its
    /// exit code, or 128 + the signal that killed it.
    @discardableResult
    public func wait() -> Int32 {
        lock.lock()
        defer { lock.unlock() }
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        exitStatus = Self.code(status)
        return exitStatus!
    }

    /// Sends `signal` to the program (its group with `ownGroup`) while it runs.
    public func signal(_ signal: Int32) {
        guard isRunning else { return }
        kill(ownGroup ? -pid : pid, signal)
    }

    /// Waits up to `seconds` for the program to have exec'd a file whose path ends with
    /// `suffix` (a launcher such as chroot, unshare or sh execs the program in place).
    @discardableResult
    public func waitForExecutable(endingWith suffix: String, seconds: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe"), exe.hasSuffix(suffix) { return true }
            usleep(20_000)
        }
        return false
    }

    /// Kills the program (with `signal`) if it still runs, and reaps it.
    public func stop(_ signal: Int32 = SIGKILL) {
        closeInput()
        if ownGroup { kill(-pid, signal) } else { self.signal(signal) }
        wait()
        if readEnd >= 0 { close(readEnd); readEnd = -1 }
    }

    deinit { stop() }

    private static func code(_ status: Int32) -> Int32 {
        (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}
