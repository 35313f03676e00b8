import Foundation
import XCTest
import ForkcastTestSupport
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
/// the test ends. (ForkcastTestSupport's BackgroundProgram starts it: posix_spawn, since
/// Foundation's Process would wait for the pool workers that keep its descriptor.)
final class PythonFixture {
    let script: String
    private let program: BackgroundProgram
    var pid: Int32 { program.pid }
    /// The numbers after "ready".
    let readyIDs: [Int32]

    static func scriptPath(_ name: String) -> String { Fixtures.pythonScript(name) }

    init(interpreter: String, script: String, arguments: [String] = []) throws {
        self.script = Self.scriptPath(script)
        do {
            program = try BackgroundProgram([interpreter, self.script] + arguments, stdout: .pipe, ownGroup: true)
        } catch {
            throw XCTSkip("cannot run \(interpreter): \(error)")
        }
        // Waits until the fixture says it is ready (or exits: end of file).
        let text = program.readLine(timeout: 120)
        let words = text.split(separator: " ")
        guard words.first == "ready" else {
            program.stop()
            throw XCTSkip("fixture \(script) did not start: \(text)")
        }
        readyIDs = words.dropFirst().compactMap { Int32($0) }
    }

    /// Kills the fixture's process group and reaps the fixture.
    func stop() { program.stop() }

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
