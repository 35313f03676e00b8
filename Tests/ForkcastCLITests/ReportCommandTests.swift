import Foundation
import XCTest
import ForkcastModel
import ForkcastTestSupport

/// `forkcast report` end to end through the built executable: every format, and one
/// clear line with a non-zero exit for each kind of bad input.
final class ReportCommandTests: XCTestCase {
    func report(_ args: [String], in dir: URL) throws -> CLI.Result {
        try CLI.run(["report"] + args, currentDirectory: dir.path)
    }

    func testEveryFormatIsWrittenAndItsPathPrinted() throws {
        let dir = try Tools.tempDir()
        try SyntheticProfiles.mutexContention(ticks: 100).encoded(gzip: true).write(to: dir.appendingPathComponent("m.profile.json.gz"))
        for format in ["html", "json", "speedscope", "folded", "chrome", "pprof"] {
            let r = try report(["m.profile.json.gz", "--format", format], in: dir)
            XCTAssertEqual(r.status, 0, r.stderr)
            let path = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            XCTAssertTrue(path.hasPrefix("reports/mutex_fixture-"), path)
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent(path).path), path)
            if format == "json" {
                // A profile given alone is analyzed: the report carries the analysis's lock table.
                let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent(path))) as? [String: Any]
                let locks = (doc?["analysis"] as? [String: Any])?["locks"] as? [[String: Any]]
                XCTAssertEqual(locks?.isEmpty, false, "the mutex fixture's lock is in the report")
            }
        }
        let r = try report(["m.profile.json.gz", "--format", "folded", "--per-state", "-o", "m.folded"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "m.lock_wait.folded\nm.sleep.folded\n")
    }

    func testAnExperimentBringsTheProfileItRecordedForItsRecommendation() throws {
        let dir = try Tools.tempDir()
        let expDir = dir.appendingPathComponent("experiment-1")
        try FileManager.default.createDirectory(at: expDir, withIntermediateDirectories: true)
        let profile = SyntheticProfiles.pythonWorkers(ticks: 50)
        try profile.encoded(gzip: true).write(to: expDir.appendingPathComponent("processes-4.profile.json.gz"))
        var experiment = SyntheticProfiles.sampleExperiment()
        let i = try XCTUnwrap(experiment.runs.firstIndex { $0.strategy == "processes" && $0.workers == 4 })
        // Written relative to where the experiment ran; found beside experiment.json.
        experiment.runs[i].profilePath = "reports/elsewhere/processes-4.profile.json.gz"
        try JSONEncoder().encode(experiment).write(to: expDir.appendingPathComponent("experiment.json"))
        let r = try report(["experiment-1/experiment.json", "--format", "json", "-o", "r.json"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("r.json"))) as? [String: Any])
        XCTAssertEqual((doc["recording"] as? [String: Any])?["samples"] as? Int, profile.samples.count)
        XCTAssertNotNil(doc["analysis"] as? [String: Any])
        XCTAssertNotNil(doc["experiment"] as? [String: Any])
    }

    func testBadInputsGetOneClearLineAndANonZeroExit() throws {
        let dir = try Tools.tempDir()
        let profile = try SyntheticProfiles.mutexContention(ticks: 50).encoded(gzip: false)
        try profile.write(to: dir.appendingPathComponent("ok.json"))
        try profile.prefix(profile.count / 2).write(to: dir.appendingPathComponent("truncated.json"))
        try Data("{\"format\": \"something-else\"}".utf8).write(to: dir.appendingPathComponent("other.json"))
        try Data("[1,2,3]".utf8).write(to: dir.appendingPathComponent("array.json"))
        try Data([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02]).write(to: dir.appendingPathComponent("bad.gz"))
        try Data().write(to: dir.appendingPathComponent("empty.json"))
        let experiment = try JSONEncoder().encode(SyntheticProfiles.sampleExperiment())
        try experiment.prefix(experiment.count / 2).write(to: dir.appendingPathComponent("truncated-exp.json"))
        try Data("root:x:0:0:root:/root:/bin/sh\n".utf8).write(to: dir.appendingPathComponent("notjson.txt"))
        let cases: [([String], String)] = [
            (["missing.json"], "forkcast: error: missing.json: no such file"),
            (["truncated.json"], "forkcast: error: truncated.json: corrupt profile: the JSON ends early, after \(profile.count / 2) bytes (the file is truncated)"),
            (["truncated-exp.json"], "forkcast: error: truncated-exp.json: not a Forkcast profile or experiment (the JSON is damaged or truncated)"),
            (["notjson.txt"], "forkcast: error: notjson.txt: not a Forkcast profile or experiment (not JSON)"),
            (["ok.json", "-o", "/proc/forkcast-report.html"], "forkcast: error: cannot write the report to /proc/forkcast-report.html: no such file or directory"),
            (["other.json"], "forkcast: error: other.json: is a \"something-else\" file, not a Forkcast profile or experiment"),
            (["array.json"], "forkcast: error: array.json: not a Forkcast profile or experiment (the JSON is not an object)"),
            (["bad.gz"], "forkcast: error: bad.gz: corrupt gzip data"),
            (["empty.json"], "forkcast: error: empty.json: the file is empty"),
            (["ok.json", "-o", "/nonexistent-forkcast/r.html"],
             "forkcast: error: cannot write the report to /nonexistent-forkcast/r.html: the directory /nonexistent-forkcast does not exist"),
            (["ok.json", "-o", "."], "forkcast: error: cannot write the report to .: it is a directory"),
            (["ok.json", "ok.json"], "forkcast: error: ok.json: a second profile; give at most one"),
        ]
        for (args, expected) in cases {
            let r = try report(args, in: dir)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertEqual(r.stderr, expected + "\n", "\(args)")
            XCTAssertEqual(r.stdout, "", "\(args)")
        }
        // An experiment result has no profile: the profile formats say so.
        let encoder = JSONEncoder()
        try encoder.encode(SyntheticProfiles.sampleExperiment()).write(to: dir.appendingPathComponent("exp.json"))
        let r = try report(["exp.json", "--format", "pprof"], in: dir)
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr, "forkcast: error: the pprof format needs a recorded profile, and the input has none (give a profile file)\n")
        XCTAssertEqual(try report(["exp.json", "-o", "e.html"], in: dir).status, 0)
    }
}
