import Foundation
import XCTest
import ForkcastTestSupport
@testable import ForkcastSystem

/// The kernel's scheduler events as the recorder reads them: a thread that sleeps is not
/// named; one that is woken and runs is.
final class SchedActivityTests: XCTestCase {
    func testFormatAndCPUListParsing() {
        let format = """
            name: sched_switch
            ID: 316
            format:
            \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
            \tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;
            \tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;
            \tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;
            """
        XCTAssertEqual(SchedActivity.fieldOffset(format: format, field: "next_pid"), 56)
        XCTAssertEqual(SchedActivity.fieldOffset(format: format, field: "prev_pid"), 24)
        XCTAssertNil(SchedActivity.fieldOffset(format: format, field: "pid"))
        XCTAssertNil(SchedActivity.fieldOffset(format: format, field: "prev_comm"), "not a 4-byte field")
        XCTAssertEqual(SchedActivity.parseCPUList("0-3,6\n"), [0, 1, 2, 3, 6])
        XCTAssertEqual(SchedActivity.parseCPUList("0"), [0])
        XCTAssertNil(SchedActivity.parseCPUList("3-1"))
        XCTAssertNil(SchedActivity.parseCPUList("x"))
    }

    /// The events, opened; as root they must open, elsewhere the test is skipped.
    func openOrSkip() throws -> SchedActivity {
        switch SchedActivity.open() {
        case .success(let a): return a
        case .failure(let why):
            if geteuid() == 0 { XCTFail("as root the scheduler events must open: \(why)") }
            throw XCTSkip("scheduler events unavailable here: \(why)")
        }
    }

    func testASleepingThreadIsNotNamedAndAWokenOneIs() throws {
        let activity = try openOrSkip()
        defer { activity.close() }
        // A process asleep in read() until a byte arrives on its stdin.
        let reader = try BackgroundProgram(["/usr/bin/head", "-c", "1"], stdinPipe: true)
        defer { reader.stop(SIGTERM) }
        let tid = reader.pid
        usleep(100_000)  // asleep in read() by now
        _ = activity.drain { _ in }
        usleep(100_000)
        var seen = Set<Int32>()
        // Events lost (a ring full on a busy machine) say nothing either way: such a drain
        // makes the recorder read every thread, and is not what this test is about.
        let quietComplete = activity.drain { seen.insert($0) }
        XCTAssertFalse(seen.contains(tid), "a thread asleep the whole time is not named")
        reader.writeInput("x")
        usleep(50_000)
        seen = []
        let wokenComplete = activity.drain { seen.insert($0) }
        XCTAssertTrue(seen.contains(tid) || !wokenComplete, "woken and run: named (\(seen.count) tids seen)")
        if !quietComplete || !wokenComplete { print("events lost here: \(activity.lossSummary)") }
    }

    /// A task's last switch, as it exits, carries pid and tid -1 (it is no longer alive to
    /// be named). It still fits the CPU's chain: before, every exit anywhere on the machine
    /// counted as a lost event, and made the recorder read every idle thread through /proc.
    func testExitingProcessesDoNotBreakTheChainOfSwitches() throws {
        let activity = try openOrSkip()
        defer { activity.close() }
        _ = activity.drain { _ in }
        // 200 short processes, each exiting on some CPU.
        _ = try Fixtures.run("/bin/sh", ["-c", "for i in $(seq 200); do /bin/true; done"])
        _ = activity.drain { _ in }
        let chainBreaks = activity.lossSummary.filter { $0.contains("did not chain") }
        XCTAssertTrue(chainBreaks.isEmpty, "\(activity.lossSummary)")
    }
}
