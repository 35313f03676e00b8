import Foundation
import XCTest
import ForkcastModel

/// The shared text helpers: one rule each, used by record, report, experiment and plugins.
final class FormattingTests: XCTestCase {
    /// One name per program, whichever command names it (record's file name, the report's
    /// file name and title used to disagree on length, extensions and interpreters).
    func testProgramName() {
        let cases: [([String], String)] = [
            (["python3", "work.py"], "work"),
            (["/usr/bin/python3.13t", "-X", "dev", "/app/jobs/work.py", "--fast"], "work"),
            (["python3", "-m", "http.server"], "http.server"),
            (["env", "OMP_NUM_THREADS=1", "python3", "train.py"], "train"),
            (["bash", "-c", "run.sh"], "run"),
            (["node", "server.js"], "server"),
            (["./bench-1.2"], "bench-1.2"),
            (["/usr/sbin/nginx", "-g", "daemon off;"], "nginx"),
            (["./a b<c>.py"], "a_b_c_"),
            (["python3"], "python3"),
            ([], "program"),
            ([".py"], "py"),
            (["..."], "program"),
            ([String(repeating: "x", count: 100)], String(repeating: "x", count: 60)),
        ]
        for (command, name) in cases { XCTAssertEqual(Formatting.programName(command), name, "\(command)") }
    }

    func testSeconds() {
        let cases: [(Double, String)] = [
            (0.3, "300 ms"), (0.01, "10 ms"), (0.0004, "0.4 ms"), (0, "0 ms"), (1, "1 s"), (1.5, "1.5 s"),
            (1.234, "1.23 s"), (3, "3 s"), (60, "60 s"), (99.999, "100 s"), (123.4, "123 s"), (.infinity, "inf s"),
        ]
        for (s, text) in cases { XCTAssertEqual(Formatting.seconds(s), text, "\(s)") }
    }

    func testStackLine() {
        XCTAssertEqual(Formatting.stackLine(["main", "work", "lock"]), "main → work → lock")
        XCTAssertEqual(Formatting.stackLine(["a", "b", "c", "d"], limit: 2), "… → c → d")
        // Python frames and the native leaf; the interpreter's frames between them are dropped.
        let mixed = ["_start", "<module> (job.py:9)", "_PyEval_EvalFrameDefault", "run (job.py:4)", "PyObject_Call", "futex_wait"]
        XCTAssertEqual(Formatting.stackLine(mixed), "… → <module> (job.py:9) → run (job.py:4) → futex_wait")
        XCTAssertEqual(Formatting.stackLine(mixed, limit: 2), "… → run (job.py:4) → futex_wait")
        XCTAssertEqual(Formatting.stackLine([]), "")
    }

    func testFileTimestampIsUTC() {
        XCTAssertEqual(Formatting.fileTimestamp(Date(timeIntervalSince1970: 0)), "19700101-000000")
        XCTAssertEqual(Formatting.fileTimestamp(Date(timeIntervalSince1970: 1_796_002_502.9)), "20261130-013502")
    }
}
