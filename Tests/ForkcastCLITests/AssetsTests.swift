import Foundation
import XCTest
import ForkcastTestSupport

/// The files under assets/ are embedded by the build (the ForkcastAssets target's
/// `.embedInCode` resources), so there is one copy of each: this fails when a copy of one
/// shows up in a Swift source again (such as the generated files that used to carry them).
final class AssetsTests: XCTestCase {
    func testEachAssetHasOneCopy() throws {
        let root = Fixtures.repositoryRoot
        let assets = ["report/report.js", "report/report.css", "swap/forkcast_swap.py", "swap/sitecustomize.py", "sdk/forkcast_plugin.py"]
        // A distinctive stretch of each file: six lines from its middle (past any header).
        let needles = try assets.map { name -> (String, String) in
            let text = try String(contentsOf: root.appendingPathComponent("assets/\(name)"), encoding: .utf8)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            XCTAssertGreaterThan(lines.count, 10, name)
            return (name, lines[lines.count / 2..<lines.count / 2 + 6].joined(separator: "\n"))
        }
        var copies: [String] = []
        for folder in ["Sources", "Tests", "plugins"] {
            let base = root.appendingPathComponent(folder)
            for case let path as String in FileManager.default.enumerator(atPath: base.path)! where path.hasSuffix(".swift") || path.hasSuffix(".py") {
                guard let text = try? String(contentsOf: base.appendingPathComponent(path), encoding: .utf8) else { continue }
                for (name, needle) in needles where text.contains(needle) {
                    copies.append("\(folder)/\(path) carries a copy of assets/\(name)")
                }
            }
        }
        XCTAssertEqual(copies, [], "delete the copies: the build embeds assets/ (see assets/README.md)\n" + copies.joined(separator: "\n"))
    }
}
