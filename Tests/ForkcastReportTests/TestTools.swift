import Foundation
import ForkcastTestSupport

// `Tools` (running python3, go, chromium) lives in ForkcastTestSupport/Processes.swift.

extension Tools {
    /// The folder of this test target's source files (fixtures live beside them).
    static var testsDirectory: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent() }
}
