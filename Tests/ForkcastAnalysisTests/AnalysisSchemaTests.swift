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
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("forkcast-aschema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var paths: [String] = []
        for (i, d) in documents.enumerated() {
            let url = dir.appendingPathComponent("\(i).json")
            try d.write(to: url)
            paths.append(url.path)
        }
        let script = """
        import json, sys
        try:
            import jsonschema
        except ImportError:
            print("MISSING jsonschema: apt-get install -y python3-jsonschema (or pip install jsonschema)")
            sys.exit(3)
        schema = json.load(open(sys.argv[1]))
        jsonschema.Draft202012Validator.check_schema(schema)
        v = jsonschema.Draft202012Validator(schema)
        for path in sys.argv[2:]:
            errors = sorted(v.iter_errors(json.load(open(path))), key=lambda e: list(e.path))
            print("OK" if not errors else "ERROR " + "/".join(str(p) for p in errors[0].path) + ": " + errors[0].message[:200])
        """
        let r = try Fixtures.run("/usr/bin/env", ["python3", "-c", script, Self.schema.path] + paths)
        if r.status == 3 { throw XCTSkip(r.stdout) }
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, documents.count, r.stdout)
        return lines.map { $0 == "OK" ? nil : $0 }
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
