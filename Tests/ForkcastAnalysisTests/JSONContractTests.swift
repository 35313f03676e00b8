import ForkcastModel
import ForkcastTestSupport
import XCTest
@testable import ForkcastAnalysis

/// The `forkcast analyze --json` contract (docs/analysis-format.md): these keys must not change.
final class JSONContractTests: XCTestCase {
    func json(_ a: Analysis) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: a.encodedJSON()) as? [String: Any])
    }

    func testDocumentedKeysArePresent() throws {
        let a = Analyzer.analyze(SyntheticProfiles.heavyIPC())
        let root = try json(a)
        for key in ["format", "format_version", "profile", "overall", "processes", "threads", "locks", "io", "gil",
                    "multiprocessing", "findings", "recommendation", "plugins", "errors"] {
            XCTAssertNotNil(root[key], "missing \(key)")
        }
        XCTAssertEqual(root["format"] as? String, "forkcast-analysis")
        let thread = try XCTUnwrap((root["threads"] as? [[String: Any]])?.first)
        for key in ["pid", "tid", "name", "samples", "states", "seconds", "idle_share"] { XCTAssertNotNil(thread[key], key) }
        let states = try XCTUnwrap(thread["states"] as? [String: Double])
        XCTAssertEqual(Set(states.keys), ["on_cpu", "runnable", "gil_wait", "lock_wait", "io_wait", "sleep", "child_wait", "other"])
        XCTAssertEqual(states.values.reduce(0, +), 1, accuracy: 1e-9)
        let rec = try XCTUnwrap(root["recommendation"] as? [String: Any])
        for key in ["strategy", "workers", "confidence", "reasons"] { XCTAssertNotNil(rec[key], key) }
        let overall = try XCTUnwrap(root["overall"] as? [String: Any])
        for key in ["parallelism", "cores", "core_utilization", "starved_tick_share", "states", "cpu_seconds"] {
            XCTAssertNotNil(overall[key], key)
        }
        let mp = try XCTUnwrap(root["multiprocessing"] as? [String: Any])
        for key in ["pickle_seconds", "unpickle_seconds", "ipc_cpu_seconds", "startup_seconds", "serialization_share"] {
            XCTAssertNotNil(mp[key], key)
        }
        let io = try XCTUnwrap((root["io"] as? [[String: Any]])?.first)
        for key in ["kind", "call_site", "targets", "wait_seconds", "threads"] { XCTAssertNotNil(io[key], key) }
    }

    func testLockKeys() throws {
        let root = try json(Analyzer.analyze(SyntheticProfiles.mutexContention()))
        let lock = try XCTUnwrap((root["locks"] as? [[String: Any]])?.first)
        for key in ["lock", "kind", "wait_seconds", "waiters", "top_stacks", "holder", "pid", "wait_share", "idle"] {
            XCTAssertNotNil(lock[key], key)
        }
    }

    func testRoundTrip() throws {
        let a = Analyzer.analyze(SyntheticProfiles.socketIO())
        XCTAssertEqual(try Analysis.decode(a.encodedJSON()), a)
    }
}
