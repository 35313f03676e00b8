import ForkcastModel
import ForkcastTestSupport
import XCTest
@testable import ForkcastAnalysis

final class TimeBreakdownTests: XCTestCase {
    /// The mutex fixture is built so each thread waits on the lock 70% of the time and
    /// sleeps holding it 30%: the shares must say so within 5 points.
    func testMutexFixtureShares() {
        let b = TimeBreakdown.compute(SyntheticProfiles.mutexContention(ticks: 1000))
        XCTAssertEqual(b.threads.count, 4)
        for t in b.threads {
            XCTAssertEqual(t.samples, 1000)
            XCTAssertEqual(t.states.lockWait, 0.70, accuracy: 0.05, "thread \(t.tid)")
            XCTAssertEqual(t.states.sleep, 0.30, accuracy: 0.05, "thread \(t.tid)")
            XCTAssertEqual(t.states.onCPU, 0, accuracy: 1e-9)
            XCTAssertEqual(t.seconds, 10, accuracy: 1e-6)
        }
        XCTAssertEqual(b.overall.parallelism, 0, accuracy: 1e-9)
        XCTAssertEqual(b.overall.ticks, 1000)
        XCTAssertEqual(b.summary.periodSeconds, 0.01, accuracy: 1e-9)
        XCTAssertEqual(b.processes.count, 1)
        XCTAssertEqual(b.processes[0].states.lockWait, 0.70, accuracy: 0.05)
    }

    /// Four GIL-bound threads: one on CPU per tick, three waiting in take_gil; the
    /// lock_wait the stacks would suggest is counted as GIL wait.
    func testPythonThreadsGILShares() {
        let b = TimeBreakdown.compute(SyntheticProfiles.pythonCPUThreads(ticks: 1000))
        for t in b.threads {
            XCTAssertEqual(t.states.onCPU, 0.25, accuracy: 0.05)
            XCTAssertEqual(t.states.gilWait, 0.75, accuracy: 0.05)
        }
        XCTAssertEqual(b.overall.parallelism, 1.0, accuracy: 0.01)
        XCTAssertEqual(b.overall.peakParallelism, 1)
        XCTAssertEqual(b.overall.coreUtilization, 0.5, accuracy: 0.01)
    }

    func testLockWaitInTakeGILIsCountedAsGILWait() {
        var p = SyntheticProfiles.pythonCPUThreads(ticks: 100)
        p.samples = p.samples.map { s in
            var s = s
            if s.state == .gilWait { s.state = .lockWait }
            return s
        }
        let b = TimeBreakdown.compute(p)
        XCTAssertEqual(b.overall.states.gilWait, 0.75, accuracy: 0.01)
        XCTAssertEqual(b.overall.states.lockWait, 0, accuracy: 0.01)
    }
}
