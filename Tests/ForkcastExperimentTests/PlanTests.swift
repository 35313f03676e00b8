import XCTest
import ForkcastModel
@testable import ForkcastExperiment

final class PlanTests: XCTestCase {
    private func plan(_ strategies: [ConcurrencyStrategy], workers: [Int], repeat r: Int, warmup: Int, record: Bool = false) -> ExperimentPlan {
        ExperimentPlan(workload: Workload(command: ["prog", "{strategy}", "{workers}"]), strategyPlugin: CommandTemplateStrategy(),
                       strategies: strategies, workers: workers, repeatCount: r, warmup: warmup, record: record,
                       outputDirectory: URL(fileURLWithPath: "/tmp/unused"))
    }

    func testMatrixRunsSerialOnce() {
        let p = plan([.serial, .threads, .processes], workers: [1, 2], repeat: 1, warmup: 0)
        XCTAssertEqual(p.configurations.map(\.description), ["serial", "threads×1", "threads×2", "processes×1", "processes×2"])
    }

    func testRunsAreInterleavedWarmupsFirstRecordingsLast() {
        let p = plan([.serial, .threads], workers: [2], repeat: 2, warmup: 1, record: true)
        let order = p.schedule.map { "\($0.configuration) \($0.kind.rawValue)\($0.round.map(String.init) ?? "-")" }
        // Measured rounds rotate their order, so no configuration always runs first.
        XCTAssertEqual(order, [
            "serial warmup-", "threads×2 warmup-",
            "serial measured0", "threads×2 measured0",
            "threads×2 measured1", "serial measured1",
            "serial recorded-", "threads×2 recorded-",
        ])
    }

    func testHybridAppearsOnlyWhereItMixesProcessesAndThreads() throws {
        let hook = URL(fileURLWithPath: "/tmp/unused-hook")
        let p = ExperimentPlan(workload: Workload(command: ["python3", "x.py"]), strategyPlugin: PythonExecutorSwapStrategy(hookDirectory: hook, cores: 2),
                               strategies: [.serial, .threads, .processes, .hybrid], workers: [1, 2, 4], outputDirectory: hook, cores: 2)
        XCTAssertEqual(p.configurations.map(\.description),
                       ["serial", "threads×1", "threads×2", "threads×4", "processes×1", "processes×2", "processes×4", "hybrid×4"])
        XCTAssertEqual(p.hybridSkipped, [1, 2])
        // hybrid×4 on 2 cores: 2 processes × 2 threads.
        let spec = try PythonExecutorSwapStrategy(hookDirectory: hook, cores: 2).launchSpecs(for: p.workload, strategy: "hybrid", workers: 4)[0]
        XCTAssertEqual(spec.environment["FORKCAST_WORKERS"], "2")
        XCTAssertEqual(spec.environment["FORKCAST_HYBRID_THREADS"], "2")
        let fixed = try PythonExecutorSwapStrategy(hookDirectory: hook, hybridThreads: 4, cores: 2).launchSpecs(for: p.workload, strategy: "hybrid", workers: 8)[0]
        XCTAssertEqual(fixed.environment["FORKCAST_WORKERS"], "2")
        XCTAssertEqual(fixed.environment["FORKCAST_HYBRID_THREADS"], "4")
    }

    func testDurationAndEquivalenceParsing() throws {
        XCTAssertEqual(try parseDuration("10m"), 600)
        XCTAssertEqual(try parseDuration("90s"), 90)
        XCTAssertEqual(try parseDuration("1h30m"), 5400)
        XCTAssertEqual(try parseDuration("45"), 45)
        XCTAssertThrowsError(try parseDuration("soon"))
        XCTAssertThrowsError(try parseDuration("10x"))
        XCTAssertEqual(try parseEquivalence("5%"), 0.05, accuracy: 1e-12)
        XCTAssertEqual(try parseEquivalence("2.5"), 0.025, accuracy: 1e-12)
        XCTAssertEqual(try parseEquivalence("0.05"), 0.05, accuracy: 1e-12)
        XCTAssertThrowsError(try parseEquivalence("150%"))
        XCTAssertThrowsError(try parseEquivalence("-1%"))
    }

    func testTemplateSubstitution() throws {
        let specs = try CommandTemplateStrategy().launchSpecs(for: Workload(command: ["run", "--mode={strategy}", "-j", "{workers}"]),
                                                              strategy: "threads", workers: 4)
        XCTAssertEqual(specs.first?.command, ["run", "--mode=threads", "-j", "4"])
    }

