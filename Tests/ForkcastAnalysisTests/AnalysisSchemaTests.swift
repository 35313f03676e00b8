import ForkcastAnalysis
import ForkcastModel
import ForkcastTestSupport
import Foundation
import XCTest

/// `forkcast analyze --json` output matches docs/analysis.schema.json (checked by Python's
/// `jsonschema`, Draft 2020-12, an independent validator), and the schema can fail.
final class AnalysisSchemaTests: XCTestCase {
    static let schema = Fixtures.repositoryRoot.appendingPathComponent("docs/analysis.schema.json")

    func validate(_ documents: [Data]) throws -> [String?] {
        switch try JSONSchemaCheck.validate(documents, schema: Self.schema) {
        case .checked(let results): return results
        case .unavailable(let why): throw XCTSkip(why)
        }
    }

    func testEveryWorkloadMatchesTheSchema() throws {
        let profiles = [SyntheticProfiles.mutexContention(), SyntheticProfiles.pythonCPUThreads(), SyntheticProfiles.socketIO(),
                        SyntheticProfiles.gilReleasingThreads(), SyntheticProfiles.pythonHotLock(), SyntheticProfiles.heavyIPC(),
                        SyntheticProfiles.tinyTasks(), SyntheticProfiles.mixedCPUAndIO(), SyntheticProfiles.serialPythonCPU(),
                        SyntheticProfiles.make(threads: [], ticks: 0)]
        let results = try validate(profiles.map { try Analyzer.analyze($0).encodedJSON() })
        for (i, r) in results.enumerated() { XCTAssertNil(r, "analysis \(i) does not match the schema") }
    }

    func testSchemaRejectsBrokenDocuments() throws {
        let good = try JSONSerialization.jsonObject(with: Analyzer.analyze(SyntheticProfiles.mutexContention()).encodedJSON()) as! [String: Any]
        func edited(_ body: (inout [String: Any]) -> Void) throws -> Data {
            var copy = good
            body(&copy)
            return try JSONSerialization.data(withJSONObject: copy)
        }
        let broken = [
            try edited { $0["threads"] = nil },
            try edited { $0["format_version"] = 2 },
            try edited { d in
                var r = d["recommendation"] as! [String: Any]
                r["strategy"] = "coroutines"
                d["recommendation"] = r
            },
            try edited { d in
                var t = d["threads"] as! [[String: Any]]
                var states = t[0]["states"] as! [String: Any]
                states["on_cpu"] = 1.5
                t[0]["states"] = states
                d["threads"] = t
            },
            try edited { $0["surprise"] = true },
        ]
        let results = try validate(broken)
        for (i, r) in results.enumerated() { XCTAssertNotNil(r, "broken document \(i) passed the schema") }
    }
}
