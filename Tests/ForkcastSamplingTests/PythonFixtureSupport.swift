import Foundation
import XCTest
@testable import ForkcastSampling

/// The two CPython 3.11 builds the Python tests run against. Each test runs on both;
/// a missing interpreter is a skip that names the package to install.
enum PythonInterpreters {
    /// pyenv's build (full symbol table, shared libpython). The `python3` on PATH is a
    /// pyenv shell shim; this is the real binary.
    static let pyenv = "/root/.pyenv/versions/3.11.7/bin/python3.11"
    /// Debian's stripped, statically linked /usr/bin/python3.11.
    static let debian = "/usr/bin/python3.11"
    static let all = [pyenv, debian]

    static func require(_ path: String) throws {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw XCTSkip("\(path) not installed (pyenv 3.11.7 / apt python3.11)")
        }
    }
}

/// A fixture script from Tests/Fixtures/python running under a given interpreter, in
/// its own process group. It prints `ready ID…` (tids or pids) once its threads are in
/// place; the whole group (pool workers, forkserver, resource tracker) is killed when
/// the test ends.
///
/// Launched with posix_spawn rather than Foundation's Process: Process learns that its
/// child exited from a descriptor the child inherits, which forked pool workers keep
/// open, so it would wait for them forever.
final class PythonFixture {
    let script: String
    let pid: Int32
    /// The numbers after "ready".
    private(set) var readyIDs: [Int32] = []
    private var reaped = false

    static func scriptPath(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/python/\(name)").path
    }

    init(interpreter: String, script: String, arguments: [String] = []) throws {
        self.script = Self.scriptPath(script)
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw XCTSkip("pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, fds[1])
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        let argv = [interpreter, self.script] + arguments
        var cArgs = argv.map { strdup($0) } + [nil]
        defer {
            for arg in cArgs { free(arg) }
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        var child: pid_t = 0
        let result = posix_spawn(&child, interpreter, &actions, &attributes, &cArgs, environ)
        close(fds[1])
        defer { close(fds[0]) }
        guard result == 0 else { throw XCTSkip("cannot run \(interpreter): errno \(result)") }
        pid = child
        // Blocks until the fixture says it is ready (or exits: EOF).
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(fds[0], &byte, 1) == 1, byte != 0x0A { line.append(byte) }
        let text = String(decoding: line, as: UTF8.self)
        let words = text.split(separator: " ")
        guard words.first == "ready" else {
            stop()
            throw XCTSkip("fixture \(script) did not start: \(text)")
        }
        readyIDs = words.dropFirst().compactMap { Int32($0) }
    }

    /// Kills the fixture's process group and reaps the fixture.
    func stop() {
        guard !reaped else { return }
        reaped = true
        kill(-pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    deinit { stop() }

    /// The first line of the fixture whose text contains `marker` (1-based).
    func line(containing marker: String) -> Int {
        let text = (try? String(contentsOfFile: script, encoding: .utf8)) ?? ""
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return (lines.firstIndex { $0.contains(marker) } ?? -1) + 1
    }

    /// Detects CPython in the fixture (or `pid`) the way the recorder does.
    func inspector(pid: Int32? = nil) throws -> CPythonInspector {
        let pid = pid ?? self.pid
        let detection = try PythonSampling.detect(pid: pid)
        guard case .supported(let inspector) = detection else {
            XCTFail("CPython not detected in \(pid): \(detection)")
            throw XCTSkip("no inspector")
        }
        return inspector
    }
}

/// Collects what the inspector reads over many ticks.
struct TickLog {
    var ticks = 0
    var errors = 0
    var holders: [Int32?] = []
    var stacks: [Int32: [[PythonFrame]]] = [:]

    /// Reads `count` ticks, `interval` apart, of the given threads.
    static func collect(_ inspector: CPythonInspector, tids: [Int32], count: Int, interval: TimeInterval = 0.005) -> TickLog {
        var log = TickLog()
        for _ in 0..<count {
            log.ticks += 1
            do {
                try inspector.beginTick()
                log.holders.append(inspector.gilHolderTid())
                for tid in tids {
                    if let stack = try inspector.stack(forTid: tid) { log.stacks[tid, default: []].append(stack) }
                }
            } catch {
                log.errors += 1
            }
            Thread.sleep(forTimeInterval: interval)
        }
        return log
    }
}
