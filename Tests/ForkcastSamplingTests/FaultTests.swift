import Foundation
import XCTest
import ForkcastModel
import ForkcastSampling
import ForkcastTestSupport

/// Targets that misbehave: job control, repeated exec, uninterruptible sleep, thread and
/// process churn. The recorder must keep up, never leave anything stopped, and always
/// return a valid profile.
final class FaultTests: XCTestCase {
    func launch(_ command: [String], rate: Double = 100, duration: Double? = nil,
                onStart: (@Sendable (Int32) -> Void)? = nil) throws -> RecordingOutcome {
        let env = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
        var options = RecordOptions(rateHz: rate, duration: duration)
        options.onStart = onStart
        return try Recorder(options: options).record(.launch(executable: command[0], arguments: command, environment: env))
    }

    func testJobControlStopAndContinue() throws {
        let program = try Fixtures.cProgram("mutex_contention")
        let outcome = try launch([program, "1.5", "2"], onStart: { pid in
            DispatchQueue.global().asyncAfter(deadline: .now() + 0.4) { kill(pid, SIGSTOP) }
            DispatchQueue.global().asyncAfter(deadline: .now() + 0.9) { kill(pid, SIGCONT) }
        })
        XCTAssertEqual(outcome.rootExit?.code, 0, "the target resumed and finished")
        let profile = outcome.profile
        XCTAssertNoThrow(try profile.validate())
        let stopped = profile.samples.filter { $0.wait >= 0 && profile.waits[Int($0.wait)].syscall == "job-control stop" }
        XCTAssertGreaterThan(stopped.count, 20, "samples while stopped are recorded as such")
    }

    func testRepeatedExecIsFollowed() throws {
        let program = try Fixtures.cProgram("exec_chain")
        let outcome = try launch([program, "4"], rate: 200)
        XCTAssertEqual(outcome.rootExit?.code, 0)
        let profile = outcome.profile
        XCTAssertEqual(profile.processes.count, 1)
        XCTAssertEqual(profile.processes[0].command.last, "0", "command line of the last exec")
        let names = Set(profile.samples.flatMap { profile.stacks[Int($0.stack)].frames.map { profile.frames[Int($0)].name } })
        XCTAssertTrue(names.contains("spin_generation"), "stacks symbolized after each exec")
    }

    func testUninterruptibleSleepDoesNotHangOrStall() throws {
        let program = try Fixtures.cProgram("vfork_wait")
        let started = Date()
        let outcome = try launch([program, "1.0"], rate: 200, duration: 0.5)
        XCTAssertEqual(outcome.endReason, .duration)
        XCTAssertLessThan(Date().timeIntervalSince(started), 4.5, "detaching gives up on a thread that cannot stop")
        let profile = outcome.profile
        let parent = profile.samples.filter { $0.tid == profile.recording.rootPid }
        XCTAssertGreaterThan(parent.count, 20, "the parent is sampled while it cannot be stopped")
        XCTAssertTrue(parent.allSatisfy { $0.state == .other || $0.state == .onCPU || $0.state == .runnable })
        XCTAssertLessThan(Double(profile.stats.missedStops), Double(parent.count) / 2)
        // The vfork child, still sleeping, is recorded too.
        XCTAssertGreaterThanOrEqual(profile.processes.count, 2)
        if let pid = outcome.launchedPid {
            var status: Int32 = 0
            waitpid(pid, &status, 0)  // reap; it exits after the child's sleep
        }
    }

    func testThreadAndProcessChurn() throws {
        let program = try Fixtures.cProgram("thread_churn")
        let outcome = try launch([program, "1.5", "16"], rate: 200)
        XCTAssertEqual(outcome.rootExit?.code, 0)
        let profile = outcome.profile
        XCTAssertNoThrow(try profile.validate())
        XCTAssertGreaterThan(profile.threads.count, 100, "short-lived threads are followed")
        XCTAssertGreaterThan(profile.processes.count, 10, "short-lived children are followed")
        XCTAssertTrue(profile.threads.allSatisfy { $0.endNs != nil }, "every thread's end is known")
        XCTAssertTrue(profile.processes.allSatisfy { $0.exit != nil }, "every process's exit is known")
        let names = Set(profile.samples.flatMap { profile.stacks[Int($0.stack)].frames.map { profile.frames[Int($0)].name } })
        XCTAssertTrue(names.contains("short_lived_worker"))
    }
    /// A shell's `$(echo | cat)` subshells can start, run and exit before their parent's
    /// fork event is read: the late event must not register the dead child again as alive
    /// (the recording then never ended after the script did). Bounded by --duration.
    func testSubshellsEndingBeforeTheirForkEventIsRead() throws {
        let script = "for i in $(seq 120); do x=$(echo $i | cat); y=$(echo $x); done"
        let outcome = try launch(["/bin/bash", "-c", script], rate: 100, duration: 60)
        XCTAssertEqual(outcome.endReason, .targetExited, "the recording ends with the script")
        XCTAssertEqual(outcome.rootExit?.code, 0)
        let profile = outcome.profile
        XCTAssertNoThrow(try profile.validate())
        XCTAssertGreaterThan(profile.processes.count, 200, "the subshells are followed")
        let open = profile.processes.filter { $0.endNs == nil }
        XCTAssertTrue(open.isEmpty, "processes never ended: \(open.prefix(5).map { ($0.pid, $0.origin) })")
        XCTAssertTrue(profile.recording.notes.allSatisfy { !$0.contains("without an exit report") }, "\(profile.recording.notes)")
    }
}