    func testStrategyAndWorkerParsing() throws {
        XCTAssertEqual(try parseStrategies("serial, threads,processes"), [.serial, .threads, .processes])
        XCTAssertThrowsError(try parseStrategies("serial,fibers")) { e in
            XCTAssertEqual((e as? ExperimentError)?.description, "unknown strategy \"fibers\" (known: serial, threads, processes, hybrid, interpreters)")
        }
        XCTAssertEqual(try parseWorkers("1,2,4"), [1, 2, 4])
        XCTAssertThrowsError(try parseWorkers("1,two"))
        XCTAssertThrowsError(try parseWorkers("0"))
    }

    func testWorkersPlaceholderWithoutStrategyIsRejected() {
        XCTAssertThrowsError(try chooseStrategyPlugin(command: ["prog", "-j", "{workers}"], strategies: [.serial, .threads], workers: [1, 2],
                                                      hookDirectory: URL(fileURLWithPath: "/tmp/unused"))) { e in
            XCTAssertTrue("\(e)".contains("{workers} but no {strategy}"), "\(e)")
        }
        // One strategy: varying only the workers is fine.
        XCTAssertNoThrow(try chooseStrategyPlugin(command: ["prog", "-j", "{workers}"], strategies: [.threads], workers: [1, 2],
                                                  hookDirectory: URL(fileURLWithPath: "/tmp/unused")))
    }

    func testNothingToVaryIsRejectedAndPythonGetsTheSwap() throws {
        let hook = FileManager.default.temporaryDirectory.appendingPathComponent("fc-hook-\(getpid())")
        defer { try? FileManager.default.removeItem(at: hook) }
        XCTAssertThrowsError(try chooseStrategyPlugin(command: ["gzip", "-9", "file"], strategies: [.serial, .threads], workers: [1], hookDirectory: hook)) { e in
            XCTAssertTrue("\(e)".contains("nothing to vary"), "\(e)")
        }
        let p = try chooseStrategyPlugin(command: ["python3", "script.py"], strategies: [.serial, .threads], workers: [1], hookDirectory: hook)
        XCTAssertTrue(p is PythonExecutorSwapStrategy)
        XCTAssertTrue(FileManager.default.fileExists(atPath: hook.appendingPathComponent("sitecustomize.py").path))
        let spec = try p.launchSpecs(for: Workload(command: ["python3", "script.py"]), strategy: "processes", workers: 3)[0]
        XCTAssertEqual(spec.command, ["python3", "script.py"])
        XCTAssertEqual(spec.environment["FORKCAST_STRATEGY"], "processes")
        XCTAssertEqual(spec.environment["FORKCAST_WORKERS"], "3")
        XCTAssertTrue(spec.environment["PYTHONPATH"]!.hasPrefix(hook.path))
        XCTAssertThrowsError(try p.launchSpecs(for: Workload(command: ["python3", "-S", "script.py"]), strategy: "threads", workers: 2))
    }

    func testPythonDetection() {
        XCTAssertTrue(PythonExecutorSwapStrategy.isPythonCommand(["python3", "x.py"]))
        XCTAssertTrue(PythonExecutorSwapStrategy.isPythonCommand(["/usr/bin/python3.11", "x.py"]))
        XCTAssertTrue(PythonExecutorSwapStrategy.isPythonCommand(["./tool.py"]))
        XCTAssertFalse(PythonExecutorSwapStrategy.isPythonCommand(["./a.out"]))
        XCTAssertFalse(PythonExecutorSwapStrategy.isPythonCommand(["pythonic"]))
    }

