import Foundation
import XCTest
import ForkcastTestSupport

/// The seams of DESIGN.md, checked in the sources: no process is started and no output
/// file written outside ForkcastSystem's types (`Subprocess`, `AtomicFile`), and no line
/// reaches stderr except through the CLI's terminal layer. Files generated from assets/
/// (Python and JavaScript inside Swift strings) are skipped: their text is not Swift.
final class SeamsTests: XCTestCase {
    struct Rule {
        let what: String
        let patterns: [String]
        /// Folders (under Sources/) or files allowed to use the patterns.
        let allowed: [String]
    }

    static let rules = [
        Rule(what: "starts a process (use ForkcastSystem's Subprocess)",
             patterns: ["posix_spawn", "fork()", "vfork(", "execv", "execl", "Process()", "popen(", "system("],
             allowed: ["ForkcastSystem/", "CForkcastSys/"]),
        Rule(what: "writes a file (use ForkcastSystem's AtomicFile)",
             patterns: [".write(to:", "createFile(", "forWritingAtPath", "FileHandle(forWritingTo", "O_CREAT", "fopen("],
             allowed: ["ForkcastSystem/", "CForkcastSys/"]),
        Rule(what: "writes to stderr directly (use the CLI's Terminal)",
             patterns: ["FileHandle.standardError", "fputs(", "stderr)"],
             allowed: ["ForkcastCLI/Terminal.swift", "CForkcastSys/"]),
    ]

    func testNoProcessFileOrStderrOutsideItsOwner() throws {
        let sources = Fixtures.repositoryRoot.appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(atPath: sources.path)!.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") || $0.hasSuffix(".c") || $0.hasSuffix(".h") }
        XCTAssertGreaterThan(files.count, 50, "the sources were not found")
        var violations: [String] = []
        for file in files.sorted() {
            let text = try String(contentsOfFile: sources.appendingPathComponent(file).path, encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.trimmingCharacters(in: .whitespaces)
                if code.hasPrefix("//") || code.hasPrefix("///") || code.hasPrefix("*") { continue }
                for rule in Self.rules where !rule.allowed.contains(where: { file.hasPrefix($0) }) {
                    for pattern in rule.patterns where line.contains(pattern) {
                        violations.append("Sources/\(file):\(number + 1) \(rule.what): \(code)")
                    }
                }
            }
        }
        XCTAssertEqual(violations, [], violations.joined(separator: "\n"))
    }

    /// The check itself can fail: a line that starts a process is found.
    func testTheCheckFindsAViolation() {
        let line = "        let rc = posix_spawnp(&pid, program, &actions, &attr, argv, envp)"
        XCTAssertTrue(Self.rules[0].patterns.contains { line.contains($0) })
        XCTAssertFalse(Self.rules[0].allowed.contains { "ForkcastExperiment/ProcessRunner.swift".hasPrefix($0) })
    }
}
