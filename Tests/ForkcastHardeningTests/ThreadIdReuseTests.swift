import Foundation
import XCTest
import ForkcastModel
import ForkcastTestSupport

/// A target that creates more threads than there are thread ids (pid_max, 32768 here), so
/// the kernel reuses the ids of ended threads during the recording. Every thread must keep
/// its row in the profile, and the profile must be written: a thread id is not an identity.
final class ThreadIdReuseTests: XCTestCase {
    func testThreadIdReuseKeepsEveryThreadAndTheProfile() throws {
        let pidMax = Int((try? String(contentsOfFile: "/proc/sys/kernel/pid_max", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 32768
        guard pidMax <= 65536 else { throw XCTSkip("pid_max is \(pidMax): too many threads to wrap it in a test") }
        let forkcast = try Fixtures.forkcastBinary()
        let source = Fixtures.repositoryRoot.appendingPathComponent("Tests/Fixtures/hostile/tid_reuse.c").path
        let program = Fixtures.scratch.appendingPathComponent("tid_reuse").path
        let cc = try Fixtures.run("/usr/bin/cc", ["-O2", "-pthread", "-o", program, source])
        guard cc.status == 0 else { throw HardeningFailure("cc tid_reuse.c: \(cc.stderr)") }
        let total = pidMax + 256  // the id counter must go round at least once
        let out = Fixtures.scratch.appendingPathComponent("tid-reuse-\(UUID().uuidString.prefix(6)).json.gz").path
        let r = try Fixtures.run(forkcast, ["record", "-q", "--rate", "50", "-o", out, "--", program, String(total)])
        XCTAssertEqual(r.status, 0, "forkcast failed, the recording is lost: \(r.stderr)")
        XCTAssertTrue(r.stdout.contains("threads=\(total)"), r.stdout)
        let profile = try Profile.decode(Data(contentsOf: URL(fileURLWithPath: out)))
        let root = profile.recording.rootPid
        let seen = profile.threads.filter { $0.pid == root && $0.tid != root }.count
        XCTAssertEqual(seen, total, "threads in the profile vs threads the target created")
    }
}
