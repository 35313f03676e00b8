import ForkcastAnalysis
import ForkcastModel
@testable import ForkcastPlugins
import ForkcastTestSupport
import Foundation
import XCTest

/// The registry, discovery, selection and the Swift wrappers, in process.
final class RegistryTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("forkcast-registry-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    var shipped: URL { Fixtures.repositoryRoot.appendingPathComponent("plugins") }

    func registry(_ extra: [PluginDiscovery.Folder] = []) -> PluginRegistry {
        PluginRegistry.standard(folders: extra + [PluginDiscovery.Folder(path: shipped.path, source: .repository)], log: { _, _ in })
    }

    func testDiscoveryFindsTheCheckoutFromTheBinaryAndTheCurrentDirectory() {
        let exe = Fixtures.repositoryRoot.appendingPathComponent(".build/x86_64-unknown-linux-gnu/debug/forkcast").path
        let folders = PluginDiscovery.searchFolders(environment: ["HOME": "/home/u", "FORKCAST_PLUGIN_PATH": "/a:rel"],
                                                    executable: exe, currentDirectory: "/tmp")
        XCTAssertEqual(folders, [
            .init(path: "/a", source: .pluginPath), .init(path: "/tmp/rel", source: .pluginPath),
            .init(path: "/home/u/.local/share/forkcast/plugins", source: .user),
            .init(path: shipped.path, source: .repository),
        ])
        let fromCwd = PluginDiscovery.searchFolders(environment: ["XDG_DATA_HOME": "/x"], executable: "/usr/local/bin/forkcast",
                                                    currentDirectory: Fixtures.repositoryRoot.appendingPathComponent("Sources").path)
        XCTAssertEqual(fromCwd, [.init(path: "/x/forkcast/plugins", source: .user), .init(path: shipped.path, source: .repository)])
    }

    func testSelection() throws {
        let r = registry()
        let none = try r.selecting(.init(environment: [:])).registry
        XCTAssertEqual(none.analyzers.map(\.descriptor.name), Analyzer.builtinAnalyzers().map(\.descriptor.name))
        let one = try r.selecting(.init(enabled: ["pickle-cost"], disabled: ["io-wait"], environment: [:])).registry
        XCTAssertEqual(one.analyzers.map(\.descriptor.name), ["time-breakdown", "lock-contention", "gil", "multiprocessing", "pickle-cost"])
        let env = try r.selecting(.init(environment: ["FORKCAST_PLUGINS": "markdown,joblib"])).registry
        XCTAssertEqual(env.reporter(named: "markdown")?.fileExtension, "md")
        XCTAssertEqual(env.strategy(named: "joblib")?.strategies, ["serial", "threads", "processes", "hybrid"])
        XCTAssertThrowsError(try r.selecting(.init(enabled: ["nope"], environment: [:]))) { e in
            XCTAssertEqual("\(e)", "plugin nope: no such plugin (see `forkcast plugins list`)")
        }
    }

    func testDuplicateNamesKeepTheFirstAndSayWhy() throws {
        let shadow = dir.appendingPathComponent("gil")
        try FileManager.default.createDirectory(at: shadow, withIntermediateDirectories: true)
        try Data(#"{"name":"gil","kind":"analyzer","version":"9","protocol_version":1,"command":["true"],"description":"x"}"#.utf8)
            .write(to: shadow.appendingPathComponent("plugin.json"))
        let r = registry([.init(path: dir.path, source: .pluginPath)])
        XCTAssertNil(r.external["gil"])
        XCTAssertTrue(r.problems.contains { $0.plugin == "gil" && $0.reason.contains("the name is taken by a built-in plugin") }, "\(r.problems)")
    }

    func testManifestErrorsAreOneLine() throws {
        let cases: [(String, String)] = [
            (#"{"name":"x","kind":"analyzer","version":"1","protocol_version":1,"description":"d"}"#, "missing \"command\""),
            (#"{"name":"x","kind":"profiler","version":"1","protocol_version":1,"command":["a"],"description":"d"}"#, "bad value at \"kind\""),
            (#"{"name":"X Y","kind":"analyzer","version":"1","protocol_version":1,"command":["a"],"description":"d"}"#, "name \"X Y\" must be"),
            (#"{"name":"s","kind":"strategy","version":"1","protocol_version":1,"command":["a"],"description":"d"}"#, "must list its \"strategies\""),
            ("not json", "not valid JSON"),
        ]
        for (text, expected) in cases {
            let d = dir.appendingPathComponent(UUID().uuidString)
            try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: d.appendingPathComponent("plugin.json"))
            XCTAssertThrowsError(try PluginManifest.load(folder: d.path)) { e in
                XCTAssertTrue("\(e)".contains(expected), "\(e)")
                XCTAssertFalse("\(e)".contains("\n"))
            }
        }
    }

    /// External plugins called through the same Swift protocols as built-ins.
    func testWrappersImplementTheSameProtocols() throws {
        let r = try registry().selecting(.init(enabled: ["all"], environment: [:])).registry
        let profile = SyntheticProfiles.heavyIPC(ticks: 200)
        let analysis = Analyzer.analyze(profile, analyzers: r.analyzers, rules: r.recommenderRules)
        XCTAssertTrue(analysis.errors.isEmpty, "\(analysis.errors)")
        XCTAssertTrue(analysis.findings.contains { $0.source == "pickle-cost" })

        let md = try XCTUnwrap(r.reporter(named: "markdown")).render(ReportInput(profile: profile, analysis: analysis, experiment: SampleInputs.experiment()))
        let text = String(decoding: md, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("## Forkcast: `python3 heavy_ipc.py`"), text)
        XCTAssertTrue(text.contains("Pickling costs"), text)
        XCTAssertTrue(text.contains("| processes | 2 | 5.40 s |"), text)

        let joblib = try XCTUnwrap(r.strategy(named: "joblib"))
        XCTAssertEqual(joblib.strategies, ["serial", "threads", "processes", "hybrid"])
        let specs = try joblib.launchSpecs(for: Workload(command: ["python3", "job.py"], environment: ["K": "v"]), strategy: "threads", workers: 3)
        XCTAssertEqual(specs.count, 1)
        XCTAssertEqual(Array(specs[0].command.suffix(8)), ["--backend", "threading", "--n-jobs", "3", "--inner-threads", "1", "--", "job.py"])
        XCTAssertEqual(specs[0].environment["K"], "v")
        XCTAssertThrowsError(try joblib.launchSpecs(for: Workload(command: ["./a.out"]), strategy: "threads", workers: 2)) { e in
            XCTAssertTrue("\(e)".hasPrefix("reported an error: ValueError: ./a.out is not a Python program"), "\(e)")
        }
    }

    func testPluginStderrGoesToTheLogLineByLine() throws {
        try BrokenPlugins.make(in: dir, only: ["echo-analyzer"])
        final class Lines: @unchecked Sendable { var all: [String] = []; let lock = NSLock() }
        let lines = Lines()
        let m = try PluginManifest.load(folder: dir.appendingPathComponent("echo-analyzer").path)
        let p = ExternalPlugin(manifest: m, folder: dir.appendingPathComponent("echo-analyzer").path, source: .explicit, log: { name, line in
            lines.lock.lock(); lines.all.append("\(name)|\(line)"); lines.lock.unlock()
        })
        var a = Analysis()
        try ExternalAnalyzer(plugin: p).analyze(SampleInputs.profile(ticks: 10), into: &a)
        XCTAssertEqual(a.findings.map(\.title), ["echo: 4 threads"])
        XCTAssertEqual(a.findings.first?.source, "echo-analyzer")
        XCTAssertEqual(lines.all, ["echo-analyzer|echo: looked at 4 threads"])
    }

    func testLargeProfileGoesThroughThePipe() throws {
        // ~5 MB of request: written while the plugin reads, no deadlock on full pipes.
        try BrokenPlugins.make(in: dir, only: ["echo-analyzer"])
        let folder = dir.appendingPathComponent("echo-analyzer").path
        let p = ExternalPlugin(manifest: try PluginManifest.load(folder: folder), folder: folder, source: .explicit, log: { _, _ in })
        var a = Analysis()
        try ExternalAnalyzer(plugin: p).analyze(SyntheticProfiles.large(samples: 150_000, threads: 8, processes: 2, distinctStacks: 200), into: &a)
        XCTAssertEqual(a.findings.map(\.title), ["echo: 8 threads"])
    }
}
