import Foundation
import XCTest

// Running processes in tests, once for every test target: the `forkcast` binary as the
// user runs it (`CLI`), other programs (`Fixtures.run`, `Tools`), and a process's /proc
// state for tests that watch a target (`Proc`, `spawn`, `reap`, `waitUntil`).

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

/// Starts a program with posix_spawn, stdin/stdout/stderr on /dev/null, and returns its
/// pid; reap it with `reap`. Foundation's `Process.waitUntilExit` is not used for forkcast
/// in tests that kill it: after forkcast is killed it kept waiting until forkcast's
/// *child* (the target, which inherits a descriptor of Foundation's) exited too.
public func spawn(_ path: String, _ arguments: [String]) throws -> pid_t {
    var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    for fd: Int32 in 0...2 { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0) }
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, &actions, nil, argv, environ)
    guard rc == 0 else { throw Fixtures.Failure(description: "posix_spawn \(path): \(String(cString: strerror(rc)))") }
    return pid
}

/// Waits for a spawned process; returns its raw wait status.
@discardableResult
public func reap(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return status
}

/// A program a test starts and then records by pid (`forkcast record --pid`). Its
/// stdin and stdout are /dev/null; `stop()` (also on deinit) kills it if it still runs
/// and reaps it.
public final class BackgroundProgram: @unchecked Sendable {
    public let process = Process()
    public var pid: Int32 { process.processIdentifier }

    public init(_ argv: [String]) throws {
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
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

    public func stop(_ signal: Int32 = SIGKILL) {
        if process.isRunning { kill(pid, signal) }
        process.waitUntilExit()
    }

    deinit { stop() }
}
