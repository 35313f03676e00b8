import Foundation
import XCTest
import ForkcastModel
import ForkcastSampling
import ForkcastTestSupport

/// Records real fixture programs that block on purpose and asserts on the states and
/// frames Forkcast sees.
final class RecorderTests: XCTestCase {
    func record(_ command: [String], rate: Double = 100, duration: Double? = nil) throws -> RecordingOutcome {
        let env = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
        return try Recorder(options: RecordOptions(rateHz: rate, duration: duration))
            .record(.launch(executable: command[0], arguments: command, environment: env))
    }

    /// Shares of each state over the given threads' samples.
    func shares(_ profile: Profile, tids: Set<Int32>) -> [ThreadState: Double] {
        var counts: [ThreadState: Int] = [:]
        var total = 0
        for s in profile.samples where tids.contains(s.tid) {
            counts[s.state, default: 0] += 1
            total += 1
        }
        return counts.mapValues { Double($0) / Double(max(total, 1)) }
    }

    func frameNames(_ profile: Profile, _ sample: Sample) -> [String] {
        profile.stacks[Int(sample.stack)].frames.map { profile.frames[Int($0)].name }
    }

    func testMutexWaitersAreLockWaitInPthreadMutexLock() throws {
        let program = try Fixtures.cProgram("mutex_contention")
        let outcome = try record([program, "2", "4"])
        let profile = outcome.profile
        XCTAssertNoThrow(try profile.validate())
        XCTAssertEqual(outcome.rootExit?.code, 0)
        let workers = Set(profile.threads.filter { $0.tid != $0.pid }.map(\.tid))
        XCTAssertEqual(workers.count, 4, "4 worker threads")
        let s = shares(profile, tids: workers)
        // Built to wait ~3/4 of the time and hold the lock (sleeping) ~1/4.
        XCTAssertGreaterThan(s[.lockWait] ?? 0, 0.55, "workers mostly wait for the mutex: \(s)")
        XCTAssertGreaterThan(s[.sleep] ?? 0, 0.1, "the holder sleeps inside the lock: \(s)")
        let lockSamples = profile.samples.filter { workers.contains($0.tid) && $0.state == .lockWait }
        XCTAssertFalse(lockSamples.isEmpty)
        let attributed = lockSamples.filter { sample in
            let names = frameNames(profile, sample)
            return names.contains { $0.contains("pthread_mutex_lock") } && names.contains("contend_worker")
        }
        XCTAssertGreaterThan(Double(attributed.count) / Double(lockSamples.count), 0.9,
                             "lock waits show pthread_mutex_lock and the fixture's function; e.g. \(lockSamples.first.map { frameNames(profile, $0) } ?? [])")
        // Futex address kept for lock waits.
        let futexes = Set(lockSamples.compactMap { $0.wait >= 0 ? profile.waits[Int($0.wait)].futex : nil })
        XCTAssertEqual(futexes.count, 1, "one mutex: \(futexes)")
        // Fidelity: stacks to the root and samples achieved.
        XCTAssertGreaterThan(Double(profile.stats.stacksComplete) / Double(profile.stats.samplesTaken), 0.95)
        XCTAssertGreaterThan(Double(profile.stats.samplesTaken) / Double(profile.stats.samplesExpected), 0.8)
    }

    func testSocketReadFromLateServerIsIOWaitOnSocket() throws {
        let outcome = try record([Fixtures.python, Fixtures.pythonScript("slow_server_client.py"), "0.4", "3"])
        let profile = outcome.profile
        let mainThread = Set([outcome.profile.recording.rootPid])
        let s = shares(profile, tids: mainThread)
        XCTAssertGreaterThan(s[.ioWait] ?? 0, 0.6, "the client waits on the socket: \(s)")
        let ioWaits = profile.samples.filter { $0.tid == profile.recording.rootPid && $0.state == .ioWait && $0.wait >= 0 }
            .map { profile.waits[Int($0.wait)] }
        XCTAssertFalse(ioWaits.isEmpty)
        let onSocket = ioWaits.filter { $0.fdKind == .socket }
        XCTAssertGreaterThan(Double(onSocket.count) / Double(ioWaits.count), 0.9, "\(Set(ioWaits.map(\.syscall)))")
        XCTAssertTrue(onSocket.contains { $0.target?.contains("127.0.0.1") ?? false }, "peer address: \(onSocket.first?.target ?? "-")")
        // The server thread sleeps before answering.
        let server = Set(profile.threads.filter { $0.tid != $0.pid }.map(\.tid))
        XCTAssertGreaterThan(shares(profile, tids: server)[.sleep] ?? 0, 0.5)
    }

