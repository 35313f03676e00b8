import Foundation
import XCTest
import ForkcastTestSupport

/// docs/cli.md is generated from the commands' --help; this fails when it is stale
/// (run scripts/gen-cli-docs.sh to refresh it).
final class CLIReferenceTests: XCTestCase {
    func testCLIReferenceIsCurrent() throws {
        let forkcast = try Fixtures.forkcastBinary()
        let generated = Fixtures.scratch.appendingPathComponent("cli-\(UUID().uuidString.prefix(8)).md").path
        let script = Fixtures.repositoryRoot.appendingPathComponent("scripts/gen-cli-docs.sh").path
        let r = try Fixtures.run("/bin/bash", [script, forkcast, generated])
        XCTAssertEqual(r.status, 0, r.stderr)
        let fresh = try String(contentsOfFile: generated, encoding: .utf8)
        let committed = try String(contentsOfFile: Fixtures.repositoryRoot.appendingPathComponent("docs/cli.md").path, encoding: .utf8)
        XCTAssertEqual(fresh, committed, "docs/cli.md is stale: run scripts/gen-cli-docs.sh")
    }

    /// `--help` after `record` is help, not a program to launch.
    func testRecordHelp() throws {
        let r = try Fixtures.run(try Fixtures.forkcastBinary(), ["record", "--help"])
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stdout.contains("forkcast record --pid PID"), r.stdout)
    }
}
