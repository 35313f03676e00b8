import Foundation

/// Fixture programs for integration tests: C sources under Tests/Fixtures/c compiled at
/// test time, Python scripts under Tests/Fixtures/python, and the built `forkcast`.
public enum Fixtures {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// The repository's root folder.
    public static let repositoryRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()

    public static let scratch: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("forkcast-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    private static let lock = NSLock()
    nonisolated(unsafe) private static var built: [String: String] = [:]

    /// Compiles Tests/Fixtures/c/NAME.c (once per test run) and returns the binary's path.
    public static func cProgram(_ name: String, flags: [String] = ["-O2", "-g", "-pthread"]) throws -> String {
        lock.lock()
        defer { lock.unlock() }
        let key = name + flags.joined()
        if let path = built[key] { return path }
        let source = repositoryRoot.appendingPathComponent("Tests/Fixtures/c/\(name).c").path
        let output = scratch.appendingPathComponent("\(name)-\(abs(key.hashValue))").path
        let result = try run("/usr/bin/cc", flags + ["-o", output, source])
        guard result.status == 0 else { throw Failure(description: "cc \(name).c failed: \(result.stderr)") }
        built[key] = output
        return output
    }

    public static func pythonScript(_ name: String) -> String {
        repositoryRoot.appendingPathComponent("Tests/Fixtures/python/\(name)").path
    }

    /// The real CPython binaries on this machine (not pyenv's shell shim).
    public static var pythonInterpreters: [String] {
        var found: [String] = []
        let pyenv = ProcessInfo.processInfo.environment["HOME", default: "/root"] + "/.pyenv/versions"
        if let versions = try? FileManager.default.contentsOfDirectory(atPath: pyenv) {
            for v in versions.sorted() where v.hasPrefix("3.11") {
                let p = "\(pyenv)/\(v)/bin/python3.11"
                if FileManager.default.isExecutableFile(atPath: p) { found.append(p) }
            }
        }
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/python3.11") { found.append("/usr/bin/python3.11") }
        return found
    }

    public static var python: String { pythonInterpreters.first ?? "/usr/bin/python3" }

    /// The `forkcast` executable built next to the test bundle.
    public static func forkcastBinary() throws -> String {
        var candidates: [URL] = []
        let arg0 = URL(fileURLWithPath: CommandLine.arguments[0])
        candidates.append(arg0.deletingLastPathComponent())
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
        for bundle in Bundle.allBundles { candidates.append(bundle.bundleURL.deletingLastPathComponent()) }
        candidates.append(repositoryRoot.appendingPathComponent(".build/debug"))
        for dir in candidates {
            var d = dir
            for _ in 0..<4 {
                let p = d.appendingPathComponent("forkcast").path
                if FileManager.default.isExecutableFile(atPath: p) { return p }
                d.deleteLastPathComponent()
            }
        }
        throw Failure(description: "the forkcast executable is not built (run `swift build` first)")
    }

    public struct RunResult {
        public var status: Int32
        public var stdout: String
        public var stderr: String

        public init(status: Int32, stdout: String, stderr: String) {
            self.status = status
            self.stdout = stdout
            self.stderr = stderr
        }
    }

    /// Runs a program to completion, capturing its output. Output goes through files, not
    /// pipes: nothing to drain concurrently, and a grandchild that keeps the descriptors
    /// open cannot hold the test. `environment` replaces the environment when given;
    /// `status` is the exit code, or 128 + the signal that killed it.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                           currentDirectory: String? = nil) throws -> RunResult {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("forkcast-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let outURL = dir.appendingPathComponent("stdout"), errURL = dir.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try? out.close()
        try? err.close()
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return RunResult(status: status, stdout: String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self),
                         stderr: String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self))
    }

    /// The full path of an executable on PATH, or nil.
    public static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
