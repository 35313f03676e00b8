import Foundation
import XCTest

/// Linters for the non-Swift sources under assets/ and plugins/: each returns the
/// linter's complaints (empty when clean) and skips only when the tool is not installed
/// (scripts/setup.sh --test installs them).
public enum Linters {
    /// `python3 -m py_compile` then `pyflakes3` on the given files.
    public static func python(_ files: [String]) throws -> [String] {
        var complaints: [String] = []
        let compiled = try Fixtures.run("/usr/bin/env", ["python3", "-m", "py_compile"] + files)
        if compiled.status != 0 { complaints.append("py_compile: \(compiled.stderr)") }
        guard let pyflakes = which("pyflakes3") else {
            throw XCTSkip("pyflakes3 is not installed: run scripts/setup.sh --test (apt package python3-pyflakes)")
        }
        let flakes = try Fixtures.run(pyflakes, files)
        if flakes.status != 0 { complaints.append("pyflakes: \(flakes.stdout)\(flakes.stderr)") }
        return complaints
    }

    /// `node --check` on each JavaScript file (a syntax check).
    public static func javaScript(_ files: [String]) throws -> [String] {
        guard let node = which("node") ?? which("nodejs") else {
            throw XCTSkip("node is not installed: run scripts/setup.sh --test (apt package nodejs)")
        }
        var complaints: [String] = []
        for file in files {
            let r = try Fixtures.run(node, ["--check", file])
            if r.status != 0 { complaints.append("node --check \(file): \(r.stderr)") }
        }
        return complaints
    }

    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
            return "\(dir)/\(name)"
        }
        return nil
    }
}
