import ForkcastTestSupport
import Foundation
import XCTest

/// The plugin SDK as the `forkcast` binary hands it out: `forkcast plugins sdk-path`
/// prints a folder holding assets/sdk/forkcast_plugin.py as it is, and an external
/// plugin with no copy of the SDK imports the one forkcast puts on its PYTHONPATH.
final class PluginSDKCLITests: ScratchTestCase {
    /// No user cache folder unless the test names one.
    func env(_ extra: [String: String]) -> [String: String] {
        environment(["XDG_CACHE_HOME": nil].merging(extra.mapValues { $0 }) { $1 })
    }

    func testSDKPathPrintsAFolderWhosePythonImportsTheSDK() throws {
        let cache = dir.appendingPathComponent("cache").path
        let r = try Fixtures.run(try Fixtures.forkcastBinary(), ["plugins", "sdk-path"], environment: env(["XDG_CACHE_HOME": cache]))
        XCTAssertEqual(r.status, 0, r.stderr)
        let folder = r.stdout.trimmingCharacters(in: .newlines)
        XCTAssertTrue(folder.hasPrefix(cache + "/forkcast/sdk/"), folder)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: folder).appendingPathComponent("forkcast_plugin.py")),
                       try Data(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("assets/sdk/forkcast_plugin.py")),
                       "the binary carries assets/sdk/forkcast_plugin.py as it is")
        let again = try Fixtures.run(try Fixtures.forkcastBinary(), ["plugins", "sdk-path"], environment: env(["XDG_CACHE_HOME": cache]))
        XCTAssertEqual(again.stdout, r.stdout, "the same folder every time")
        let py = try Fixtures.run("/usr/bin/env", ["python3", "-c", "import forkcast_plugin as f; print(f.PROTOCOL_VERSION, f.__file__)"],
                                  environment: env(["PYTHONPATH": folder]))
        XCTAssertEqual(py.stdout, "1 \(folder)/forkcast_plugin.py\n", py.stderr)
    }

    /// A plugin that only imports the SDK (no copy in its folder) runs through forkcast.
    func testAnExternalPluginImportsTheSDKForkcastProvides() throws {
        let folder = dir.appendingPathComponent("plugins/sdk-user")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try #"{"name": "sdk-user", "kind": "analyzer", "version": "0.1.0", "protocol_version": 1, "command": ["python3", "main.py"], "description": "imports the SDK"}"#
            .write(to: folder.appendingPathComponent("plugin.json"), atomically: true, encoding: .utf8)
        try """
        import sys
        from forkcast_plugin import Profile, log, serve


        def analyze(request):
            profile = Profile(request["profile"])
            log("sdk from", sys.modules["forkcast_plugin"].__file__)
            return {"type": "findings", "findings": [{"title": "saw %d samples" % profile.count}]}


        sys.exit(serve(analyze, "sdk-user", "0.1.0"))

        """.write(to: folder.appendingPathComponent("main.py"), atomically: true, encoding: .utf8)
        let r = try Fixtures.run(try Fixtures.forkcastBinary(), ["plugins", "check", folder.path],
                                 environment: env(["XDG_CACHE_HOME": dir.appendingPathComponent("cache").path, "PYTHONPATH": "/nonexistent"]))
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("ok   sample analyzer request: 1 finding on the sample profile"), r.stdout)
        XCTAssertTrue(r.stderr.contains("[plugin sdk-user] sdk from \(dir.path)/cache/forkcast/sdk/"), r.stderr)
    }
}
