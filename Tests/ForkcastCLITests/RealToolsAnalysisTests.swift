import ForkcastModel
import ForkcastTestSupport
import Foundation
import XCTest

/// Everyday tools from Debian's packages recorded as a new user would (`forkcast record --
/// TOOL …`, then `forkcast analyze --json`), each on a small generated input so the run ends
/// by itself in seconds. What must hold: the advice names the design the tool has, not a
/// change of model it cannot make.
final class RealToolsAnalysisTests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = Fixtures.scratch.appendingPathComponent("tools-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDown() {
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
    }

    func recordAndAnalyze(_ command: [String], name: String) throws -> Analysis {
        let out = scratch.appendingPathComponent("\(name).profile.json.gz").path
        let rec = try CLI.run(["record", "-q", "-o", out, "--duration", "60", "--"] + command)
        XCTAssertEqual(rec.status, 0, "record failed: \(rec.stderr)")
        let json = try CLI.run(["analyze", "--json", out])
        XCTAssertEqual(json.status, 0, "analyze failed: \(json.stderr)")
        let analysis = try Analysis.decode(Data(json.stdout.utf8))
        let r = analysis.recommendation
        print("CALIBRATION \(name): \(r?.strategy.rawValue ?? "none") × \(r?.workers ?? 0) confidence \(r?.confidence ?? 0) — "
              + (r?.reasons.map(\.text).joined(separator: " | ").prefix(400) ?? ""))
        return analysis
    }

    /// make -j2 compiling 16 small C files: make multiplexes on its jobserver pipe while two
    /// gcc jobs at a time run. Before: "keep" because make's pselect read as an event-driven
    /// server ("waits for connections and requests"); without that, "threads × 2" (the
    /// compilers are other programs, never threads of one process, and 16 worker processes
    /// in all read as processes × 16). Now: keep, processes × 2, no event-driven reason.
    func testMakeJ2IsKeptAsTwoCompilerProcessesNotAnEventDrivenServer() throws {
        guard let make = Fixtures.which("make"), let gcc = Fixtures.which("gcc") else { throw XCTSkip("make and gcc are not installed") }
        var objects: [String] = []
        for i in 1...16 {
            // Enough optimisation work that each compiler runs for a few ticks.
            var body = "int f\(i)(int x) { int s = 0; for (int i = 0; i < x; i++) s += i * \(i); return s; }\n"
            for j in 0..<40 { body += "static double g\(j)(double x) { return x * \(j).5 + (x > \(j) ? g\(j)(x - 1) : 0); }\n" }
            body += "double h\(i)(double x) { return " + (0..<40).map { "g\($0)(x)" }.joined(separator: " + ") + "; }\n"
            try body.write(to: scratch.appendingPathComponent("f\(i).c"), atomically: true, encoding: .utf8)
            objects.append("f\(i).o")
        }
        let makefile = "OBJS = \(objects.joined(separator: " "))\nall: $(OBJS)\n%.o: %.c\n\t\(gcc) -O2 -c $< -o $@\n"
        try makefile.write(to: scratch.appendingPathComponent("Makefile"), atomically: true, encoding: .utf8)

        let a = try recordAndAnalyze([make, "-s", "-C", scratch.path, "-j2"], name: "make-j2")
        XCTAssertFalse(a.findings.contains { $0.id == "design.event-driven" },
                       "make waiting for its own jobs is not a server: \(a.findings.map(\.title))")
        let r = try XCTUnwrap(a.recommendation)
        XCTAssertNotEqual(r.strategy, .threads, "compilers cannot become threads: \(r.reasons.map(\.text))")
        XCTAssertFalse(r.reasons.contains { $0.text.contains("connections and requests") }, "\(r.reasons.map(\.text))")
        if r.strategy == .keep {
            XCTAssertEqual(r.workers, 2, "make -j2 runs two jobs at a time: \(r.reasons.map(\.text))")
        } else {
            // Too few working samples on a loaded machine may leave it undecided; never a change.
            XCTAssertEqual(r.strategy, .undecided, "\(r.strategy): \(r.reasons.map(\.text))")
        }
    }
}
