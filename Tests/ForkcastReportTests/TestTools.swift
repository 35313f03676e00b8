import Foundation
import XCTest

/// Runs external consumers (python3, go, chromium) for the export and browser tests.
enum Tools {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The full path of an executable on PATH, or nil.
    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs a program to completion, its output captured through files (no pipe to fill).
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> Result {
        let dir = try tempDir()
        let out = dir.appendingPathComponent("stdout"), err = dir.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        if let environment { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        let o = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        let e = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: dir)
        return Result(status: p.terminationStatus, stdout: o, stderr: e)
    }

    static func tempDir() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("forkcast-report-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes data to a fresh temporary file with the given name.
    static func write(_ data: Data, name: String) throws -> URL {
        let url = try tempDir().appendingPathComponent(name)
        try data.write(to: url)
        return url
    }

    /// Runs a Python script given as text with arguments; fails the test on a non-zero exit.
    static func python(_ script: String, _ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        guard let python = which("python3") else { throw XCTSkip("python3 is not installed") }
        let url = try write(Data(script.utf8), name: "check.py")
        let r = try run(python, [url.path] + arguments)
        XCTAssertEqual(r.status, 0, "python check failed: \(r.stderr)\(r.stdout)", file: file, line: line)
        return r.stdout
    }

    /// The folder of this test target's source files (fixtures live beside them).
    static var testsDirectory: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent() }
}
