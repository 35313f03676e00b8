import Foundation
import XCTest
import ForkcastTestSupport

/// Helpers shared by the hardening tests: /proc state of a process's threads, and waiting
/// for a condition with a deadline (the condition is what the test asserts on; the
/// deadline only bounds a failure).
enum Proc {
    /// State letter and TracerPid of every thread of `pid` (empty when it is gone).
    static func threads(of pid: Int32) -> [(tid: Int32, state: Character, tracer: Int32)] {
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
    static func cpuTicks(_ pid: Int32) -> UInt64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let u = UInt64(fields[11]), let s = UInt64(fields[12]) else { return nil }
        return u + s
    }

    /// Children of `pid`, forked by any of its threads (from /proc/PID/task/*/children:
    /// forkcast forks the target from its tracer thread, not its main thread).
    static func children(of pid: Int32) -> [Int32] {
        let tids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tids.flatMap { tid in
            (try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/children", encoding: .utf8))?
                .split(separator: " ").compactMap { Int32($0) } ?? []
        }
    }
}

/// Polls `condition` every 10 ms until it holds or `seconds` pass; returns whether it held.
@discardableResult
func waitUntil(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// A set-up step of a hardening test failed (a fixture did not build, a tool is missing).
struct HardeningFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Starts a program with posix_spawn, stdin/stdout/stderr on /dev/null, and returns its
/// pid; reap it with `waitpid`. Foundation's `Process.waitUntilExit` is not used for
/// forkcast in these tests: after forkcast is killed it kept waiting until forkcast's
/// *child* (the target, which inherits a descriptor of Foundation's) exited too.
func spawn(_ path: String, _ arguments: [String]) throws -> pid_t {
    var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    for fd: Int32 in 0...2 { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0) }
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, &actions, nil, argv, environ)
    guard rc == 0 else { throw HardeningFailure("posix_spawn \(path): \(String(cString: strerror(rc)))") }
    return pid
}

/// Waits for a spawned process; returns its raw wait status.
@discardableResult
func reap(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return status
}
