import ForkcastCLI
import ForkcastModel
import ForkcastTestSupport
import Foundation
import XCTest

/// Other programs on the machine (docs/analysis.md, "Other programs on the machine"): CPU
/// starvation the program causes itself told from starvation by programs outside the
/// recorded tree, from the machine's own figures (`recording.machine`, /proc/stat).
/// Fixture: Tests/Fixtures/c/cpu_threads.c (CPU-bound threads; the same loop as a burner).
final class ExternalLoadCLITests: XCTestCase {
    static func loadAverage() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
    }

    func record(_ program: String, _ args: [String], name: String) throws -> (Profile, Analysis) {
        let out = Fixtures.scratch.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(8)).profile.json.gz").path
        let rec = try CLI.run(["record", "-q", "-o", out, "--", program] + args)
        XCTAssertEqual(rec.status, 0, rec.stderr)
        let profile = try Profile.decode(Data(contentsOf: URL(fileURLWithPath: out)))
        let json = try CLI.run(["analyze", "--json", out])
        XCTAssertEqual(json.status, 0, json.stderr)
        // The machine's record and its analysis as documented (docs/*.schema.json).
        let root = Fixtures.repositoryRoot
        for (document, schema) in [(try profile.encoded(gzip: false), "docs/profile.schema.json"), (Data(json.stdout.utf8), "docs/analysis.schema.json")] {
            if case .checked(let problems) = try JSONSchemaCheck.validate([document], schema: root.appendingPathComponent(schema)),
               let problem = problems.first ?? nil {
                XCTFail("\(name) does not match \(schema): \(problem)")
            }
        }
        return (profile, try Analysis.decode(Data(json.stdout.utf8)))
    }

    /// Two CPU-bound threads on a machine whose cores three burner processes (outside the
    /// recorded tree, started here, ending by themselves) keep busy: the starvation is the
    /// machine's. Named as such, with the figure; no advice of fewer workers.
    func testBurnersOutsideTheRecordingAreExternalLoad() throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        guard cores <= 4 else { throw XCTSkip("\(cores) cores: three burners would not fill them") }
        let program = try Fixtures.cProgram("cpu_threads")
        let burners = try (0..<(cores + 1)).map { _ in try BackgroundProgram([program, "burn", "12"]) }
        defer { burners.forEach { $0.stop() } }
        usleep(300_000)
        let (profile, a) = try record(program, ["2", "3"], name: "cpu2-burners")
        let machine = try XCTUnwrap(profile.recording.machine, "the recorder writes the machine's record")
        XCTAssertGreaterThan(machine.samples.count, 10, "read about every 100 ms over 3 s")
        let m = try XCTUnwrap(a.machine)
        let r = try XCTUnwrap(a.recommendation)
        print("EXTERNAL-LOAD cpu_threads 2 + \(cores + 1) burners (load \(Self.loadAverage())): others \(Text2.f(m.otherCores)) of \(m.cores) cores, "
              + "program \(Text2.f(m.programCores)), runnable \(Text2.f(m.runnableShare)), external \(Text2.f(m.externalRunnableShare)) → "
              + "\(r.strategy.rawValue) × \(r.workers) \(r.confidence)")
        XCTAssertTrue(m.external, "burners used \(m.otherCores) cores")
        XCTAssertGreaterThanOrEqual(m.otherShare, 0.25)
        XCTAssertGreaterThanOrEqual(m.externalRunnableShare, 0.15)
        let f = try XCTUnwrap(a.findings.first { $0.id == "recording.external-load" })
        XCTAssertTrue(f.title.contains("Other programs used"), f.title)
        // Not the program's own starvation: no fewer workers, starvation put on other programs.
        // (`undecided` is an honest answer here; its `workers` is what runs now, not advice.)
        XCTAssertNotEqual(r.strategy, .serial)
        if r.strategy != .undecided { XCTAssertGreaterThanOrEqual(r.workers, 2, r.reasons.map(\.text).joined(separator: "\n")) }
        XCTAssertTrue(r.reasons.contains { $0.text.hasPrefix("Other programs on the machine held the CPUs") || $0.text.hasPrefix("Undecided: other programs") },
                      r.reasons.map(\.text).joined(separator: "\n"))
        XCTAssertFalse(r.reasons.contains { $0.text.contains("More runnable work than cores") || $0.text.contains("other programs used only") },
                       r.reasons.map(\.text).joined(separator: "\n"))
        XCTAssertLessThan(r.confidence, 0.9)
    }

    /// Eight CPU-bound threads on the machine's cores, no burners: the program starves
    /// itself. Judged from the recorded figures, whatever else the (shared) machine runs:
    /// its own threads explain most of its runnable time.
    func testOversubscribedProgramStarvesItself() throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        guard cores <= 4 else { throw XCTSkip("\(cores) cores: 8 threads would not oversubscribe them by much") }
        let program = try Fixtures.cProgram("cpu_threads")
        let (profile, a) = try record(program, [String(4 * cores), "3"], name: "cpu8")
        XCTAssertNotNil(profile.recording.machine)
        let m = try XCTUnwrap(a.machine)
        let r = try XCTUnwrap(a.recommendation)
        print("EXTERNAL-LOAD cpu_threads \(4 * cores) (load \(Self.loadAverage())): others \(Text2.f(m.otherCores)) of \(m.cores) cores, "
              + "own share of runnable \(Text2.f(m.ownRunnableShare)), external \(Text2.f(m.externalRunnableShare)) → "
              + "\(r.strategy.rawValue) × \(r.workers) \(r.confidence)")
        if m.otherShare >= 0.75 {
            throw XCTSkip("other programs used \(m.otherCores) of \(m.cores) cores during the recording: too loaded to see the program's own starvation")
        }
        XCTAssertGreaterThanOrEqual(m.ownRunnableShare, 0.6, "4 threads per core: most runnable time is the program's own queue")
        XCTAssertNotNil(a.findings.first { $0.id == "cpu.starvation" })
        XCTAssertTrue(r.reasons.contains { $0.factor == .cpuStarvation && ($0.text.contains("more CPU-bound workers than cores") || $0.text.contains("More runnable work than cores")) },
                      r.reasons.map(\.text).joined(separator: "\n"))
        XCTAssertFalse(r.reasons.contains { $0.text.hasPrefix("Undecided: other programs") }, r.reasons.map(\.text).joined(separator: "\n"))
        if r.strategy != .keep && r.strategy != .undecided { XCTAssertLessThanOrEqual(r.workers, cores) }
    }
}

enum Text2 {
    static func f(_ x: Double) -> String { String(format: "%.2f", x) }
}
