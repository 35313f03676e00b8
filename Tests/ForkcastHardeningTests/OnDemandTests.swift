import Foundation
import XCTest
import ForkcastTestSupport

/// The long-running checks, skipped unless asked for by environment variable so that
/// `make test` stays fast:
///   FORKCAST_SOAK=SECONDS  runs benchmarks/soak/run.sh for SECONDS (CI: 30)
///   FORKCAST_FUZZ=1        runs fuzz/run.sh --ci (about 60 s of fuzzing plus the build)
final class OnDemandTests: XCTestCase {
    func testSoak() throws {
        guard let value = ProcessInfo.processInfo.environment["FORKCAST_SOAK"], let seconds = Int(value), seconds > 0 else {
            throw XCTSkip("set FORKCAST_SOAK=SECONDS to run the soak test (30 in CI)")
        }
        var env = ProcessInfo.processInfo.environment
        env["FORKCAST"] = try Fixtures.forkcastBinary()
        let script = Fixtures.repositoryRoot.appendingPathComponent("benchmarks/soak/run.sh").path
        let r = try Fixtures.run(script, [String(seconds)], environment: env)
        print(r.stdout)
        XCTAssertEqual(r.status, 0, "soak failed:\n\(r.stdout)\n\(r.stderr)")
        XCTAssertTrue(r.stdout.contains("soak: passed"), r.stdout)
    }

    func testFuzzCI() throws {
        guard ProcessInfo.processInfo.environment["FORKCAST_FUZZ"] == "1" else {
            throw XCTSkip("set FORKCAST_FUZZ=1 to run fuzz/run.sh --ci")
        }
        let script = Fixtures.repositoryRoot.appendingPathComponent("fuzz/run.sh").path
        let r = try Fixtures.run(script, ["--ci"])
        print(r.stdout)
        XCTAssertEqual(r.status, 0, "fuzzing found a crash:\n\(r.stdout)\n\(r.stderr)")
    }
}
