import ForkcastTestSupport
import Foundation
import XCTest
@testable import ForkcastPlugins
import ForkcastAssets

/// The plugin SDK: one file (assets/sdk/forkcast_plugin.py) embedded in forkcast, written
/// to a cache folder and put on every external plugin's PYTHONPATH. (What the binary does
/// with it — `plugins sdk-path`, a plugin importing it — is Tests/ForkcastCLITests/PluginSDKCLITests.)
final class PluginSDKTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = Fixtures.scratch.appendingPathComponent("sdk-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func env(_ extra: [String: String]) -> [String: String] {
        var env = Foundation.ProcessInfo.processInfo.environment
        env["XDG_CACHE_HOME"] = nil
        env["HOME"] = dir.appendingPathComponent("home").path
        for (k, v) in extra { env[k] = v }
        return env
    }

    /// A cache folder that cannot be written (here: under a regular file, which stops
    /// root too) falls back to the temp folder; a damaged SDK file is rewritten.
    func testFallsBackToTheTempFolderAndRepairsTheFile() throws {
        let notAFolder = dir.appendingPathComponent("file")
        try Data("x".utf8).write(to: notAFolder)
        let tmp = dir.appendingPathComponent("tmp").path
        let folder = try PluginSDK.folder(environment: env(["XDG_CACHE_HOME": notAFolder.path, "TMPDIR": tmp]))
        XCTAssertTrue(folder.hasPrefix("\(tmp)/forkcast-sdk-\(getuid())/"), folder)
        let file = URL(fileURLWithPath: folder).appendingPathComponent(PluginSDK.fileName)
        XCTAssertEqual(try Data(contentsOf: file), Data(Assets.pluginSDK.utf8))
        try Data("broken".utf8).write(to: file)
        try PluginSDK.install(in: folder)
        XCTAssertEqual(try Data(contentsOf: file), Data(Assets.pluginSDK.utf8))

        let nowhere = env(["XDG_CACHE_HOME": notAFolder.path, "TMPDIR": notAFolder.path, "HOME": notAFolder.path])
        XCTAssertThrowsError(try PluginSDK.folder(environment: nowhere)) { error in
            XCTAssertTrue("\(error)".hasPrefix("cannot write the plugin SDK ("), "\(error)")
        }
    }

    func testPythonPathPutsTheSDKFirstOnce() {
        XCTAssertEqual(PluginSDK.pythonPath(nil, sdk: "/s"), "/s")
        XCTAssertEqual(PluginSDK.pythonPath("", sdk: "/s"), "/s")
        XCTAssertEqual(PluginSDK.pythonPath("/a::/s:/b", sdk: "/s"), "/s:/a:/b")
    }
}
