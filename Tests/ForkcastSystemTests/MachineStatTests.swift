import ForkcastSystem
import XCTest

/// `/proc/stat`'s aggregate line and `procs_running` (MachineStat.swift).
final class MachineStatTests: XCTestCase {
    func parse(_ text: String) -> MachineCPU? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { ProcParse.machineCPU(bytes: $0, nsPerTick: 10_000_000) }
    }

    func testAggregateLineAndProcsRunning() throws {
        let intr = "intr 41804899" + String(repeating: " 0", count: 3000)
        let m = try XCTUnwrap(parse("cpu  100 20 30 400 5 6 7 8 9 0\ncpu0 50 10 15 200 2 3 3 4 0 0\n\(intr)\nctxt 146668148\nprocs_running 6\nprocs_blocked 0\n"))
        // busy = user + nice + system + irq + softirq + steal (guest is inside user).
        XCTAssertEqual(m.busyNs, (100 + 20 + 30 + 6 + 7 + 8) * 10_000_000)
        XCTAssertEqual(m.idleNs, 400 * 10_000_000)
        XCTAssertEqual(m.iowaitNs, 5 * 10_000_000)
        XCTAssertEqual(m.stealNs, 8 * 10_000_000)
        XCTAssertEqual(m.procsRunning, 6)
    }

    func testOlderKernelsAndGarbage() throws {
        // Four fields (2.4-era): no iowait, irq, softirq or steal; the next line is not read as them.
        let old = try XCTUnwrap(parse("cpu  1 2 3 4\ncpu0 9 9 9 9 9 9 9 9\n"))
        XCTAssertEqual(old.busyNs, 6 * 10_000_000)
        XCTAssertEqual(old.stealNs, 0)
        XCTAssertNil(old.procsRunning)
        XCTAssertNil(parse(""))
        XCTAssertNil(parse("cpu0 1 2 3 4\n"), "not the aggregate line")
        XCTAssertNil(parse("cpu  1 2\n"))
        XCTAssertNil(parse("cpu  x y z w\n"))
    }

    func testLiveMachineMoves() throws {
        let file = try XCTUnwrap(MachineStatFile())
        let a = try XCTUnwrap(file.read())
        var x = 0.0
        for i in 0..<3_000_000 { x += Double(i).squareRoot() }  // ~10 ms of CPU
        usleep(50_000)
        let b = try XCTUnwrap(file.read())
        XCTAssertGreaterThan(x, 0)
        XCTAssertGreaterThan(b.busyNs + b.idleNs + b.iowaitNs, a.busyNs + a.idleNs + a.iowaitNs, "the machine's time advanced")
        XCTAssertGreaterThanOrEqual(b.busyNs, a.busyNs)
        XCTAssertNotNil(b.procsRunning)
    }
}
