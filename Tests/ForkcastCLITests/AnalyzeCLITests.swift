import ForkcastModel
import ForkcastTestSupport
import Foundation
import XCTest

/// `forkcast analyze` as a user runs it: the built binary on files. Bad input must give one
/// clear line on stderr and a non-zero exit, never a crash.
final class AnalyzeCLITests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("forkcast-analyze-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func write(_ name: String, _ data: Data) throws -> String {
        let url = dir.appendingPathComponent(name)
        try data.write(to: url)
        return url.path
    }

    func testMissingFile() throws {
        let r = try CLI.run(["analyze", dir.appendingPathComponent("nope.json").path])
        r.assertOneLineError(containing: "no such file")
    }

    func testDirectory() throws {
        let r = try CLI.run(["analyze", dir.path])
        r.assertOneLineError(containing: "is a directory")
    }

    func testEmptyFile() throws {
        let r = try CLI.run(["analyze", try write("empty.json", Data())])
        r.assertOneLineError(containing: "empty")
    }

    func testNotJSON() throws {
        let r = try CLI.run(["analyze", try write("text.json", Data("hello, world\n".utf8))])
        r.assertOneLineError(containing: "not a Forkcast profile")
    }

    func testTruncatedProfile() throws {
        let full = try SyntheticProfiles.mutexContention(ticks: 50).encoded(gzip: false)
        let r = try CLI.run(["analyze", try write("cut.json", full.prefix(full.count / 2))])
        r.assertOneLineError(containing: "corrupt profile")
    }

    func testTruncatedGzipProfile() throws {
        let full = try SyntheticProfiles.mutexContention(ticks: 50).encoded(gzip: true)
        let r = try CLI.run(["analyze", try write("cut.json.gz", full.prefix(full.count - 20))])
        r.assertOneLineError(containing: "corrupt profile")
    }

    func testWrongVersion() throws {
        let full = try SyntheticProfiles.mutexContention(ticks: 10).encoded(gzip: false)
        let text = String(decoding: full, as: UTF8.self).replacingOccurrences(of: "\"format_version\":\(Profile.currentFormatVersion)", with: "\"format_version\":99")
        XCTAssertNotEqual(text, String(decoding: full, as: UTF8.self))
        let r = try CLI.run(["analyze", try write("v99.json", Data(text.utf8))])
        r.assertOneLineError(containing: "profile format version 99")
    }

    func testDanglingReference() throws {
        var p = SyntheticProfiles.mutexContention(ticks: 10)
        let good = try p.encoded(gzip: false)
        p.stacks.removeAll()
        // Bypass validate() on write: encode directly.
        let bad = try JSONEncoder().encode(p)
        XCTAssertNotEqual(good, bad)
        let r = try CLI.run(["analyze", try write("dangling.json", bad)])
        r.assertOneLineError(containing: "invalid profile")
    }

    func testSummaryAndJSON() throws {
        let path = try write("mutex.json.gz", SyntheticProfiles.mutexContention().encoded(gzip: true))
        let text = try CLI.run(["analyze", path])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("Recommendation: serial"), text.stdout)
        XCTAssertTrue(text.stdout.contains("Fix this lock first"), text.stdout)
        XCTAssertFalse(text.stdout.contains("\u{1B}["), "no colors when stdout is not a terminal")
        let json = try CLI.run(["analyze", "--json", path])
        XCTAssertEqual(json.status, 0, json.stderr)
        let a = try Analysis.decode(Data(json.stdout.utf8))
        XCTAssertEqual(a.recommendation?.strategy, .serial)
        XCTAssertEqual(a.threads.count, 4)
    }
}

// `CLI` (runs the built forkcast binary) lives in ForkcastTestSupport/Processes.swift.
