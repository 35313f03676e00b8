import XCTest
import ForkcastModel
import ForkcastTestSupport
@testable import ForkcastExperiment

/// Tests that launch real processes: the executor swap on unmodified Python scripts, the
/// process-tree measurement, and a small end-to-end experiment.
final class RunTests: XCTestCase {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/experiment")

    private var dir: URL!

    /// The real Python interpreter (not a pyenv shim, whose bash start-up adds noise).
    static let python: String = {
        let r = try? Fixtures.run("/usr/bin/env", ["python3", "-c", "import sys; print(sys.executable)"])
        let path = (r?.stdout ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        return path.isEmpty ? "python3" : path
    }()

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("fc-exp-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    struct Probe: Decodable {
        var executor: String
        var main_pid: Int
        var pids: [Int]
        var workers: [String]
        var results: [Int]
    }

    /// Runs swap_probe.py under the hook with `strategy`, 2 workers; returns what it printed.
    private func probe(_ api: String, _ strategy: String, startMethod: String? = nil) throws -> (Probe, [String]) {
        let hook = try PythonSwapHook.install(in: dir.appendingPathComponent("hook"))
        let script = Self.examples.appendingPathComponent("swap_probe.py").path
        // Hybrid×4 with 2 threads per process: 2 processes × 2 threads (workers are total concurrency).
        var spec = try PythonExecutorSwapStrategy(hookDirectory: hook, hybridThreads: 2)
            .launchSpecs(for: Workload(command: [Self.python, script, api] + (startMethod.map { [$0] } ?? [])), strategy: strategy,
                         workers: strategy == "hybrid" ? 4 : 2)[0]
        let report = dir.appendingPathComponent("\(api)-\(strategy).swaps")
        spec.environment["FORKCAST_SWAP_REPORT"] = report.path
        let m = ProcessRunner().run(spec, timeout: 60, stop: nil, outputDirectory: dir, label: "\(api)-\(strategy)")
        XCTAssertEqual(m.outcome, .ok, "\(api) under \(strategy): \(m.stderrTail)")
        let p = try JSONDecoder().decode(Probe.self, from: m.stdout)
        XCTAssertEqual(p.results, (0..<8).map { $0 * $0 }, "\(api) under \(strategy) computed wrong results")
        return (p, PythonSwapHook.readReport(report) ?? [])
    }

    private func assertSwap(_ api: String, requested: String, startMethod: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
        let strategies = startMethod == nil ? ["serial", "threads", "processes", "hybrid"] : ["processes", "hybrid"]
        for strategy in strategies {
            let (p, swaps) = try probe(api, strategy, startMethod: startMethod)
            switch strategy {
            case "serial":
                XCTAssertEqual(p.pids, [p.main_pid], "serial must run in the main process", file: file, line: line)
                XCTAssertEqual(p.workers, ["\(p.main_pid)/MainThread"], "serial must run in the calling thread", file: file, line: line)
                XCTAssertEqual(swaps.count, 1, file: file, line: line)
                XCTAssertTrue(swaps[0].hasPrefix("\(requested)→Serial"), swaps[0], file: file, line: line)
            case "threads":
                XCTAssertEqual(p.pids, [p.main_pid], "threads must stay in one process", file: file, line: line)
                XCTAssertEqual(p.workers.count, 2, "threads must use exactly 2 worker threads: \(p.workers)", file: file, line: line)
                XCTAssertEqual(swaps, ["\(requested)→\(requested.contains("Executor") ? "ThreadPoolExecutor" : "ThreadPool")×2"], file: file, line: line)
            case "processes":
                XCTAssertEqual(p.pids.count, 2, "processes must use 2 worker processes: \(p.pids)", file: file, line: line)
                XCTAssertFalse(p.pids.contains(p.main_pid), file: file, line: line)
                XCTAssertEqual(swaps, ["\(requested)→\(requested.contains("Executor") ? "ProcessPoolExecutor" : "Pool")×2"], file: file, line: line)
            default:
                XCTAssertEqual(p.pids.count, 2, "hybrid must use 2 worker processes: \(p.pids)", file: file, line: line)
                XCTAssertFalse(p.pids.contains(p.main_pid), file: file, line: line)
                // 8 tasks of 50 ms on 2 processes × 2 threads: several threads per process ran tasks.
                XCTAssertGreaterThan(p.workers.count, 2, "hybrid must run a thread pool inside each process: \(p.workers)", file: file, line: line)
                XCTAssertEqual(swaps.count, 1, file: file, line: line)
                XCTAssertTrue(swaps[0].hasPrefix("\(requested)→Hybrid"), swaps[0], file: file, line: line)
            }
        }
    }

    func testSwapConcurrentFuturesThreadPoolExecutor() throws {
        try assertSwap("futures-threads", requested: "ThreadPoolExecutor")
    }

    func testSwapConcurrentFuturesProcessPoolExecutor() throws {
        try assertSwap("futures-processes", requested: "ProcessPoolExecutor")
    }

    func testSwapMultiprocessingPool() throws {
        try assertSwap("pool", requested: "Pool")
    }

    func testSwapThreadPool() throws {
        try assertSwap("threadpool", requested: "ThreadPool")
    }

    func testSwapUnderSpawnStartMethod() throws {
        // Under spawn the children import the hook afresh (PYTHONPATH is inherited).
        try assertSwap("futures-threads", requested: "ThreadPoolExecutor", startMethod: "spawn")
    }

    func testWithoutStrategyTheHookChangesNothing() throws {
        let hook = try PythonSwapHook.install(in: dir.appendingPathComponent("hook"))
        let script = Self.examples.appendingPathComponent("swap_probe.py").path
        let spec = LaunchSpec(command: [Self.python, script, "futures-threads"], environment: ["PYTHONPATH": hook.path])
        let m = ProcessRunner().run(spec, timeout: 60, stop: nil, outputDirectory: dir, label: "plain")
        let p = try JSONDecoder().decode(Probe.self, from: m.stdout)
        XCTAssertEqual(p.executor, "ThreadPoolExecutor")
        XCTAssertEqual(p.workers.count, 3, "the script's own max_workers=3 must stand")
    }

    func testMeasuresTheWholeTreeAndKillsItOnTimeout() throws {
        // A parent that starts two CPU-burning children and waits: the CPU of the children
        // (reaped by the parent) is in the measurement, and three processes were alive.
        let burn = "i=0; while [ $i -lt 60000 ]; do i=$((i+1)); done"
        let spec = LaunchSpec(command: ["/bin/sh", "-c", "(\(burn)) & (\(burn)) & wait"])
        let m = ProcessRunner().run(spec, timeout: 60, stop: nil, outputDirectory: dir, label: "tree")
        XCTAssertEqual(m.outcome, .ok)
        XCTAssertGreaterThanOrEqual(m.peakProcesses, 3)
        XCTAssertGreaterThan(m.cpuSeconds, 0.05)
        XCTAssertGreaterThan(m.peakRSSBytes, 0)

        // A tree that would run for 30 s: the timeout kills the whole group, grandchild included.
        let hang = LaunchSpec(command: ["/bin/sh", "-c", "sleep 30 & sleep 30; wait"])
        let t = ProcessRunner().run(hang, timeout: 0.3, stop: nil, outputDirectory: dir, label: "hang")
        XCTAssertEqual(t.outcome, .timedOut)
        XCTAssertLessThan(t.wallSeconds, 5)
        XCTAssertEqual(t.exit?.signal, SIGKILL)

        let missing = ProcessRunner().run(LaunchSpec(command: ["/no/such/program"]), timeout: 1, stop: nil, outputDirectory: dir, label: "missing")
        XCTAssertEqual(missing.outcome, .notStarted)
        XCTAssertEqual(missing.startError, "cannot start \"/no/such/program\": No such file or directory")
    }

    func testEndToEndThreadsBeatSerialOnSleepWorkload() throws {
        let script = Self.examples.appendingPathComponent("io_sleep.py").path
        let plan = ExperimentPlan(
            workload: Workload(command: [Self.python, script, "--tasks", "8", "--sleep", "0.1", "--strategy", "{strategy}", "--workers", "{workers}"]),
            strategyPlugin: CommandTemplateStrategy(), strategies: [.serial, .threads], workers: [1, 2], repeatCount: 5, warmup: 0,
            timeout: 60, outputCheck: OutputCheck(), outputDirectory: dir, extendWorkers: false)
        let result = try ExperimentRunner().run(plan)
        XCTAssertEqual(result.runs.count, 15, "decided in the first batch: no rounds added")
        XCTAssertEqual(result.roundsAdded, 0)
        XCTAssertEqual(result.runs.prefix(6).map { "\($0.strategy)×\($0.workers)" },
                       ["serial×1", "threads×1", "threads×2", "threads×1", "threads×2", "serial×1"], "rounds rotate their order")
        XCTAssertTrue(result.runs.allSatisfy { $0.outcome == .ok && $0.outputMatchesBaseline == true })
        let rec = try XCTUnwrap(result.recommendation)
        // 8 × 100 ms: serial ≈ 0.8 s, threads×2 ≈ 0.4 s: a 0.4 s gap, far above start-up noise.
        XCTAssertEqual(rec.strategy, .threads)
        XCTAssertEqual(rec.workers, 2)
        XCTAssertTrue(rec.decisive, "\(result.summary)")
        let threads2 = try XCTUnwrap(result.summary.first { $0.strategy == "threads" && $0.workers == 2 })
        XCTAssertGreaterThan(threads2.speedup, 1.4)
        XCTAssertEqual(result.scaling.first?.strategy, "threads")
        XCTAssertEqual(result.scaling.first?.model, "amdahl")
        XCTAssertTrue(result.validate().isEmpty, "\(result.validate())")

        // The JSON contract: snake_case keys the docs promise.
        let json = String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
        for key in ["\"median_wall_s\"", "\"ci_low_s\"", "\"ci_high_s\"", "\"speedup\"", "\"cpu_s\"", "\"peak_rss_bytes\"", "\"margin\"", "\"reasons\"", "\"scaling\""] {
            XCTAssertTrue(json.contains(key), "missing \(key)")
        }
    }

    func testEndToEndSerialBeatsProcessesOnTinyTasksThroughTheSwap() throws {
        // An unmodified ThreadPoolExecutor script mapping 5 000 one-multiply calls: under
        // processes each call is pickled through a pipe (~0.5 s); serial is in-thread (~0.05 s).
        let script = Self.examples.appendingPathComponent("tiny_tasks.py").path
        let hook = try PythonSwapHook.install(in: dir.appendingPathComponent("hook"))
        let plan = ExperimentPlan(workload: Workload(command: [Self.python, script], environment: ["TINY_TASKS": "5000"]),
                                  strategyPlugin: PythonExecutorSwapStrategy(hookDirectory: hook),
                                  strategies: [.serial, .processes], workers: [2], repeatCount: 5, warmup: 0, timeout: 60,
                                  outputCheck: OutputCheck(), outputDirectory: dir)
        let result = try ExperimentRunner().run(plan)
        XCTAssertEqual(result.runs.compactMap(\.swaps).prefix(4), [["ThreadPoolExecutor→SerialExecutor×1"], ["ThreadPoolExecutor→ProcessPoolExecutor×2"],
                                                                  ["ThreadPoolExecutor→ProcessPoolExecutor×2"], ["ThreadPoolExecutor→SerialExecutor×1"]])
        XCTAssertTrue(result.runs.allSatisfy { $0.outputMatchesBaseline == true }, "the swap must not change the program's output")
        let rec = try XCTUnwrap(result.recommendation)
        XCTAssertEqual(rec.strategy, .serial)
        XCTAssertTrue(rec.decisive, "\(result.summary)")
        XCTAssertEqual(result.summary.first { $0.strategy == "processes" }?.processes, 3, "parent + 2 workers")
    }

    func testOutputMismatchIsFlaggedAndNeverRecommended() throws {
        // "threads" prints something else and is faster: it must be flagged, not recommended.
        let cmd = #"if [ {strategy} = threads ]; then echo different; else sleep 0.2; echo same; fi"#
        let plan = ExperimentPlan(workload: Workload(command: ["/bin/sh", "-c", cmd]), strategyPlugin: CommandTemplateStrategy(),
                                  strategies: [.serial, .threads], workers: [1], repeatCount: 2, warmup: 0, timeout: 30,
                                  outputCheck: OutputCheck(), outputDirectory: dir)
        let result = try ExperimentRunner().run(plan)
        let threads = try XCTUnwrap(result.summary.first { $0.strategy == "threads" })
        XCTAssertEqual(threads.outputMatchesBaseline, false)
        XCTAssertEqual(threads.excludedReason, "stdout differs from the baseline's")
        // Nothing left to compare serial with: no advice rather than "serial".
        XCTAssertEqual(result.recommendation?.strategy, .undecided)
        XCTAssertEqual(result.recommendation?.undecided?.kind, "output_differs")
        XCTAssertEqual(result.varied, false)
        XCTAssertTrue(result.scaling.isEmpty)
    }

    func testStopKeepsCompletedRuns() throws {
        let stop = StopFlag()
        let plan = ExperimentPlan(workload: Workload(command: ["/bin/sh", "-c", "sleep 0.05; echo {strategy}"]), strategyPlugin: CommandTemplateStrategy(),
                                  strategies: [.serial, .threads], workers: [1], repeatCount: 3, warmup: 0, outputDirectory: dir)
        var runner = ExperimentRunner(stop: stop)
        runner.progress = { p in if p.done == 3 { stop.stop() } }
        let result = try runner.run(plan)
        XCTAssertTrue(result.interrupted)
        XCTAssertEqual(result.runs.count, 3)
        XCTAssertTrue(result.notes.contains("interrupted: 3 of 6 runs completed"), "\(result.notes)")
        XCTAssertEqual(result.runs.map(\.strategy), ["serial", "threads", "threads"], "rounds rotate their order")
        XCTAssertEqual(result.summary.first?.successfulRuns, 1)
    }

    func testSetupAndTeardownRunAroundTheRuns() throws {
        let marker = dir.appendingPathComponent("log").path
        let plan = ExperimentPlan(workload: Workload(command: ["/bin/sh", "-c", "echo run-{strategy} >> \(marker)"]),
                                  strategyPlugin: CommandTemplateStrategy(), strategies: [.serial], workers: [1], repeatCount: 1, warmup: 0,
                                  setup: ["echo setup >> \(marker)"], teardown: ["echo teardown >> \(marker)"], outputDirectory: dir)
        _ = try ExperimentRunner().run(plan)
        XCTAssertEqual(try String(contentsOfFile: marker, encoding: .utf8), "setup\nrun-serial\nteardown\n")

        var failing = plan
        failing.setup = ["exit 3"]
        XCTAssertThrowsError(try ExperimentRunner().run(failing)) { e in
            XCTAssertEqual("\(e)", "setup command \"exit 3\" exit status 3")
        }
    }
}
