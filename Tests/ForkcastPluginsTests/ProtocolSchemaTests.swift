import ForkcastAnalysis
import ForkcastModel
@testable import ForkcastPlugins
import ForkcastTestSupport
import Foundation
import XCTest

/// Every message of the protocol matches its schema in docs/plugin-schemas/ (checked by
/// Python's jsonschema, an independent validator): what forkcast sends (captured by a
/// recording plugin of each kind), what each shipped plugin answers to those requests,
/// and the shipped manifests.
final class ProtocolSchemaTests: XCTestCase {
    var dir: URL!
    static let schemas = Fixtures.repositoryRoot.appendingPathComponent("docs/plugin-schemas")

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("forkcast-pschema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    static let recorder = """
    import json, sys
    hello = sys.stdin.readline()
    open("hello.json", "w").write(hello)
    sys.stdout.write(json.dumps({"type": "hello", "protocol_version": 1}) + "\\n"); sys.stdout.flush()
    request = sys.stdin.readline()
    open("request.json", "w").write(request)
    answers = {"analyze": {"type": "findings", "findings": []}, "advise": {"type": "advice", "advice": []},
               "render": {"type": "rendered", "content": "x"}, "launch": {"type": "launch_specs", "specs": [{"command": ["true"]}]}}
    sys.stdout.write(json.dumps(answers[json.loads(request)["type"]]) + "\\n")
    """

    func recorder(_ kind: PluginKind) throws -> ExternalPlugin {
        let folder = dir.appendingPathComponent(kind.rawValue)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Self.recorder.write(to: folder.appendingPathComponent("plugin.py"), atomically: true, encoding: .utf8)
        var manifest: [String: Any] = ["name": "rec-\(kind.rawValue)", "kind": kind.rawValue, "version": "1", "protocol_version": 1,
                                       "command": ["python3", "plugin.py"], "description": "records"]
        if kind == .strategy { manifest["strategies"] = ["threads"] }
        if kind == .reporter { manifest["extension"] = "txt" }
        try JSONSerialization.data(withJSONObject: manifest).write(to: folder.appendingPathComponent("plugin.json"))
        return ExternalPlugin(manifest: try PluginManifest.load(folder: folder.path), folder: folder.path, source: .explicit, log: { _, _ in })
    }

    /// Validates (schema name, JSON file) pairs; returns nil per valid file, else the first error.
    func validate(_ pairs: [(String, String)]) throws -> [String?] {
        let script = """
        import json, sys
        try:
            import jsonschema, referencing
        except ImportError:
            print("MISSING jsonschema: apt-get install -y python3-jsonschema"); sys.exit(3)
        schemas, docs = sys.argv[1], sys.argv[2]
        resources = []
        for path in [docs + "/profile.schema.json", docs + "/analysis.schema.json"]:
            s = json.load(open(path))
            resources.append((s["$id"], referencing.Resource.from_contents(s)))
        registry = referencing.Registry().with_resources(resources)
        for pair in sys.argv[3:]:
            name, path = pair.split("=", 1)
            schema = json.load(open(f"{schemas}/{name}.schema.json"))
            jsonschema.Draft202012Validator.check_schema(schema)
            v = jsonschema.Draft202012Validator(schema, registry=registry)
            errors = sorted(v.iter_errors(json.load(open(path))), key=lambda e: list(e.path))
            print("OK" if not errors else "ERROR " + name + " " + "/".join(str(p) for p in errors[0].path) + ": " + errors[0].message[:200])
        """
        let r = try Fixtures.run("/usr/bin/env", ["python3", "-c", script, Self.schemas.path, Fixtures.repositoryRoot.appendingPathComponent("docs").path]
                                 + pairs.map { "\($0.0)=\($0.1)" })
        if r.status == 3 { throw XCTSkip(r.stdout) }
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, pairs.count, r.stdout)
        return lines.map { $0 == "OK" ? nil : $0 }
    }

    func testWhatForkcastSendsAndTheShippedPluginsAnswerMatchTheSchemas() throws {
        let profile = SampleInputs.profile(ticks: 50)
        let analysis = Analyzer.analyze(profile)
        var a = Analysis()
        try ExternalAnalyzer(plugin: try recorder(.analyzer)).analyze(profile, into: &a)
        _ = try ExternalRecommenderRule(plugin: try recorder(.recommenderRule)).advise(RecommendationInput(analysis: analysis, experiment: SampleInputs.experiment()))
        _ = try ExternalReporter(plugin: try recorder(.reporter)).render(ReportInput(profile: profile, analysis: analysis))
        _ = try ExternalStrategy(plugin: try recorder(.strategy)).launchSpecs(for: SampleInputs.workload, strategy: "threads", workers: 2)
        let requestSchema: [PluginKind: String] = [.analyzer: "analyze-request", .recommenderRule: "advise-request",
                                                    .reporter: "render-request", .strategy: "launch-request"]
        var pairs: [(String, String)] = []
        for kind in PluginKind.allCases {
            let folder = dir.appendingPathComponent(kind.rawValue)
            pairs.append(("hello-request", folder.appendingPathComponent("hello.json").path))
            pairs.append((requestSchema[kind]!, folder.appendingPathComponent("request.json").path))
        }
        // The shipped plugins' answers to those very requests.
        let shipped: [(String, String, PluginKind, String)] = [
            ("blas-oversubscription", "blas_oversubscription.py", .analyzer, "findings-response"),
            ("pickle-cost", "pickle_cost.py", .analyzer, "findings-response"),
            ("scaling-knee", "scaling_knee.py", .recommenderRule, "advice-response"),
            ("markdown", "markdown_report.py", .reporter, "rendered-response"),
            ("joblib", "joblib_strategy.py", .strategy, "launch-specs-response"),
        ]
        for (name, script, kind, responseSchema) in shipped {
            let folder = Fixtures.repositoryRoot.appendingPathComponent("plugins/\(name)")
            pairs.append(("manifest", folder.appendingPathComponent("plugin.json").path))
            let input = dir.appendingPathComponent(kind.rawValue)
            let stdin = try String(contentsOf: input.appendingPathComponent("hello.json"), encoding: .utf8)
                + String(contentsOf: input.appendingPathComponent("request.json"), encoding: .utf8)
            let stdinFile = dir.appendingPathComponent("\(name).in")
            try stdin.write(to: stdinFile, atomically: true, encoding: .utf8)
            // Run by hand, as forkcast would: with the plugin SDK (assets/sdk) on PYTHONPATH.
            var env = ProcessInfo.processInfo.environment
            env["PYTHONPATH"] = Fixtures.repositoryRoot.appendingPathComponent("assets/sdk").path
            let r = try Fixtures.run("/bin/sh", ["-c", "python3 \(folder.appendingPathComponent(script).path) < \(stdinFile.path)"],
                                     environment: env)
            XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
            let lines = r.stdout.split(separator: "\n").map(String.init)
            XCTAssertEqual(lines.count, 2, "\(name): \(r.stdout)")
            for (i, schema) in ["hello-response", responseSchema].enumerated() where i < lines.count {
                let f = dir.appendingPathComponent("\(name)-\(i).json")
                try lines[i].write(to: f, atomically: true, encoding: .utf8)
                pairs.append((schema, f.path))
            }
        }
        let results = try validate(pairs)
        for (i, r) in results.enumerated() { XCTAssertNil(r, "\(pairs[i].0) \(pairs[i].1)") }
    }

    func testSchemasRejectBrokenMessages() throws {
        let broken: [(String, String)] = [
            ("hello-response", #"{"type":"hello"}"#),
            ("findings-response", #"{"type":"findings","findings":[{"severity":"fatal","title":"x"}]}"#),
            ("advice-response", #"{"type":"advice","advice":[{"strategy":"gpu","weight":0.5,"reason":{"text":"x"}}]}"#),
            ("advice-response", #"{"type":"advice","advice":[{"weight":1.5,"reason":{"text":"x"}}]}"#),
            ("rendered-response", #"{"type":"rendered"}"#),
            ("launch-specs-response", #"{"type":"launch_specs","specs":[]}"#),
            ("manifest", #"{"name":"x","kind":"strategy","version":"1","protocol_version":1,"command":["a"],"description":"d"}"#),
            ("error", #"{"type":"error"}"#),
        ]
        var pairs: [(String, String)] = []
        for (i, b) in broken.enumerated() {
            let f = dir.appendingPathComponent("broken-\(i).json")
            try b.1.write(to: f, atomically: true, encoding: .utf8)
            pairs.append((b.0, f.path))
        }
        let results = try validate(pairs)
        for (i, r) in results.enumerated() { XCTAssertNotNil(r, "broken \(broken[i]) passed") }
    }
}
