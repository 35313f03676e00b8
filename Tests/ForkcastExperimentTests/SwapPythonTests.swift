import Foundation
import XCTest
@testable import ForkcastExperiment
import ForkcastTestSupport

/// The executor swap's Python (assets/swap/) as Python: its own unit tests, the linters,
/// and the check that the binary carries exactly these files.
final class SwapPythonTests: XCTestCase {
    static let folder = Fixtures.repositoryRoot.appendingPathComponent("assets/swap")

    func testSwapPythonUnitTests() throws {
        var env = ProcessInfo.processInfo.environment
        for key in ["FORKCAST_STRATEGY", "FORKCAST_WORKERS", "FORKCAST_SWAP_REPORT", "PYTHONPATH"] { env[key] = nil }
        let r = try Fixtures.run("/usr/bin/env", ["python3", "-m", "unittest", "discover", "-s", Self.folder.path], environment: env)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("\nOK"), r.stderr)
    }

    func testSwapPythonIsLintClean() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path).filter { $0.hasSuffix(".py") }.sorted()
        XCTAssertEqual(files, ["forkcast_swap.py", "sitecustomize.py", "test_forkcast_swap.py"])
        XCTAssertEqual(try Linters.python(files.map { Self.folder.appendingPathComponent($0).path }), [])
    }

    /// What `PythonSwapHook.install` writes is byte for byte the files under assets/swap.
    func testTheHookWritesTheAssetFiles() throws {
        let dir = Fixtures.scratch.appendingPathComponent("swap-\(UUID().uuidString.prefix(8))")
        let hook = try PythonSwapHook.install(in: dir)
        for name in ["forkcast_swap.py", "sitecustomize.py"] {
            XCTAssertEqual(try Data(contentsOf: hook.appendingPathComponent(name)),
                           try Data(contentsOf: Self.folder.appendingPathComponent(name)),
                           "\(name) differs from assets/swap: run scripts/gen-assets.py")
        }
    }
}
