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

    /// The same seam in the tests: a test starts a process only through ForkcastTestSupport
    /// (`Fixtures.run`, `CLI.run`, `BackgroundProgram`, `RealServers`), so there is one
    /// way to run a program, wait for it and kill it.
    func testTestsStartProcessesOnlyThroughTestSupport() throws {
        let tests = Fixtures.repositoryRoot.appendingPathComponent("Tests")
        let files = FileManager.default.enumerator(atPath: tests.path)!.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") && !$0.hasPrefix("ForkcastTestSupport/") }
        XCTAssertGreaterThan(files.count, 50, "the tests were not found")
        var violations: [String] = []
        for file in files.sorted() where file != "ForkcastCLITests/SeamsTests.swift" {
            let text = try String(contentsOfFile: tests.appendingPathComponent(file).path, encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.trimmingCharacters(in: .whitespaces)
                if code.hasPrefix("//") { continue }
                for pattern in [" Process()", ".Process()", "posix_spawn", " fork()", "popen("] where line.contains(pattern) {
                    violations.append("Tests/\(file):\(number + 1) starts a process (use ForkcastTestSupport): \(code)")
                }
            }
        }
        XCTAssertEqual(violations, [], violations.joined(separator: "\n"))
    }

    /// Package.swift lists for each test target exactly the modules its files import, so
    /// the manifest shows what each target tests.
    func testTestTargetsDependOnExactlyWhatTheyImport() throws {
        let manifest = try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("Package.swift"), encoding: .utf8)
        let declared = try NSRegularExpression(pattern: #"\.(?:testTarget|target)\(name: "(Forkcast[A-Za-z]*Tests|ForkcastTestSupport)", dependencies: \[([^\]]*)\]"#)
        let ns = manifest as NSString
        var checked = 0
        for match in declared.matches(in: manifest, range: NSRange(location: 0, length: ns.length)) {
            let name = ns.substring(with: match.range(at: 1))
            let dependencies = Set(ns.substring(with: match.range(at: 2)).split(separator: ",")
                .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \"\n")) })
            let folder = Fixtures.repositoryRoot.appendingPathComponent("Tests/\(name)")
            var imports: Set<String> = []
            for file in FileManager.default.enumerator(atPath: folder.path)!.compactMap({ $0 as? String }) where file.hasSuffix(".swift") {
                let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
                for line in text.split(separator: "\n") {
                    let words = line.split(separator: " ")
                    guard let i = words.firstIndex(of: "import"), i == 0 || words[0] == "@testable", i + 1 < words.count,
                          words[i + 1].hasPrefix("Forkcast") else { continue }
                    imports.insert(String(words[i + 1]))
                }
            }
            XCTAssertEqual(dependencies, imports, "Package.swift's dependencies of \(name) against what its files import")
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 10, "the test targets were not found in Package.swift")
    }

    /// The check itself can fail: a line that starts a process is found.
    func testTheCheckFindsAViolation() {
        let line = "        let rc = posix_spawnp(&pid, program, &actions, &attr, argv, envp)"
        XCTAssertTrue(Self.rules[0].patterns.contains { line.contains($0) })
        XCTAssertFalse(Self.rules[0].allowed.contains { "ForkcastExperiment/ProcessRunner.swift".hasPrefix($0) })
    }
}
