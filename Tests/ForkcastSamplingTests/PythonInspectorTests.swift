import Foundation
import XCTest
@testable import ForkcastSampling

/// The reader against real CPython 3.11 processes (pyenv and Debian builds), attached
/// with process_vm_readv only: threads keep running while they are read, so a small
/// share of inconsistent reads is expected and counted, as the recorder counts them.
final class PythonInspectorTests: XCTestCase {
    func testDetectsVersionAndReadsFourCPUThreads() throws {
        for interpreter in PythonInterpreters.all {
            try PythonInterpreters.require(interpreter)
            let fixture = try PythonFixture(interpreter: interpreter, script: "cpu_threads.py", arguments: ["60"])
            defer { fixture.stop() }
            let inspector = try fixture.inspector()
            let expectedVersion = interpreter == PythonInterpreters.pyenv ? "3.11.7" : "3.11.2"
            XCTAssertEqual(inspector.version, expectedVersion, interpreter)

            let workers = fixture.readyIDs
            XCTAssertEqual(workers.count, 4)
            let log = TickLog.collect(inspector, tids: workers + [fixture.pid], count: 150)
            XCTAssertLessThan(log.errors, log.ticks / 10, "\(interpreter): too many read errors")

            // Each worker's own function, at a line inside it, in ≥ 90% of its stacks.
            let functions = ["spin_alpha", "spin_beta", "spin_gamma", "spin_delta"]
            let text = try String(contentsOfFile: fixture.script, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            for name in functions {
                let first = (text.firstIndex { $0.hasPrefix("def \(name)(") } ?? -10) + 1
                let range = first...(first + 4)
                let counts = workers.map { tid in
                    (log.stacks[tid] ?? []).filter { $0.contains { $0.name == name && range.contains($0.line) } }.count
                }
                let best = try XCTUnwrap(counts.max())
                let total = log.stacks[workers[counts.firstIndex(of: best)!]]?.count ?? 0
                XCTAssertGreaterThanOrEqual(Double(best), 0.9 * Double(total), "\(interpreter): \(name) in \(best)/\(total)")
                XCTAssertGreaterThan(total, 100)
            }
            // The root of a worker's stack is threading's bootstrap, the leaf the spin.
            let sample = try XCTUnwrap(log.stacks[workers[0]]?.last { !$0.isEmpty })
            XCTAssertEqual(sample.last?.name, "Thread._bootstrap", "\(sample)")
            XCTAssertTrue(sample.last?.isEntry ?? false)
            XCTAssertTrue(sample.last?.file.hasSuffix("threading.py") ?? false)
            // Main thread: sleeping in main() under <module>.
            let main = try XCTUnwrap(log.stacks[fixture.pid]?.last)
            XCTAssertEqual(main.map(\.name), ["main", "<module>"])
            XCTAssertEqual(main.first?.line, fixture.line(containing: "time.sleep(duration)"))

            // The GIL: held by one of the workers in most ticks (they never release it
            // on their own), never by a thread outside the process.
            let held = log.holders.compactMap { $0 }
            XCTAssertGreaterThan(held.count, log.holders.count / 2, "\(interpreter): GIL rarely held")
            for holder in held { XCTAssertTrue((workers + [fixture.pid]).contains(holder), "holder \(holder)") }
            XCTAssertGreaterThan(Set(held).count, 1, "\(interpreter): the GIL never changed hands")

            // threading's names.
            let names = inspector.threadNames()
            for (tid, name) in zip(workers, functions) {
                XCTAssertEqual(names[tid], "worker-\(name)", "\(interpreter) tid \(tid)")
            }
            XCTAssertEqual(names[fixture.pid], "MainThread")
        }
    }

    func testLockContendersWaitAtAcquireWithoutTheGIL() throws {
        for interpreter in PythonInterpreters.all {
            try PythonInterpreters.require(interpreter)
            let fixture = try PythonFixture(interpreter: interpreter, script: "lock_contention.py", arguments: ["60"])
            defer { fixture.stop() }
            let inspector = try fixture.inspector()
            let contenders = fixture.readyIDs
            let log = TickLog.collect(inspector, tids: contenders, count: 100, interval: 0.01)
            let acquire = fixture.line(containing: "LINE_ACQUIRE")
            let sleep = fixture.line(containing: "LINE_SLEEP")
            var atAcquire = 0, atSleep = 0, total = 0
            for stacks in log.stacks.values {
                for stack in stacks {
                    total += 1
                    guard let leaf = stack.first, leaf.name == "contend" else { continue }
                    if leaf.line == acquire { atAcquire += 1 }
                    if leaf.line == sleep { atSleep += 1 }
                }
            }
            // One thread sleeps in the lock, three wait at acquire.
            XCTAssertGreaterThan(Double(atAcquire), 0.6 * Double(total), "\(interpreter): \(atAcquire)/\(total) at acquire")
            XCTAssertGreaterThan(atSleep, 0, interpreter)
            XCTAssertGreaterThan(Double(atAcquire + atSleep), 0.9 * Double(total), interpreter)
            // Nobody needs the GIL: it is free in most ticks.
            let held = log.holders.filter { $0 != nil }.count
            XCTAssertLessThan(held, log.holders.count / 5, "\(interpreter): GIL held in \(held) ticks")
            XCTAssertEqual(Set(inspector.threadNames().filter { contenders.contains($0.key) }.values),
                           Set((0..<4).map { "contender-\($0)" }))
        }
    }

    func testHashingThreadsRunWithoutTheGIL() throws {
        for interpreter in PythonInterpreters.all {
            try PythonInterpreters.require(interpreter)
            let fixture = try PythonFixture(interpreter: interpreter, script: "hash_threads.py", arguments: ["60"])
            defer { fixture.stop() }
            let inspector = try fixture.inspector()
            let hashers = fixture.readyIDs
            let log = TickLog.collect(inspector, tids: hashers, count: 100, interval: 0.01)
            let hashLine = fixture.line(containing: "LINE_HASH")
            for tid in hashers {
                let stacks = log.stacks[tid] ?? []
                let inHash = stacks.filter { $0.first?.name == "hash_forever" && $0.first?.line == hashLine }.count
                XCTAssertGreaterThan(Double(inHash), 0.9 * Double(stacks.count), "\(interpreter): \(inHash)/\(stacks.count)")
            }
            // sha256 of 64 MiB releases the GIL for its whole run.
            let heldByHashers = log.holders.filter { $0.map(hashers.contains) ?? false }.count
            XCTAssertLessThan(heldByHashers, log.holders.count / 5, "\(interpreter): hashers held the GIL in \(heldByHashers) ticks")
        }
    }

    func testProcessPoolWorkersAreReadableForEveryStartMethod() throws {
        for interpreter in PythonInterpreters.all {
            try PythonInterpreters.require(interpreter)
            for method in ["fork", "spawn", "forkserver"] {
                let fixture = try PythonFixture(interpreter: interpreter, script: "process_pool.py", arguments: [method, "60"])
                defer { fixture.stop() }
                XCTAssertEqual(fixture.readyIDs.count, 2, "\(interpreter) \(method)")
                let spin = fixture.line(containing: "LINE_POOL")
                for worker in fixture.readyIDs {
                    let inspector = try fixture.inspector(pid: worker)
                    let log = TickLog.collect(inspector, tids: [worker], count: 20)
                    let stacks = log.stacks[worker] ?? []
                    let spinning = stacks.filter { $0.contains { $0.name == "pool_spin" && abs($0.line - spin) <= 2 } }.count
                    XCTAssertGreaterThan(Double(spinning), 0.8 * Double(stacks.count), "\(interpreter) \(method): \(stacks.last ?? [])")
                    XCTAssertGreaterThan(stacks.count, 10)
                    XCTAssertEqual(stacks.last?.last?.name, "<module>", "\(interpreter) \(method)")
                }
            }
        }
    }

    func testReadingAnExitedProcessThrowsInsteadOfCrashing() throws {
        let interpreter = PythonInterpreters.debian
        try PythonInterpreters.require(interpreter)
        let fixture = try PythonFixture(interpreter: interpreter, script: "lock_contention.py", arguments: ["60"])
        let inspector = try fixture.inspector()
        try inspector.beginTick()
        let tid = try XCTUnwrap(fixture.readyIDs.first)
        XCTAssertNotNil(try inspector.stack(forTid: tid))
        fixture.stop()
        // Gone between the tick's start and the thread's stack, then at the next tick.
        XCTAssertThrowsError(try inspector.stack(forTid: tid)) { error in
            XCTAssertEqual(error as? PythonReadError, .memory(.noSuchProcess(pid: fixture.pid)))
        }
        XCTAssertThrowsError(try inspector.beginTick()) { error in
            XCTAssertEqual(error as? PythonReadError, .memory(.noSuchProcess(pid: fixture.pid)))
        }
        // A failed tick leaves no stale thread list behind.
        XCTAssertNil(try inspector.stack(forTid: tid))
        XCTAssertNil(inspector.gilHolderTid())
    }
}

/// What one tick of Python reading costs, on a live 4-thread CPU-bound fixture.
final class PythonReadCostTests: XCTestCase {
    func testReadCostPerTickAndThread() throws {
        for interpreter in PythonInterpreters.all {
            try PythonInterpreters.require(interpreter)
            let fixture = try PythonFixture(interpreter: interpreter, script: "cpu_threads.py", arguments: ["60"])
            defer { fixture.stop() }
            let inspector = try fixture.inspector()
            let tids = fixture.readyIDs + [fixture.pid]
            var tickNs: [UInt64] = [], stackNs: [UInt64] = []
            for _ in 0..<300 {
                let t0 = DispatchTime.now().uptimeNanoseconds
                guard (try? inspector.beginTick()) != nil else { continue }
                let t1 = DispatchTime.now().uptimeNanoseconds
                tickNs.append(t1 - t0)
                for tid in tids {
                    let s0 = DispatchTime.now().uptimeNanoseconds
                    _ = try? inspector.stack(forTid: tid)
                    stackNs.append(DispatchTime.now().uptimeNanoseconds - s0)
                }
                _ = inspector.threadNames()
            }
            func median(_ values: [UInt64]) -> Double { Double(values.sorted()[values.count / 2]) / 1000 }
            print("python-read-cost \(interpreter): beginTick median \(median(tickNs)) µs, stack median \(median(stackNs)) µs per thread")
            // Loose bounds that only a broken cache or a runaway walk would exceed.
            XCTAssertLessThan(median(tickNs), 2000)
            XCTAssertLessThan(median(stackNs), 2000)
        }
    }
}
