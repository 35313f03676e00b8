import Foundation
import XCTest

/// A test case with a scratch folder of its own, `dir` (under `Fixtures.scratch`), made
/// before each test and removed after it; `environment(_:)` is this process's
/// environment with HOME in that folder (so no user plugins, caches or settings leak in)
/// and the given variables set (a nil value removes one).
open class ScratchTestCase: XCTestCase {
    public var dir: URL!

    open override func setUpWithError() throws {
        try super.setUpWithError()
        dir = Fixtures.scratch.appendingPathComponent("\(type(of: self))-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    open override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
        try super.tearDownWithError()
    }

    public func environment(_ extra: [String: String?]) -> [String: String] {
        var env = Foundation.ProcessInfo.processInfo.environment
        env["HOME"] = dir.appendingPathComponent("home").path
        for (k, v) in extra { env[k] = v }
        return env
    }
}
