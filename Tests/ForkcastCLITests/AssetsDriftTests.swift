import Foundation
import XCTest
import ForkcastTestSupport

/// The files under assets/ are embedded into Swift sources by scripts/gen-assets.py; this
/// fails when a generated file is stale (run the script to refresh it), the same way
/// CLIReferenceTests keeps docs/cli.md in step with --help.
final class AssetsDriftTests: XCTestCase {
    static let generator = Fixtures.repositoryRoot.appendingPathComponent("scripts/gen-assets.py").path

    func testGeneratedAssetSourcesAreCurrent() throws {
        let r = try Fixtures.run("/usr/bin/env", ["python3", Self.generator, "--check"])
        XCTAssertEqual(r.status, 0, "stale embedded assets:\n\(r.stdout)\(r.stderr)")
    }

    /// The check can fail: on a copy of the repository, editing one asset makes exactly the
    /// Swift file that embeds it stale, and regenerating makes it current again.
    func testAnEditedAssetIsReportedStale() throws {
        let copy = Fixtures.scratch.appendingPathComponent("assets-\(UUID().uuidString.prefix(8))")
        let fm = FileManager.default
        try fm.createDirectory(at: copy, withIntermediateDirectories: true)
        try fm.copyItem(at: Fixtures.repositoryRoot.appendingPathComponent("assets"), to: copy.appendingPathComponent("assets"))
        defer { try? fm.removeItem(at: copy) }
        let first = try Fixtures.run("/usr/bin/env", ["python3", Self.generator, "--root", copy.path])
        XCTAssertEqual(first.status, 0, first.stderr)
        let generated = first.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(generated.contains("Sources/ForkcastExperiment/PythonSwapSources.swift"), first.stdout)
        for path in generated {
            XCTAssertEqual(try String(contentsOf: copy.appendingPathComponent(path), encoding: .utf8),
                           try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent(path), encoding: .utf8), path)
        }
        XCTAssertEqual(try Fixtures.run("/usr/bin/env", ["python3", Self.generator, "--root", copy.path, "--check"]).status, 0)

        let edited = copy.appendingPathComponent("assets/swap/sitecustomize.py")
        try (try String(contentsOf: edited, encoding: .utf8) + "# \"\"\"# a line with a quote-hash \\# and a closing delimiter\n")
            .write(to: edited, atomically: true, encoding: .utf8)
        let stale = try Fixtures.run("/usr/bin/env", ["python3", Self.generator, "--root", copy.path, "--check"])
        XCTAssertEqual(stale.status, 1)
        XCTAssertEqual(stale.stdout, "stale: Sources/ForkcastExperiment/PythonSwapSources.swift (run scripts/gen-assets.py)\n")
    }
}
