import ForkcastModel
import ForkcastPlugins
import ForkcastTestSupport
import Foundation
import XCTest

/// The plugin system as a user meets it: the real `forkcast` binary, the shipped plugins
/// in the repository's plugins/ folder, and deliberately broken plugins in
/// $FORKCAST_PLUGIN_PATH.
final class PluginCLITests: XCTestCase {
    var dir: URL!
    var binary: String!

    override func setUpWithError() throws {
        binary = try Fixtures.forkcastBinary()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("forkcast-plugins-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    /// Runs forkcast with a private HOME (no user plugins) and the given plugin path.
    func forkcast(_ args: [String], pluginPath: String? = nil, extra: [String: String] = [:]) throws -> Fixtures.RunResult {
        var env = Foundation.ProcessInfo.processInfo.environment
        env["HOME"] = dir.path
        env["XDG_DATA_HOME"] = nil
        env["FORKCAST_PLUGINS"] = nil
        env["NO_COLOR"] = "1"
        env["FORKCAST_PLUGIN_PATH"] = pluginPath
        for (k, v) in extra { env[k] = v }
        return try Fixtures.run(binary, args, environment: env, currentDirectory: dir.path)
    }

    func write(_ profile: Profile, _ name: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try profile.encoded(gzip: name.hasSuffix(".gz")).write(to: url)
        return url.path
    }

    func analysis(_ r: Fixtures.RunResult, file: StaticString = #filePath, line: UInt = #line) throws -> Analysis {
        XCTAssertEqual(r.status, 0, "stderr: \(r.stderr)", file: file, line: line)
        return try Analysis.decode(Data(r.stdout.utf8))
    }

    // MARK: list, info, check

    func testListShowsBuiltinsNextToExternalsWithKindVersionOrigin() throws {
        let extra = dir.appendingPathComponent("extra")
        try BrokenPlugins.make(in: extra, only: ["echo-analyzer", "bad-manifest"])
        let r = try forkcast(["plugins", "list", "--json"], pluginPath: extra.path)
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        func row(_ name: String, _ kind: String) -> [String: Any]? { rows.first { $0["name"] as? String == name && $0["kind"] as? String == kind } }
        let builtin = try XCTUnwrap(row("time-breakdown", "analyzer"))
        XCTAssertEqual(builtin["origin"] as? String, "builtin")
        XCTAssertEqual(builtin["version"] as? String, "1.0")
        XCTAssertNotNil(row("cpu-starvation", "recommender-rule"))
        XCTAssertEqual(row("python-executor-swap", "strategy")?["origin"] as? String, "builtin")
        XCTAssertEqual(row("command-template", "strategy")?["origin"] as? String, "builtin")
        for format in ["html", "json", "speedscope", "folded", "chrome", "pprof"] {
            XCTAssertEqual(row(format, "reporter")?["origin"] as? String, "builtin", format)
        }
        for (name, kind) in [("blas-oversubscription", "analyzer"), ("pickle-cost", "analyzer"), ("scaling-knee", "recommender-rule"),
                             ("markdown", "reporter"), ("joblib", "strategy")] {
            let shipped = try XCTUnwrap(row(name, kind), "\(name) not listed: \(r.stdout)")
            XCTAssertEqual(shipped["origin"] as? String, "external")
            XCTAssertEqual(shipped["source"] as? String, "repository")
            XCTAssertEqual(shipped["version"] as? String, "1.0.0")
            XCTAssertEqual(shipped["folder"] as? String, Fixtures.repositoryRoot.appendingPathComponent("plugins/\(name)").path)
        }
        let broken = try XCTUnwrap(rows.first { $0["name"] as? String == "bad-manifest" })
        XCTAssertEqual(broken["status"] as? String, "broken")
        XCTAssertTrue((broken["summary"] as? String)?.contains("not valid JSON") == true, "\(broken)")
        let fromPath = try XCTUnwrap(row("echo-analyzer", "analyzer"))
        XCTAssertEqual(fromPath["source"] as? String, "FORKCAST_PLUGIN_PATH")

        let text = try forkcast(["plugins", "list"], pluginPath: extra.path)
        XCTAssertEqual(text.status, 0)
        let blas = try XCTUnwrap(text.stdout.split(separator: "\n").first { $0.hasPrefix("blas-oversubscription ") })
        XCTAssertTrue(blas.contains("analyzer") && blas.contains("1.0.0") && blas.contains("external"), String(blas))
        XCTAssertTrue(text.stdout.split(separator: "\n").contains { $0.hasPrefix("time-breakdown ") && $0.contains("builtin") })
    }

    func testInfo() throws {
        let r = try forkcast(["plugins", "info", "pickle-cost"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("kind:      analyzer"), r.stdout)
        XCTAssertTrue(r.stdout.contains("plugins/pickle-cost"), r.stdout)
        let b = try forkcast(["plugins", "info", "gil"])
        XCTAssertTrue(b.stdout.contains("origin:    builtin"), b.stdout)
        let missing = try forkcast(["plugins", "info", "nope"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1, missing.stderr)
        XCTAssertTrue(missing.stderr.contains("no plugin named nope"), missing.stderr)
    }

    func testCheckEveryShippedPluginPassesWithTheSampleInputs() throws {
        for name in ["blas-oversubscription", "pickle-cost", "scaling-knee", "markdown", "joblib"] {
            let r = try forkcast(["plugins", "check", Fixtures.repositoryRoot.appendingPathComponent("plugins/\(name)").path])
            XCTAssertEqual(r.status, 0, "\(name): \(r.stdout) \(r.stderr)")
            XCTAssertEqual(r.stdout.components(separatedBy: "\nok   ").count, 3, r.stdout)
        }
        let blas = try forkcast(["plugins", "check", Fixtures.repositoryRoot.appendingPathComponent("plugins/blas-oversubscription").path])
        XCTAssertTrue(blas.stdout.contains("NumPy/BLAS threads oversubscribe the CPU: 4 openblas threads in 1 process on 2 cores"), blas.stdout)
        let md = try forkcast(["plugins", "check", Fixtures.repositoryRoot.appendingPathComponent("plugins/markdown").path])
        XCTAssertTrue(md.stdout.contains("first line: ## Forkcast: `python3 train.py`"), md.stdout)
    }

    func testCheckReportsEachBrokenPluginAtTheFailingStep() throws {
        try BrokenPlugins.make(in: dir)
        let cases: [(String, String, String)] = [
            ("bad-manifest", "manifest", "broken manifest"),
            ("wrong-version", "handshake", "speaks protocol version 2; this forkcast speaks 1"),
            ("garbage", "handshake", "sent garbage instead of its handshake"),
            ("crasher", "sample analyzer request", "was killed by signal 11"),
        ]
        for (name, step, text) in cases {
            let r = try forkcast(["plugins", "check", dir.appendingPathComponent(name).path])
            XCTAssertEqual(r.status, 1, "\(name): \(r.stdout)")
            let fail = r.stdout.split(separator: "\n").first { $0.hasPrefix("FAIL") }
            XCTAssertTrue(fail?.hasPrefix("FAIL \(step):") == true && fail!.contains(text), "\(name): \(r.stdout)")
        }
    }

    func testSampleMessagesFeedAPluginByHand() throws {
        for (kind, type) in [("analyzer", "analyze"), ("recommender-rule", "advise"), ("reporter", "render"), ("strategy", "launch")] {
            let r = try forkcast(["plugins", "sample", kind])
            XCTAssertEqual(r.status, 0, r.stderr)
            let lines = r.stdout.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            XCTAssertEqual(lines.count, 2, kind)
            XCTAssertEqual(lines.first??["type"] as? String, "hello")
            XCTAssertEqual(lines.last??["type"] as? String, type)
        }
        // A real profile, straight into a shipped plugin, with the SDK from `plugins sdk-path`.
        let profile = Fixtures.repositoryRoot.appendingPathComponent("Tests/Fixtures/plugins/numpy-process-pool.json.gz").path
        let folder = Fixtures.repositoryRoot.appendingPathComponent("plugins/blas-oversubscription").path
        var env = Foundation.ProcessInfo.processInfo.environment
        env["HOME"] = dir.path
        env["XDG_CACHE_HOME"] = nil
        let r = try Fixtures.run("/bin/sh", ["-c", "\"$0\" plugins sample analyzer --profile \"$1\" | (cd \"$2\" && PYTHONPATH=$(\"$0\" plugins sdk-path) python3 blas_oversubscription.py)",
                                             binary, profile, folder], environment: env)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("NumPy/BLAS threads oversubscribe the CPU: "), r.stdout)
        let bad = try forkcast(["plugins", "sample", "profiler"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertEqual(bad.stderr.split(separator: "\n").count, 1)
    }

    // MARK: shipped plugins through `forkcast analyze`

    func testBlasAnalyzerFindingInSummaryAndJSON() throws {
        let path = try write(SampleInputs.profile(), "numpy.json")
        let text = try forkcast(["analyze", path, "--plugin", "blas-oversubscription"])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("NumPy/BLAS threads oversubscribe the CPU: 4 openblas threads in 1 process on 2 cores"), text.stdout)
        XCTAssertTrue(text.stdout.contains("OPENBLAS_NUM_THREADS=2"), text.stdout)
        let a = try analysis(try forkcast(["analyze", path, "--json", "--plugin", "blas-oversubscription"]))
        let f = try XCTUnwrap(a.findings.first { $0.source == "blas-oversubscription" })
        XCTAssertEqual(f.id, "blas-oversubscription.oversubscribed")
        XCTAssertEqual(f.factor, .cpuStarvation)
        XCTAssertEqual(f.metrics["blas_threads"], 4)
        XCTAssertTrue(a.plugins.contains("analyzer:blas-oversubscription"))
        XCTAssertNotNil(a.recommendation)
        // Not selected: not run.
        let plain = try analysis(try forkcast(["analyze", path, "--json"]))
        XCTAssertFalse(plain.plugins.contains("analyzer:blas-oversubscription"))
        XCTAssertTrue(plain.findings.allSatisfy { $0.source != "blas-oversubscription" })
    }

    func testPickleCostOnAProcessPoolProfile() throws {
        let path = try write(SyntheticProfiles.heavyIPC(ticks: 400), "ipc.json.gz")
        let a = try analysis(try forkcast(["analyze", path, "--json", "--plugin", "pickle-cost"]))
        let f = try XCTUnwrap(a.findings.first { $0.source == "pickle-cost" }, "\(a.findings.map(\.title)) \(a.errors)")
        XCTAssertGreaterThan(f.metrics["pickle_seconds"] ?? 0, 0)
        XCTAssertGreaterThan(f.metrics["unpickle_seconds"] ?? 0, 0)
        XCTAssertGreaterThan(f.metrics["tasks_estimated"] ?? 0, 0)
        XCTAssertEqual(f.factor, .ipc)
        XCTAssertTrue(f.title.hasPrefix("Pickling costs"), f.title)
        let text = try forkcast(["analyze", path, "--plugin", "pickle-cost"])
        XCTAssertTrue(text.stdout.contains(f.title), text.stdout)
    }

    func testRecommenderRuleAdviceReachesTheRecommendation() throws {
        let path = try write(SyntheticProfiles.serialPythonCPU(ticks: 300), "serial.json")
        let a = try analysis(try forkcast(["analyze", path, "--json", "--plugin", "scaling-knee"]))
        let reason = try XCTUnwrap(a.recommendation?.reasons.first { $0.text.hasPrefix("Not measured yet") }, "\(String(describing: a.recommendation))")
        XCTAssertEqual(reason.factor, .scaling)
        XCTAssertNotNil(reason.metrics["amdahl_cap"])
        XCTAssertTrue(a.plugins.contains("recommender-rule:scaling-knee"))
        let text = try forkcast(["analyze", path, "--plugin", "scaling-knee"])
        XCTAssertTrue(text.stdout.contains("• Not measured yet"), text.stdout)
    }

    func testNoPluginSkipsABuiltinAndAllRunsEveryExternal() throws {
        let path = try write(SampleInputs.profile(), "numpy.json")
        let a = try analysis(try forkcast(["analyze", path, "--json", "--no-plugin", "gil", "--plugin", "all", "--no-plugin", "pickle-cost"]))
        XCTAssertFalse(a.plugins.contains("analyzer:gil") || a.plugins.contains("recommender-rule:gil"))
        XCTAssertTrue(a.gil.isEmpty)
        XCTAssertFalse(a.plugins.contains("analyzer:pickle-cost"))
        XCTAssertTrue(a.plugins.contains("analyzer:blas-oversubscription") && a.plugins.contains("recommender-rule:scaling-knee"), "\(a.plugins)")
        XCTAssertTrue(a.errors.isEmpty, "\(a.errors)")
        let env = try analysis(try forkcast(["analyze", path, "--json"], extra: ["FORKCAST_PLUGINS": "blas-oversubscription"]))
        XCTAssertTrue(env.plugins.contains("analyzer:blas-oversubscription"))
    }

    func testUnknownPluginNameIsOneLineError() throws {
        let path = try write(SampleInputs.profile(ticks: 20), "p.json")
        let r = try forkcast(["analyze", path, "--plugin", "no-such-thing"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stdout.isEmpty)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("plugin no-such-thing: no such plugin"), r.stderr)
    }

    // MARK: a real recording, report and experiment

    /// Recorded with `forkcast record -- python3 Tests/Fixtures/plugins/numpy_process_pool.py`
    /// on 2 cores: 4 pool workers (and the parent) each start an OpenBLAS pool.
    static let numpyRecording = Fixtures.repositoryRoot.appendingPathComponent("Tests/Fixtures/plugins/numpy-process-pool.json.gz").path

    func testBlasAnalyzerOnARealRecordingOfANumPyProcessPool() throws {
        let a = try analysis(try forkcast(["analyze", Self.numpyRecording, "--json", "--plugin", "blas-oversubscription"]))
        let f = try XCTUnwrap(a.findings.first { $0.source == "blas-oversubscription" })
        XCTAssertEqual(f.id, "blas-oversubscription.oversubscribed")
        XCTAssertEqual(f.metrics["processes"], 5)
        XCTAssertEqual(f.metrics["cores"], 2)
        XCTAssertGreaterThanOrEqual(f.metrics["blas_threads"] ?? 0, 5)
        XCTAssertTrue(f.stacks.first?.contains("blas_thread_server") == true, "\(f.stacks)")
    }

    /// Recorded with `forkcast record -- python3 Tests/Fixtures/plugins/process_pool_ipc.py`:
    /// 60 tasks of 2 MB through a 2-process pool.
    func testPickleCostOnARealRecordingOfAProcessPool() throws {
        let path = Fixtures.repositoryRoot.appendingPathComponent("Tests/Fixtures/plugins/process-pool-ipc.json.gz").path
        let a = try analysis(try forkcast(["analyze", path, "--json", "--plugin", "pickle-cost"]))
        let f = try XCTUnwrap(a.findings.first { $0.source == "pickle-cost" })
        XCTAssertGreaterThan(f.metrics["pickle_seconds"] ?? 0, 0)
        XCTAssertGreaterThan(f.metrics["tasks_estimated"] ?? 0, 0)
        XCTAssertTrue(f.detail.hasPrefix("By call site: Queue._feed (queues.py:244)"), f.detail)
        // Evidence: from the feeder thread down to pickle, then the leaf.
        let stack = try XCTUnwrap(f.stacks.first)
        XCTAssertTrue(stack.contains("Queue._feed (queues.py:244)") && stack.contains("ForkingPickler.dumps (reduction.py:51)"), "\(stack)")
    }

    func testReportWithAPluginReporterAndPluginFindingsInHTML() throws {
        let md = dir.appendingPathComponent("pr.md").path
        let r = try forkcast(["report", Self.numpyRecording, "--plugin", "markdown,blas-oversubscription", "-o", md])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, md + "\n")
        let text = try String(contentsOfFile: md, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("## Forkcast: `python3 np_pool.py`"), text)
        XCTAssertTrue(text.contains("**NumPy/BLAS threads oversubscribe the CPU"), text)
        XCTAssertTrue(text.contains("<sub>(blas-oversubscription)</sub>"), text)

        let html = dir.appendingPathComponent("r.html").path
        let h = try forkcast(["report", Self.numpyRecording, "--plugin", "blas-oversubscription", "-o", html])
        XCTAssertEqual(h.status, 0, h.stderr)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        XCTAssertTrue(page.contains("oversubscribe the CPU: "), "the plugin's finding is not in the HTML report")

        // A reporter plugin that fails: one line, nothing written over -o; without -o the
        // --format report is written instead.
        let slow = try forkcast(["report", Self.numpyRecording, "--plugin", "markdown", "-o", dir.appendingPathComponent("x.md").path],
                                extra: ["FORKCAST_PLUGIN_TIMEOUT": "0.01"])
        XCTAssertEqual(slow.status, 2)
        XCTAssertEqual(slow.stderr, "forkcast: error: reporter markdown: timed out after 10 ms (killed its process group)\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("x.md").path))
        let fallback = try forkcast(["report", Self.numpyRecording, "--plugin", "markdown"], extra: ["FORKCAST_PLUGIN_TIMEOUT": "0.01"])
        XCTAssertEqual(fallback.status, 0, fallback.stderr)
        XCTAssertTrue(fallback.stderr.contains("reporter markdown: timed out"), fallback.stderr)
        XCTAssertTrue(fallback.stdout.hasSuffix(".html\n"), fallback.stdout)
    }

    func testExperimentWithThePluginStrategy() throws {
        let script = dir.appendingPathComponent("job.py")
        try "import os\nprint(os.environ['FORKCAST_STRATEGY'], os.environ['FORKCAST_WORKERS'], os.environ.get('OPENBLAS_NUM_THREADS'))\n"
            .write(to: script, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("exp")
        let r = try forkcast(["experiment", "--plugin", "joblib", "--strategies", "serial,processes", "--workers", "2", "--repeat", "1",
                              "--max-repeat", "1", "--warmup", "0", "--no-record", "-o", out.path, "--", "python3", script.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let exp = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("experiment.json"))) as? [String: Any])
        XCTAssertEqual((exp["setup"] as? [String: Any])?["strategy_plugin"] as? String, "joblib")
        let runs = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("runs").path).filter { $0.hasSuffix(".stdout") }.sorted()
        let outputs = try runs.map { try String(contentsOf: out.appendingPathComponent("runs/\($0)"), encoding: .utf8) }
        XCTAssertEqual(outputs.sorted(), ["processes 2 1\n", "serial 1 None\n"], "\(runs)")
        let wrong = try forkcast(["experiment", "--plugin", "joblib", "--strategies", "serial", "--workers", "1", "--repeat", "1",
                                  "--no-record", "-o", out.path, "--", "./a.out"])
        XCTAssertEqual(wrong.status, 2)
        XCTAssertTrue(wrong.stderr.hasSuffix("forkcast: error: strategy joblib: reported an error: ValueError: ./a.out is not a Python program (run it as `python3 script.py ...`)\n"), wrong.stderr)
    }

    // MARK: isolation

    /// Crash, hang, garbage, wrong version, an error message and a broken manifest, all
    /// selected at once next to a working plugin: each is one line naming it, the analysis
    /// is complete, the working plugin's finding is there, and the hung plugin's whole
    /// process group is gone.
    func testBrokenPluginsAreOneLineEachAndTheAnalysisGoesOn() throws {
        let broken = dir.appendingPathComponent("broken")
        try BrokenPlugins.make(in: broken)
        let path = try write(SampleInputs.profile(), "numpy.json")
        let start = Date()
        let r = try forkcast(["analyze", path, "--json", "--plugin", "all"], pluginPath: broken.path,
                             extra: ["FORKCAST_PLUGIN_TIMEOUT": "3"])
        let elapsed = Date().timeIntervalSince(start)
        let a = try analysis(r)
        XCTAssertLessThan(elapsed, 30, "the hung plugin held up the analysis")
        XCTAssertNotNil(a.recommendation)
        XCTAssertNotNil(a.overall)
        XCTAssertTrue(a.findings.contains { $0.source == "blas-oversubscription" }, "\(a.findings.map(\.source))")
        XCTAssertTrue(a.findings.contains { $0.source == "echo-analyzer" && $0.title == "echo: 4 threads" })
        let expected: [String: String] = [
            "crasher": "analyzer crasher: was killed by signal 11",
            "hang": "analyzer hang: timed out after 3 s (killed its process group)",
            "garbage": "analyzer garbage: sent garbage instead of its handshake: \"hello from a print statement\"",
            "wrong-version": "analyzer wrong-version: speaks protocol version 2; this forkcast speaks 1",
            "complainer": "rule complainer: reported an error: cannot advise without an experiment",
            "bad-manifest": "plugin bad-manifest: broken manifest",
            "half-answer": "analyzer half-answer: malformed findings response: missing \"findings.0.title\"",
            "quitter": "analyzer quitter: exited with status 3 before sending its handshake",
        ]
        for (name, text) in expected {
            let lines = a.errors.filter { $0.contains(name) }
            XCTAssertEqual(lines.count, 1, "\(name): \(a.errors)")
            XCTAssertTrue(lines.first?.hasPrefix(text) == true, "\(name): \(lines)")
            XCTAssertEqual(r.stderr.components(separatedBy: "\n").filter { $0.hasPrefix("forkcast: warning: ") && $0.contains(text) }.count, 1,
                           "\(name) on stderr: \(r.stderr)")
        }
        XCTAssertEqual(a.errors.count, expected.count, "\(a.errors)")
        // A plugin's stderr is the user's log, prefixed with its name.
        XCTAssertTrue(r.stderr.contains("[plugin echo-analyzer] echo: looked at 4 threads"), r.stderr)
        // The hung plugin's child (same process group) was killed with it.
        let childPid = try XCTUnwrap(Int32(String(contentsOf: broken.appendingPathComponent("hang/child.pid"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        var gone = false
        for _ in 0..<100 where !gone {
            gone = kill(childPid, 0) != 0 || (try? String(contentsOfFile: "/proc/\(childPid)/stat", encoding: .utf8))?.contains(") Z ") == true
            if !gone { usleep(20_000) }
        }
        XCTAssertTrue(gone, "the hung plugin's child \(childPid) survived")

        // The terminal summary names them too, after the complete report.
        let text = try forkcast(["analyze", path, "--plugin", "crasher,garbage"], pluginPath: broken.path)
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("Where the time went"))
        XCTAssertTrue(text.stdout.contains("error: analyzer crasher: was killed by signal 11"), text.stdout)
        XCTAssertTrue(text.stdout.contains("error: analyzer garbage: sent garbage"), text.stdout)
    }

    // MARK: the shipped plugins' own tests

    /// Each shipped plugin's own tests, with the SDK on PYTHONPATH as forkcast gives it.
    func testShippedPluginsOwnPythonTests() throws {
        let root = Fixtures.repositoryRoot.appendingPathComponent("plugins")
        var env = Foundation.ProcessInfo.processInfo.environment
        env["PYTHONPATH"] = Fixtures.repositoryRoot.appendingPathComponent("assets/sdk").path
        env["PYTHONDONTWRITEBYTECODE"] = "1"  // nothing new in assets/ (a SwiftPM target)
        for name in ["blas-oversubscription", "pickle-cost", "scaling-knee", "markdown", "joblib"] {
            let r = try Fixtures.run("/usr/bin/env", ["python3", "-m", "unittest", "discover", "-s", root.appendingPathComponent(name).path], environment: env)
            XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("\nOK"), "\(name): \(r.stderr)")
        }
    }

    /// One SDK: no plugin folder carries a copy of forkcast_plugin.py (forkcast puts the
    /// one in assets/sdk/ on their PYTHONPATH), each folder has its README, and the
    /// plugins and the SDK pass the linters.
    func testPluginFoldersCarryNoCopyOfTheSDK() throws {
        let root = Fixtures.repositoryRoot.appendingPathComponent("plugins")
        var python: [String] = []
        let walker = try XCTUnwrap(FileManager.default.enumerator(atPath: root.path))
        for case let path as String in walker where path.hasSuffix(".py") && !path.contains("__pycache__") {
            XCTAssertNotEqual((path as NSString).lastPathComponent, PluginSDK.fileName, "a copy of the SDK: plugins/\(path)")
            python.append(root.appendingPathComponent(path).path)
        }
        for name in ["blas-oversubscription", "pickle-cost", "scaling-knee", "markdown", "joblib"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent("\(name)/README.md").path), name)
        }
        XCTAssertGreaterThanOrEqual(python.count, 10)
        python.append(Fixtures.repositoryRoot.appendingPathComponent("assets/sdk/forkcast_plugin.py").path)
        XCTAssertEqual(try Linters.python(python), [])
    }
}
