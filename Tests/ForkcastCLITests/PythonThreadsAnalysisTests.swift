import ForkcastAnalysis
import ForkcastModel
import ForkcastTestSupport
import Foundation
import XCTest

/// Issue 14's "done means" on real interpreters: `record` then `analyze` four pure-Python
/// CPU threads (Tests/Fixtures/python/cpu_threads.py: each thread its own function and
/// name, the main thread sleeping until a deadline) — processes on a GIL build, threads
/// on free-threaded 3.13t. The threads are the program's workers whatever their names
/// (not helpers), and the main thread's sleep is not the tasks'.
final class PythonThreadsAnalysisTests: XCTestCase {
    static let cache = ProcessInfo.processInfo.environment["FORKCAST_CACHE"]
        ?? (ProcessInfo.processInfo.environment["HOME", default: "/root"] + "/.cache/forkcast")

    func analyze(_ python: String) throws -> Analysis {
        let out = Fixtures.scratch.appendingPathComponent("cpu-threads-\(UUID().uuidString).profile.json.gz").path
        let rec = try CLI.run(["record", "-q", "-o", out, "--", python, Fixtures.pythonScript("cpu_threads.py"), "1.5"])
        XCTAssertEqual(rec.status, 0, "record failed: \(rec.stderr)")
        let json = try CLI.run(["analyze", "--json", out])
        XCTAssertEqual(json.status, 0, "analyze failed: \(json.stderr)")
        let a = try Analysis.decode(Data(json.stdout.utf8))
        let workers = a.threads.filter { $0.name.hasPrefix("worker-") }
        XCTAssertEqual(workers.count, 4, "\(python): \(a.threads.map(\.name))")
        XCTAssertTrue(workers.allSatisfy { $0.role == .worker }, "\(python): \(workers.map(\.role))")
        return a
    }

    func testGILBuildAdvisesProcesses() throws {
        guard let python = Fixtures.pythonInterpreters.last else { throw XCTSkip("no CPython 3.11 (apt install python3.11)") }
        let r = try XCTUnwrap(try analyze(python).recommendation)
        XCTAssertEqual(r.strategy, .processes, r.reasons.map(\.text).joined(separator: " | "))
    }

    func testFreeThreaded313AdvisesThreads() throws {
        let python = "\(Self.cache)/cpython-3.13/ft/bin/python3.13t"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw XCTSkip("\(python) not built: run scripts/assets/cpython-3.13.sh")
        }
        let r = try XCTUnwrap(try analyze(python).recommendation)
        XCTAssertEqual(r.strategy, .threads, r.reasons.map(\.text).joined(separator: " | "))
    }
}