    func testShellWords() throws {
        XCTAssertEqual(try ShellWords.split(#"python3 -c 'print("a b")' "x y" z\ w"#), ["python3", "-c", #"print("a b")"#, "x y", "z w"])
        XCTAssertThrowsError(try ShellWords.split("echo 'open"))
    }

    func testOutputCheckFilters() {
        let check = OutputCheck(ignore: ["^took "], sortLines: true)
        XCTAssertEqual(check.normalize(Data("b\ntook 1.2s\na".utf8)), check.normalize(Data("a\nb\ntook 0.9s".utf8)))
        XCTAssertNotEqual(OutputCheck().normalize(Data("1\n".utf8)), OutputCheck().normalize(Data("2\n".utf8)))
    }
}

final class RecommenderTests: XCTestCase {
    /// Runs of one configuration: `walls[i]` in round i.
    private func runs(_ strategy: String, _ workers: Int, _ walls: [Double], procs: Int = 1) -> [ExperimentRun] {
        walls.enumerated().map { i, w in
            ExperimentRun(strategy: strategy, workers: workers, repetition: i, wallSeconds: w, cpuSeconds: w, peakRSSBytes: UInt64(20 << 20) * UInt64(procs),
                          exit: ExitInfo(code: 0), failed: false, peakProcesses: procs, round: i)
        }
    }

    private func recommend(_ runs: [ExperimentRun], _ configs: [Configuration], equivalence: Double = 0.05) -> ExperimentRecommendation? {
        let summary = ExperimentSummarizer.summarize(configurations: configs, runs: runs, seed: 1)
        return ExperimentRecommender.recommend(summary: summary, runs: runs, equivalence: equivalence, seed: 1)
    }

    func testSeparatedWinnerAndPairedMargin() throws {
        let r = runs("serial", 1, [2.0, 2.1, 1.9, 2.0, 2.05]) + runs("threads", 2, [1.9, 1.95, 1.85, 1.9, 1.92])
            + runs("processes", 2, [1.0, 1.02, 0.98, 1.0, 1.01], procs: 3)
        let rec = try XCTUnwrap(recommend(r, [Configuration(.serial, 1), Configuration(.threads, 2), Configuration(.processes, 2)]))
        XCTAssertEqual(rec.strategy, .processes)
        XCTAssertEqual(rec.workers, 2)
        XCTAssertTrue(rec.decisive)
        XCTAssertEqual(rec.margin, 0.9, accuracy: 0.03)
        XCTAssertEqual(rec.runnerUp, ConfigurationRef(strategy: "threads", workers: 2))
        XCTAssertTrue(rec.reasons[0].text.contains("separated"), rec.reasons[0].text)
    }

    func testFewerThanFivePairsDecideNothing() throws {
        let r = runs("serial", 1, [1.1, 1.1, 1.1, 1.1]) + runs("processes", 2, [1.0, 1.0, 1.0, 1.0], procs: 3)
        let rec = try XCTUnwrap(recommend(r, [Configuration(.serial, 1), Configuration(.processes, 2)]))
        XCTAssertEqual(rec.strategy, .undecided, "four rounds are not evidence; never a silent pick of the cheapest")
        XCTAssertEqual(rec.undecided?.candidates.count, 2)
    }

    func testOverlappingButNotEquivalentIsUndecided() throws {
        // The old rule called these a tie and picked the cheapest (threads); the paired ratio
        // is 0.97–1.12: neither separated nor within ±5%.
        let r = runs("threads", 4, [1.00, 1.10, 0.97, 1.08, 1.02]) + runs("processes", 4, [1.00, 0.98, 1.00, 0.96, 0.99], procs: 5)
        let rec = try XCTUnwrap(recommend(r, [Configuration(.threads, 4), Configuration(.processes, 4)]))
        XCTAssertEqual(rec.strategy, .undecided)
        XCTAssertEqual(rec.undecided?.candidates, [ConfigurationRef(strategy: "processes", workers: 4), ConfigurationRef(strategy: "threads", workers: 4)])
        XCTAssertNotNil(rec.undecided?.roundsLikelyNeeded)
        XCTAssertEqual(rec.confidence, 0)
    }

    func testExcludedConfigurationsAreNeverRecommended() throws {
        var r = runs("serial", 1, [2.0, 2.1, 1.9, 2.0, 2.0]) + runs("hybrid", 2, [0.5, 0.5, 0.5, 0.5, 0.5], procs: 3)
            + runs("threads", 2, [1.5, 1.5, 1.45, 1.5, 1.5])
        for i in r.indices where r[i].strategy == "hybrid" { r[i].outputMatchesBaseline = false }
        let rec = try XCTUnwrap(recommend(r, [Configuration(.serial, 1), Configuration(.hybrid, 2), Configuration(.threads, 2)]))
        XCTAssertEqual(rec.strategy, .threads)
        XCTAssertTrue(rec.reasons.contains { $0.text.contains("hybrid×2 not recommended: stdout differs") })
        var failed = runs("serial", 1, [1, 1])
        for i in failed.indices { failed[i].outcome = .failed; failed[i].failed = true }
        XCTAssertNil(recommend(failed, [Configuration(.serial, 1)]))
    }

    func testHybridSplitsTotalConcurrency() {
        XCTAssertTrue(HybridSplit.split(workers: 4, cores: 2) == (2, 2))
        XCTAssertTrue(HybridSplit.split(workers: 16, cores: 2) == (2, 8))
        XCTAssertTrue(HybridSplit.split(workers: 3, cores: 2) == (1, 3))
        XCTAssertTrue(HybridSplit.split(workers: 8, cores: 4) == (4, 2))
        XCTAssertTrue(HybridSplit.split(workers: 8, cores: 2, threadsOverride: 4) == (2, 4))
        XCTAssertFalse(HybridSplit.isMixed(workers: 2, cores: 2))
        XCTAssertTrue(HybridSplit.isMixed(workers: 4, cores: 2))
    }

    func testSummaryExcludesMismatchedOutputAndFailedRuns() {
        func run(_ strategy: String, _ wall: Double, outcome: RunOutcome = .ok, matches: Bool? = true) -> ExperimentRun {
            ExperimentRun(strategy: strategy, workers: 2, repetition: 0, wallSeconds: wall, cpuSeconds: wall, peakRSSBytes: 1,
                          exit: ExitInfo(code: 0), failed: outcome != .ok, outcome: outcome, outputMatchesBaseline: matches)
        }
        let configs = [Configuration(.threads, 2), Configuration(.processes, 2), Configuration(.hybrid, 2)]
        let runs = [run("threads", 1.0), run("threads", 1.1), run("processes", 0.5, matches: false), run("processes", 0.6),
                    run("hybrid", 0.4), run("hybrid", 9, outcome: .timedOut, matches: nil)]
        let sum = ExperimentSummarizer.summarize(configurations: configs, runs: runs, seed: 1)
        XCTAssertNil(sum[0].excludedReason)
        XCTAssertEqual(sum[1].excludedReason, "stdout differs from the baseline's")
        XCTAssertEqual(sum[2].excludedReason, "1 of 2 runs timed out")
        XCTAssertEqual(sum[2].successfulRuns, 1)
        let again = ExperimentSummarizer.summarize(configurations: configs, runs: runs, seed: 1)
        XCTAssertEqual(sum, again)
    }
}

final class WorkloadFileTests: XCTestCase {
    func testParsesAFullFile() throws {
        let w = try WorkloadFile.parse("""
        # a comment
        command: python3 app.py --mode {strategy} -j {workers}
        strategies: [serial, threads]
        workers: [1, 2, 8]
        repeat: 3
        warmup: 0
        timeout: 30
        env:
          APP_SIZE: 1000
        setup:
          - echo ready
        teardown: echo bye
        check:
          ignore: ["^took "]
          sort_lines: true
        """, name: "w.yml")
        XCTAssertEqual(w.command, ["python3", "app.py", "--mode", "{strategy}", "-j", "{workers}"])
        XCTAssertEqual(w.strategies, [.serial, .threads])
        XCTAssertEqual(w.workers, [1, 2, 8])
        XCTAssertEqual(w.repeatCount, 3)
        XCTAssertEqual(w.warmup, 0)
        XCTAssertEqual(w.timeout, 30)
        XCTAssertEqual(w.environment, ["APP_SIZE": "1000"])
        XCTAssertEqual(w.setup, ["echo ready"])
        XCTAssertEqual(w.teardown, ["echo bye"])
        XCTAssertEqual(w.check, OutputCheck(ignore: ["^took "], sortLines: true))
    }

    func testPerStrategyCommands() throws {
        let w = try WorkloadFile.parse("""
        strategies:
          serial: ./app --serial
          threads:
            command: [./app, --threads, "{workers}"]
            env: {MODE: fast}
        """)
        XCTAssertEqual(w.strategies, [.serial, .threads])
        XCTAssertEqual(w.perStrategy["threads"]?.command, ["./app", "--threads", "{workers}"])
        let spec = try PerStrategyCommandStrategy(commands: w.perStrategy.mapValues { ($0.command, $0.environment) })
            .launchSpecs(for: Workload(command: []), strategy: "threads", workers: 4)[0]
        XCTAssertEqual(spec.command, ["./app", "--threads", "4"])
        XCTAssertEqual(spec.environment["MODE"], "fast")
    }

    func testErrorsCarryLineAndReason() {
        func error(_ text: String) -> String {
            do { _ = try WorkloadFile.parse(text, name: "w.yml"); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(error("command: ./x {strategy}\nworkers: [1, 2]\nrepeats: 3\n"),
                       "w.yml:3: unknown setting \"repeats\" (known: check, command, cwd, description, env, environment, hybrid_threads, name, record, repeat, setup, strategies, teardown, timeout, warmup, workers)")
        XCTAssertEqual(error("command: ./x\nstrategies: [serial, fibers]\n"),
                       "w.yml:2: unknown strategy \"fibers\" (known: serial, threads, processes, hybrid, interpreters)")
        XCTAssertEqual(error("command: ./x\nworkers: [1, many]\n"), "w.yml:2: workers: \"many\" is not a whole number ≥ 1")
        XCTAssertEqual(error("workers: [1]\n"), "w.yml:1: no command: give command: (with {strategy}/{workers}, or a Python program) or one command per strategy under strategies:")
        XCTAssertEqual(error("command: 'unterminated\n"), "w.yml:2: found unexpected end of stream while scanning a quoted scalar")
        XCTAssertTrue(error("command: ./x\n  bad: [\n").hasPrefix("w.yml:"), error("command: ./x\n  bad: [\n"))
        XCTAssertEqual(error("command: ./x\ntimeout: soon\n"), "w.yml:2: timeout: expected a positive number of seconds")
    }
}
