import Foundation
import XCTest
import ForkcastExperiment
import ForkcastTestSupport

/// The workload-file parser (`WorkloadFile.parse`, YAML through Yams) on hostile input.
/// libFuzzer cannot reach it without building Yams' C sources by hand, so this is a
/// seeded property loop: mutations of the seeds in fuzz/seeds/workload must parse or
/// throw an `ExperimentError` of one line. Inputs that crash the process (fuzz/regressions/
/// workload) are replayed through the `forkcast experiment` executable instead, so a
/// crash fails one test rather than killing the test run.
final class WorkloadFileHardeningTests: XCTestCase {
    static let fuzzRoot = Fixtures.repositoryRoot.appendingPathComponent("fuzz")

    func files(_ folder: String) -> [URL] {
        let dir = Self.fuzzRoot.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.sorted().filter { !$0.hasPrefix(".") }.map { dir.appendingPathComponent($0) }
    }

    func check(_ text: String, _ label: String) {
        do {
            _ = try WorkloadFile.parse(text, name: "w.yml", directory: "/tmp")
        } catch let error as ExperimentError {
            XCTAssertFalse(error.description.contains("\n"), "\(label): multi-line error: \(error.description.debugDescription)")
        } catch {
            XCTFail("\(label): WorkloadFile.parse threw a non-ExperimentError: \(error)")
        }
    }

    func testSeedsParse() throws {
        let seeds = files("seeds/workload")
        XCTAssertGreaterThanOrEqual(seeds.count, 2)
        for url in seeds {
            XCTAssertNoThrow(try WorkloadFile.parse(String(contentsOf: url, encoding: .utf8), name: url.lastPathComponent), url.path)
        }
    }

    func testMutatedWorkloadFilesNeverCrash() throws {
        let seeds = try files("seeds/workload").map { try String(contentsOf: $0, encoding: .utf8) }
        let tokens = ["[", "]", "{", "}", ": ", "- ", "&a ", "*a", "<<: *a", "!!binary ", "!!float ", "\t", "\"", "'", "\n  ", "\n- ",
                      "{workers}", "{strategy}", "99999999999999999999", "-1", ".inf", ".nan", "~", "null", "? ", "|", ">-", "#",
                      "\u{0}", "\u{1b}[2J", "\u{FEFF}", "%YAML 1.1\n", "---\n", "...\n", "\\", "é", "\u{10FFFF}"]
        var rng = SplitMix(seed: 0x77)
        for round in 0..<4000 {
            var bytes = Array(seeds[round % seeds.count].utf8)
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let at = bytes.isEmpty ? 0 : Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 4 {
                case 0: bytes.insert(contentsOf: Array(tokens[Int(rng.next() % UInt64(tokens.count))].utf8), at: at)
                case 1: if !bytes.isEmpty { bytes[at] = UInt8(truncatingIfNeeded: rng.next()) }
                case 2: bytes = Array(bytes.prefix(at))
                default: if !bytes.isEmpty { bytes.remove(at: at) }
                }
            }
            check(String(decoding: bytes, as: UTF8.self), "mutation \(round)")
        }
    }

    /// Anchors and aliases that would expand to 10^7 nodes ("billion laughs"): refused or
    /// read without expanding them, quickly.
    func testAliasExpansionIsCheap() {
        var text = "command: [&a0 [x,x,x,x,x,x,x,x,x,x]"
        for i in 1..<8 { text += ", &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ",") + "]" }
        text += "]\n"
        let started = Date()
        check(text, "billion laughs")
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
    }

    /// Every file in fuzz/regressions/workload through `forkcast experiment FILE`: one
    /// error line and exit status 2, never a crash.
    func testRegressionsThroughTheCLI() throws {
        let forkcast = try Fixtures.forkcastBinary()
        let regressions = files("regressions/workload")
        XCTAssertFalse(regressions.isEmpty)
        for url in regressions {
            let r = try Fixtures.run(forkcast, ["experiment", url.path])
            XCTAssertEqual(r.status, 2, "\(url.lastPathComponent): exit \(r.status) (139 = crashed): \(r.stderr.prefix(300))")
            let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: true)
            XCTAssertEqual(lines.count, 1, "\(url.lastPathComponent): \(r.stderr.prefix(300))")
        }
    }
}
