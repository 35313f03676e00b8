import Foundation
import XCTest
import ForkcastModel
import ForkcastSampling
import ForkcastTestSupport

/// `record` on Python fixtures, through the whole recorder, on both interpreters of
/// this machine (pyenv's build with symbols; Debian's stripped python3.11 with its
/// debug package): Python frames, GIL holder and GIL wait, lock waits at the line
/// that waits, C extensions without the GIL, process pools.
final class RecorderPythonTests: XCTestCase {
    func record(_ command: [String]) throws -> Profile {
        let env = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
        let outcome = try Recorder(options: RecordOptions(rateHz: 100))
            .record(.launch(executable: command[0], arguments: command, environment: env))
        XCTAssertEqual(outcome.rootExit?.code, 0, "\(command)")
        return outcome.profile
    }

    /// The line of a fixture marked with `# MARKER`.
    func line(_ script: String, _ marker: String) throws -> Int {
        let text = try String(contentsOfFile: Fixtures.pythonScript(script), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return try XCTUnwrap(lines.firstIndex { $0.contains("# \(marker)") }) + 1
    }

    func frames(_ p: Profile, _ s: Sample) -> [Frame] { p.stacks[Int(s.stack)].frames.map { p.frames[Int($0)] } }

    func threads(_ p: Profile, named prefix: String) -> Set<Int32> {
        Set(p.threads.filter { $0.name.hasPrefix(prefix) }.map(\.tid))
    }

    func share(_ samples: [Sample], _ states: ThreadState...) -> Double {
        Double(samples.filter { states.contains($0.state) }.count) / Double(max(samples.count, 1))
    }

    var interpreters: [String] {
        let found = Fixtures.pythonInterpreters
        XCTAssertFalse(found.isEmpty, "no CPython 3.11 on this machine")
        return found
    }

    func testPureCPUThreadsShowTheirFunctionsAndWaitForTheGIL() throws {
        let markers = ["spin_alpha": "LINE_ALPHA", "spin_beta": "LINE_BETA", "spin_gamma": "LINE_GAMMA", "spin_delta": "LINE_DELTA"]
        for python in interpreters {
            let p = try record([python, Fixtures.pythonScript("cpu_threads.py"), "1.5"])
            XCTAssertTrue(p.processes[0].runtime?.hasPrefix("CPython 3.11") ?? false, "\(python): \(p.processes[0].runtime ?? "-")")
            let workers = threads(p, named: "worker-")
            XCTAssertEqual(workers.count, 4, "\(python): threading names read: \(p.threads.map(\.name))")
            let samples = p.samples.filter { workers.contains($0.tid) }
            var attributed = 0
            for s in samples {
                let pyFrames = frames(p, s).filter { $0.kind == .python }
                if try markers.contains(where: { name, marker in
                    let expected = try line("cpu_threads.py", marker)
                    return pyFrames.contains { $0.name == name && $0.file?.hasSuffix("cpu_threads.py") == true && ($0.line == expected || $0.line == expected - 1) }
                }) { attributed += 1 }
            }
            XCTAssertGreaterThan(Double(attributed) / Double(samples.count), 0.9, "\(python): fixture functions and lines in the workers' stacks")
            // One GIL: at most one holder per tick.
            var holders: [UInt64: Int] = [:]
            for s in p.samples where s.holdsGIL == true { holders[s.timeNs, default: 0] += 1 }
            XCTAssertLessThanOrEqual(holders.values.max() ?? 0, 1, python)
            XCTAssertGreaterThan(holders.count, p.stats.ticks / 2, "\(python): the holder is known most of the time")
            XCTAssertGreaterThan(share(samples, .gilWait), 0.5, "\(python): workers mostly wait for the GIL")
            // GIL waits are in take_gil, not counted as lock waits.
            XCTAssertLessThan(share(samples, .lockWait), 0.05, python)
        }
    }

    func testThreadingLockWaitIsLockWaitAtTheAcquireLine() throws {
        let acquire = try line("lock_contention.py", "LINE_ACQUIRE")
        for python in interpreters {
            let p = try record([python, Fixtures.pythonScript("lock_contention.py"), "1.5"])
            let contenders = threads(p, named: "contender-")
            XCTAssertEqual(contenders.count, 4, python)
            let samples = p.samples.filter { contenders.contains($0.tid) }
            XCTAssertGreaterThan(share(samples, .lockWait), 0.55, "\(python): contenders wait on the lock")
            XCTAssertLessThan(share(samples, .gilWait), 0.05, "\(python): nobody wants the GIL")
            let waits = samples.filter { $0.state == .lockWait }
            let atAcquire = waits.filter { s in frames(p, s).first { $0.kind == .python }?.line == acquire }
            XCTAssertGreaterThan(Double(atAcquire.count) / Double(max(waits.count, 1)), 0.9, "\(python): attributed to line \(acquire)")
        }
    }

    func testHashingThreadsRunWithoutTheGILInCExtensionFrames() throws {
        for python in interpreters {
            let p = try record([python, Fixtures.pythonScript("hash_threads.py"), "1.5"])
            let hashers = threads(p, named: "hasher-")
            XCTAssertEqual(hashers.count, 2, python)
            let samples = p.samples.filter { hashers.contains($0.tid) }
            XCTAssertGreaterThan(share(samples, .onCPU, .runnable), 0.6, "\(python): hashing threads are busy")
            let running = samples.filter { $0.state == .onCPU }
            let withoutGIL = running.filter { $0.holdsGIL == false }
            XCTAssertGreaterThan(Double(withoutGIL.count) / Double(max(running.count, 1)), 0.6, "\(python): on CPU without the GIL")
            let inC = running.filter { s in
                frames(p, s).contains { $0.kind == .native && ($0.name.lowercased().contains("sha256") || ($0.module ?? "").contains("libcrypto")) }
            }
            XCTAssertGreaterThan(Double(inC.count) / Double(max(running.count, 1)), 0.6, "\(python): in the C extension's frames")
            XCTAssertTrue(running.contains { s in frames(p, s).contains { $0.kind == .python && $0.name == "hash_forever" } })
        }
    }

    func testProcessPoolWorkersShowTheirPythonFrames() throws {
        let python = try XCTUnwrap(interpreters.first)
        for method in ["fork", "spawn", "forkserver"] {
            let p = try record([python, Fixtures.pythonScript("process_pool.py"), method, "1.2"])
            let workers = p.processes.filter { $0.pid != p.recording.rootPid }
            XCTAssertGreaterThanOrEqual(workers.count, 2, method)
            let spinning = Set(p.samples.filter { s in frames(p, s).contains { $0.kind == .python && $0.name == "pool_spin" } }.map(\.pid))
            XCTAssertGreaterThanOrEqual(spinning.count, 2, "\(method): both pool workers show pool_spin")
            XCTAssertTrue(spinning.allSatisfy { $0 != p.recording.rootPid })
        }
    }
}
