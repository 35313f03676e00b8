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

    /// `python3 -m compileall -q -j 2` on copies of three standard-library packages (about a
    /// hundred files): a ProcessPoolExecutor whose tasks run in py_compile and importlib,
    /// called from compileall.py. Before: the workers' useful work was 0.0 s (the leaf Python
    /// frame was never compileall.py itself), so "Tasks too small for processes: useful
    /// work only 0% of their lifetime"; and on a loaded machine a task's time runnable
    /// without a CPU counted as waiting for the next task. Now the work is seen and counted.
    /// And on a loaded machine (about one run in ten) a worker starved of a CPU all its life —
    /// runnable inside its task, never caught blocked on the task queue — was not counted as
    /// a pool worker (1 of 2): the executor's worker loop on its stacks now makes it one
    /// (docs/analysis.md, "Pool workers"; PoolWorkerTests has that shape).
    func testCompileallWorkersDoUsefulWorkInTheMainModulesTasks() throws {
        let python = "/usr/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: python) else { throw XCTSkip("\(python) is not installed") }
        let version = try Fixtures.run(python, ["-c", "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let tree = scratch.appendingPathComponent("src")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        for package in ["email", "json", "xml"] {
            try FileManager.default.copyItem(atPath: "/usr/lib/python\(version)/\(package)", toPath: tree.appendingPathComponent(package).path)
        }
        _ = try Fixtures.run("/usr/bin/find", [tree.path, "-name", "__pycache__", "-prune", "-exec", "rm", "-rf", "{}", "+"])

        let a = try recordAndAnalyze([python, "-m", "compileall", "-q", "-j", "2", tree.path], name: "compileall-j2")
        let mp = try XCTUnwrap(a.multiprocessing)
        XCTAssertEqual(mp.poolWorkerProcesses, 2, "-j 2 starts two workers; seen: \(mp.poolWorkerPids) of \(mp.workerProcesses) children")
        XCTAssertGreaterThan(mp.workerComputeSeconds, 0, "compile_file's work in the workers is useful work")
        XCTAssertGreaterThanOrEqual(mp.workerBusyShare, 0.3, "the workers compiled (on a CPU or waiting for one) most of their life")
        let r = try XCTUnwrap(a.recommendation)
        XCTAssertFalse(r.reasons.contains { $0.text.hasPrefix("Tasks too small for processes") }, "\(r.reasons.map(\.text))")
    }

    /// `sh -c 'find … | xargs -P2 -n1 gzip …'` over 8 files of 2 MB: the shell starts a
    /// pipeline (find, xargs), xargs runs the gzip jobs two at a time. The runner is xargs,
    /// not sh: before, "run as other programs (2 × find, xargs started by sh)", and its
    /// count of two was the pipeline's, not xargs's -P2.
    func testXargsP2GzipIsKeptAsTwoGzipProcessesStartedByXargs() throws {
        guard let sh = Fixtures.which("sh"), Fixtures.which("xargs") != nil, Fixtures.which("gzip") != nil,
              Fixtures.which("find") != nil else { throw XCTSkip("sh, find, xargs or gzip is not installed") }
        let dir = scratch.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // Pseudo-random hex digits (xorshift): gzip works on them, text that does not compress to nothing.
        let hex = Array("0123456789abcdef".utf8)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var text = [UInt8](repeating: 0, count: 2_000_000)
        for k in text.indices {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            text[k] = hex[Int(state & 15)]
        }
        for i in 1...8 { try Data(text).write(to: dir.appendingPathComponent("f\(i)")) }
        let a = try recordAndAnalyze([sh, "-c", "find '\(dir.path)' -type f | xargs -P2 -n1 gzip -6 -c > /dev/null"], name: "xargs-P2-gzip")
        let r = try XCTUnwrap(a.recommendation)
        XCTAssertNotEqual(r.strategy, .threads, "gzip jobs cannot become threads: \(r.reasons.map(\.text))")
        if r.strategy == .keep {
            XCTAssertEqual(r.workers, 2, "xargs -P2 runs two at a time: \(r.reasons.map(\.text))")
            XCTAssertTrue(r.reasons.contains { $0.text.contains("8 × gzip started by xargs") }, "\(r.reasons.map(\.text))")
        } else {
            XCTAssertEqual(r.strategy, .undecided, "\(r.strategy): \(r.reasons.map(\.text))")
        }
    }
}
