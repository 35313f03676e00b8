import Foundation
import XCTest
import ForkcastModel
import ForkcastTestSupport

/// Runs the built `forkcast experiment`: the one-line errors for bad input and a small
/// end-to-end experiment from the command line.
final class ExperimentCLITests: XCTestCase {
    static let examples = Fixtures.repositoryRoot.appendingPathComponent("examples/experiment")

    private var dir: URL!

    override func setUpWithError() throws {
        _ = try CLI.binary()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("fc-cli-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    /// `forkcast experiment -o DIR ARGS…`, its stderr as lines.
    private func forkcast(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: [String]) {
        let r = try CLI.run(["experiment", "-o", dir.path] + args)
        return (r.status, r.stdout, r.stderr.split(separator: "\n").map(String.init))
    }

    func testUnknownStrategy() throws {
        let r = try forkcast(["--strategies", "serial,fibers", "--", "prog", "{strategy}"])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr, ["forkcast: error: unknown strategy \"fibers\" (known: serial, threads, processes, hybrid, interpreters)"])
    }

    func testWorkersWithoutStrategyToVary() throws {
        let r = try forkcast(["--", "prog", "-j", "{workers}"])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr.count, 1)
        XCTAssertTrue(r.stderr[0].hasPrefix("forkcast: error: the command has {workers} but no {strategy}"), r.stderr[0])
    }

    func testCommandThatCannotStart() throws {
        let r = try forkcast(["--strategies", "serial,threads", "--workers", "1", "--no-record", "--", "/no/such/prog", "{strategy}"])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr.last, "forkcast: error: cannot start \"/no/such/prog\": No such file or directory")
    }

    func testHangingRunTimesOutAndResultsAreKept() throws {
        let r = try forkcast(["--strategies", "serial", "--repeat", "1", "--warmup", "0", "--timeout", "0.3", "--no-record",
                              "--", "/bin/sh", "-c", "sleep 20 # {strategy}"])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr.last, "forkcast: error: no strategy can be recommended: 1 of 1 runs timed out (timed out after 300 ms; the process group was killed)")
        let data = try Data(contentsOf: dir.appendingPathComponent("experiment.json"))
        let result = try JSONDecoder().decode(ExperimentResult.self, from: data)
        XCTAssertEqual(result.runs.map(\.outcome), [.timedOut])
    }

    func testWorkloadFileWithErrors() throws {
        let file = dir.appendingPathComponent("bad.yml")
        try "command: ./app {strategy}\nworkers: [1, 2]\nstrategies: [serial, green-threads]\n".write(to: file, atomically: true, encoding: .utf8)
        let r = try forkcast([file.path])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr, ["forkcast: error: \(file.path):3: unknown strategy \"green-threads\" (known: serial, threads, processes, hybrid, interpreters)"])
    }

    func testEndToEndFromTheCommandLine() throws {
        let script = Self.examples.appendingPathComponent("io_sleep.py").path
        let r = try forkcast(["--no-record", "--repeat", "2", "--warmup", "0", "--workers", "1,2", "--strategies", "serial,threads",
                              "--check-output", "--json", "-", "--", "python3", script, "--tasks", "8", "--sleep", "0.1", "--strategy", "{strategy}", "--workers", "{workers}"])
        XCTAssertEqual(r.status, 0, r.stderr.joined(separator: "\n"))
        let result = try JSONDecoder().decode(ExperimentResult.self, from: Data(r.stdout.utf8))
        XCTAssertEqual(result.recommendation?.strategy, .threads, "\(result.recommendation?.reasons.map(\.text) ?? [])")
        // Sleeping work: worker counts are extended upward while threads keep gaining.
        XCTAssertGreaterThanOrEqual(result.recommendation?.workers ?? 0, 4, r.stderr.joined(separator: "\n"))
        XCTAssertTrue(r.stderr.contains { $0.contains("the work waits, so trying ×4") }, r.stderr.joined(separator: "\n"))
        XCTAssertGreaterThan(result.roundsAdded ?? 0, 0)
        XCTAssertEqual(r.stderr.filter { $0.contains("] ") }.count, result.runs.count, "one progress line per run when stderr is not a terminal")

        // The JSON matches its published schema (jsonschema is installed by scripts/setup.sh --test).
        let schema = Fixtures.repositoryRoot.appendingPathComponent("docs/experiment-format.schema.json")
        let doc = dir.appendingPathComponent("experiment.json")
        let check = try Fixtures.run("/usr/bin/env", ["python3", "-c", "import json, sys, jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))",
                                                      doc.path, schema.path])
        XCTAssertEqual(check.status, 0, "experiment.json does not match docs/experiment-format.schema.json: \(check.stderr)")
    }

    func testWorkloadFileWithPerStrategyCommandsSetupAndCheck() throws {
        let file = dir.appendingPathComponent("w.yml")
        try """
        strategies:
          serial: sh -c 'sleep 0.3; echo 42'
          threads: sh -c 'sleep 0.1; echo 42; echo took 0.1s'
        repeat: 2
        warmup: 0
        setup: echo up > "$FC_MARK"
        teardown: echo down >> "$FC_MARK"
        env:
          FC_MARK: \(dir.appendingPathComponent("mark").path)
        check:
          ignore: ["^took "]
        record: false
        """.write(to: file, atomically: true, encoding: .utf8)
        let r = try forkcast([file.path, "--json", "-"])
        XCTAssertEqual(r.status, 0, r.stderr.joined(separator: "\n"))
        let result = try JSONDecoder().decode(ExperimentResult.self, from: Data(r.stdout.utf8))
        XCTAssertEqual(result.setup?.strategyPlugin, "per-strategy-command")
        XCTAssertEqual(result.summary.map(\.workers), [1, 1], "without {workers} each strategy runs once per round")
        XCTAssertEqual(result.recommendation?.strategy, .threads)
        XCTAssertTrue(result.runs.allSatisfy { $0.outputMatchesBaseline == true })
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("mark"), encoding: .utf8), "up\ndown\n")
    }
}
