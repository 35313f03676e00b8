import Foundation
import XCTest
import ForkcastModel
import ForkcastTestSupport

/// Forkcast killed with SIGKILL cannot clean up, so the promise "never leaves a target
/// stopped" rests on the kernel: when a tracer dies, `exit_ptrace` detaches every tracee
/// and wakes those sitting in a ptrace-stop. These tests show it on a target that is
/// being sampled at a high rate (many threads stopped at any moment) and keeps creating
/// threads and children (clone and fork events in flight).
final class KillTests: XCTestCase {
    func testSigkillOfForkcastLeavesTargetRunningAndNotStopped() throws {
        let forkcast = try Fixtures.forkcastBinary()
        let program = try Fixtures.cProgram("thread_churn")
        let out = Fixtures.scratch.appendingPathComponent("sigkill-\(UUID().uuidString.prefix(8)).json").path
        for round in 0..<3 {
            let recorder = try BackgroundProgram([forkcast, "record", "-q", "--rate", "1000", "-o", out, "--", program, "30", "16"],
                                                 stdout: .null, stderr: .null)
            let forkcastPid = recorder.pid
            // The target is forkcast's child; wait until forkcast traces it (TracerPid is the
            // tracer *thread*'s id, one of forkcast's threads) and has sampled a while.
            var target: Int32 = 0
            XCTAssertTrue(waitUntil(20) {
                target = Proc.children(of: forkcastPid).first ?? 0
                let forkcastThreads = Set(Proc.threads(of: forkcastPid).map(\.tid))
                return target > 0 && Proc.threads(of: target).contains { forkcastThreads.contains($0.tracer) }
            }, "round \(round): forkcast never attached")
            guard target > 0 else { recorder.stop(); return }
            usleep(useconds_t(300_000 + 200_000 * round))  // a different moment of the sampling cycle each round

            kill(forkcastPid, SIGKILL)
            XCTAssertEqual(recorder.wait(), 128 + SIGKILL, "forkcast did not die of SIGKILL")

            // forkcast has exited, so the kernel has already detached it (exit_ptrace runs before
            // the tracer becomes a zombie). No thread is traced, none is in a stop.
            let threads = Proc.threads(of: target)
            XCTAssertFalse(threads.isEmpty, "round \(round): the target died with its tracer")
            for t in threads {
                XCTAssertEqual(t.tracer, 0, "round \(round): thread \(t.tid) is still traced")
                XCTAssertFalse(t.state == "t" || t.state == "T", "round \(round): thread \(t.tid) left stopped (\(t.state))")
            }
            // And it keeps running: its CPU time grows (thread_churn never blocks for long).
            let before = Proc.cpuTicks(target) ?? 0
            XCTAssertTrue(waitUntil(10) { (Proc.cpuTicks(target) ?? 0) > before + 5 },
                          "round \(round): the target does not run: ticks \(before) → \(Proc.cpuTicks(target) ?? 0), "
                          + "threads \(Proc.threads(of: target).map { "\($0.tid):\($0.state)" })")
            kill(target, SIGKILL)  // reparented to init, which reaps it
        }
    }

    /// SIGTERM and SIGINT to forkcast alone, mid-recording at a high rate: the profile
    /// holds every sample the tracer took (`samples.count == stats.samplesTaken`) and the
    /// target is detached, running and not stopped. (On SIGINT forkcast stops sampling at
    /// once but, as Ctrl-C's parent, waits for the target to end, so the target runs 8 s.)
    func testSignalledExitKeepsEverySample() throws {
        let forkcast = try Fixtures.forkcastBinary()
        let program = try Fixtures.cProgram("thread_churn")
        for signal in [SIGTERM, SIGINT] {
            let out = Fixtures.scratch.appendingPathComponent("signalled-\(signal)-\(UUID().uuidString.prefix(6)).json.gz").path
            let recorder = try BackgroundProgram([forkcast, "record", "-q", "--rate", "500", "-o", out, "--", program, "8", "8"],
                                                 stdout: .null, stderr: .null)
            let forkcastPid = recorder.pid
            var target: Int32 = 0
            XCTAssertTrue(waitUntil(20) {
                target = Proc.children(of: forkcastPid).first ?? 0
                let forkcastThreads = Set(Proc.threads(of: forkcastPid).map(\.tid))
                return target > 0 && Proc.threads(of: target).contains { forkcastThreads.contains($0.tracer) }
            }, "signal \(signal): forkcast never attached")
            usleep(700_000)
            kill(forkcastPid, signal)
            recorder.wait()
            let profile = try Profile.decode(Data(contentsOf: URL(fileURLWithPath: out)))
            XCTAssertEqual(profile.recording.endReason, signal == SIGTERM ? "terminated" : "interrupted")
            XCTAssertGreaterThan(profile.stats.samplesTaken, 0)
            XCTAssertEqual(profile.samples.count, profile.stats.samplesTaken, "signal \(signal): samples lost on the way to the file")
            if target > 0 {
                for t in Proc.threads(of: target) {
                    XCTAssertEqual(t.tracer, 0, "signal \(signal): thread \(t.tid) still traced")
                    XCTAssertFalse(t.state == "t" || t.state == "T", "signal \(signal): thread \(t.tid) left stopped")
                }
                kill(target, SIGKILL)
            }
        }
    }
}
