import Foundation
import XCTest
import ForkcastExperiment
import ForkcastModel
import ForkcastPlugins
import ForkcastReport
@testable import ForkcastWorkflow
import ForkcastTestSupport

/// The workflow layer: one report pipeline whatever the command, and experiment plans
/// built from a request the way the CLI used to build them.
final class WorkflowTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("forkcast-workflow-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// A registry of the built-ins only, so the tests do not depend on what is installed.
    private var builtins: PluginRegistry {
        var r = PluginRegistry()
        for p in PluginRegistry.builtins() { r.register(p) }
        return r
    }

    func testThePipelineRunsTheSelectedAnalyzersAndCompletesAnInputOnlyWhenItLacksAnAnalysis() throws {
        let profile = SyntheticProfiles.mutexContention(ticks: 300)
        let all = try ReportPipeline(registry: builtins)
        let allAnalysis = all.analyze(profile)
        XCTAssertTrue(allAnalysis.plugins.contains("analyzer:lock-contention"), "\(allAnalysis.plugins)")
        XCTAssertFalse(allAnalysis.locks.isEmpty)

        let without = try ReportPipeline(selection: PluginRegistry.Selection(disabled: ["lock-contention"]), registry: builtins)
        let completed = without.completed(ReportInput(profile: profile))
        let analysis = try XCTUnwrap(completed.analysis)
        XCTAssertFalse(analysis.plugins.contains("analyzer:lock-contention"), "\(analysis.plugins)")
        XCTAssertTrue(analysis.locks.isEmpty)
        // An analysis that came with the input is kept as it is.
        XCTAssertEqual(without.completed(ReportInput(profile: profile, analysis: allAnalysis)).analysis, allAnalysis)

        XCTAssertThrowsError(try ReportPipeline(selection: PluginRegistry.Selection(enabled: ["no-such-plugin"]), registry: builtins)) {
            XCTAssertTrue("\($0)".contains("no such plugin"), "\($0)")
        }
    }

    func testLoadingMergesKindsAndRefusesTwoOfOne() throws {
        let profile = SyntheticProfiles.mutexContention(ticks: 100)
        try ProfileFilesWriter.write(profile, "\(dir)/p.profile.json.gz")
        try SyntheticProfiles.sampleExperiment().encodedJSON().write(to: URL(fileURLWithPath: "\(dir)/e.json"))
        let input = try ReportPipeline.load(paths: ["\(dir)/p.profile.json.gz", "\(dir)/e.json"])
        XCTAssertNotNil(input.profile)
        XCTAssertNotNil(input.experiment)
        XCTAssertNil(input.analysis)
        XCTAssertThrowsError(try ReportPipeline.load(paths: ["\(dir)/e.json", "\(dir)/e.json"])) {
            XCTAssertEqual("\($0)", "\(self.dir)/e.json: a second experiment; give at most one")
        }
        XCTAssertThrowsError(try ReportPipeline.load(paths: ["\(dir)/missing.json"])) {
            XCTAssertEqual("\($0)", "\(self.dir)/missing.json: no such file")
        }
    }

    func testAPlanFromATemplateRequest() throws {
        var request = ExperimentRequest()
        request.command = ["/bin/sh", "-c", "echo {strategy}"]
        request.strategies = "serial,threads"
        request.outputDirectory = dir
        let planned = try request.plan(registry: builtins)
        XCTAssertEqual(planned.plan.strategies, [.serial, .threads])
        // {strategy} without {workers}: one worker count unless asked otherwise.
        XCTAssertEqual(planned.plan.workers, [1])
        XCTAssertEqual(planned.plan.repeatCount, 5)
        XCTAssertEqual(planned.plan.warmup, 1)
        XCTAssertEqual(planned.plan.outputDirectory.path, dir)

        request.command = ["/bin/sh", "-c", "echo {strategy} {workers}"]
        request.workers = "1,2"
        request.repeatCount = 2
        let two = try request.plan(registry: builtins)
        XCTAssertEqual(two.plan.workers, [1, 2])
        XCTAssertEqual(two.plan.repeatCount, 2)
    }

    func testBadRequestsAreOneLineErrors() {
        var both = ExperimentRequest()
        both.workloadFile = "w.yml"
        both.command = ["true"]
        XCTAssertThrowsError(try both.plan(registry: builtins)) {
            XCTAssertEqual("\($0)", "give either a workload file or a command after --, not both")
        }
        XCTAssertThrowsError(try ExperimentRequest().plan(registry: builtins)) {
            XCTAssertEqual("\($0)", "no workload: give a command after -- or a workload file (see --help)")
        }
        var fibers = ExperimentRequest()
        fibers.command = ["echo", "{strategy}"]
        fibers.strategies = "fibers"
        XCTAssertThrowsError(try fibers.plan(registry: builtins)) {
            XCTAssertTrue("\($0)".hasPrefix("unknown strategy \"fibers\""), "\($0)")
        }
    }
}

/// Writes a profile file for the loading test (ForkcastSystem's writer).
enum ProfileFilesWriter {
    static func write(_ profile: Profile, _ path: String) throws {
        try profile.encoded(gzip: true).write(to: URL(fileURLWithPath: path))
    }
}