    func testPythonCPUThreadsShareTheCPU() throws {
        let outcome = try record([Fixtures.python, Fixtures.pythonScript("cpu_threads.py"), "1.5", "4"])
        let profile = outcome.profile
        XCTAssertEqual(outcome.rootExit?.code, 0)
        let workers = Set(profile.threads.filter { $0.tid != $0.pid }.map(\.tid))
        XCTAssertEqual(workers.count, 4)
        for tid in workers {
            let s = shares(profile, tids: [tid])
            let running = (s[.onCPU] ?? 0) + (s[.runnable] ?? 0)
            // One GIL: each of 4 threads runs about a quarter of the time, waits otherwise.
            XCTAssertLessThan(running, 0.75, "thread \(tid) cannot run all the time: \(s)")
            XCTAssertGreaterThan(running, 0.05, "thread \(tid) runs sometimes: \(s)")
            XCTAssertGreaterThan((s[.lockWait] ?? 0) + (s[.gilWait] ?? 0), 0.25, "thread \(tid) waits for the GIL: \(s)")
        }
    }

    func testMultiprocessingPoolWorkersAreRecorded() throws {
        for method in ["fork", "spawn"] {
            let outcome = try record([Fixtures.python, Fixtures.pythonScript("mp_pool.py"), "0.8", method])
            let profile = outcome.profile
            XCTAssertEqual(outcome.rootExit?.code, 0, method)
            let children = profile.processes.filter { $0.pid != profile.recording.rootPid }
            XCTAssertGreaterThanOrEqual(children.count, 2, "\(method): pool workers recorded: \(profile.processes.map(\.pid))")
            let busy = children.filter { child in profile.samples.filter { $0.pid == child.pid }.count >= 10 }
            XCTAssertGreaterThanOrEqual(busy.count, 2, "\(method): workers have samples")
            for child in children {
                XCTAssertEqual(child.ppid != 0, true)
                XCTAssertNotNil(child.endNs, "\(method): worker \(child.pid) ended during the recording")
            }
        }
    }

    func testAttachByPidLeavesTargetRunning() throws {
        let program = try Fixtures.cProgram("mutex_contention")
        let target = try BackgroundProgram([program, "3", "4"])
        Thread.sleep(forTimeInterval: 0.3)
        let outcome = try Recorder(options: RecordOptions(rateHz: 100, duration: 1)).record(.attach(pid: target.pid))
        XCTAssertEqual(outcome.endReason, .duration)
        XCTAssertEqual(outcome.profile.threads.count, 5)
        XCTAssertGreaterThan(outcome.profile.samples.count, 300)
        let status = try String(contentsOfFile: "/proc/\(target.pid)/status", encoding: .utf8)
        XCTAssertTrue(status.contains("TracerPid:\t0"), "detached")
        XCTAssertFalse(status.contains("State:\tt"), "not left stopped")
        XCTAssertEqual(target.wait(), 0)
    }

    func testExecIsFollowedAndCrashIsReported() throws {
        let program = try Fixtures.cProgram("mutex_contention")
        let outcome = try record(["/bin/sh", "-c", "exec \(program) 0.5 2"])
        XCTAssertEqual(outcome.profile.processes.count, 1)
        XCTAssertEqual(outcome.profile.processes[0].executable, program)
        XCTAssertTrue(outcome.profile.samples.contains { frameNames(outcome.profile, $0).contains("contend_worker") })

        let killed = try record(["/bin/sh", "-c", "kill -SEGV $$"])
        XCTAssertEqual(killed.rootExit?.signal, SIGSEGV)
        XCTAssertNoThrow(try killed.profile.validate())
    }
}
