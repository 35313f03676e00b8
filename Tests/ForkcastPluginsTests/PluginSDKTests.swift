import ForkcastTestSupport
import Foundation
import XCTest
@testable import ForkcastPlugins
import ForkcastAssets

/// The plugin SDK: one file (assets/sdk/forkcast_plugin.py) embedded in forkcast, written
/// to a cache folder and put on every external plugin's PYTHONPATH. (What the binary does
/// with it — `plugins sdk-path`, a plugin importing it — is Tests/ForkcastCLITests/PluginSDKCLITests.)
final class PluginSDKTests: ScratchTestCase {
    /// No user cache folder unless the test names one.
    func env(_ extra: [String: String]) -> [String: String] {
        environment(["XDG_CACHE_HOME": nil].merging(extra.mapValues { $0 }) { $1 })
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
