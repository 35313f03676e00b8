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
        let order = p.schedule.map { "\($0.configuration) \($0.kind.rawValue)\($0.repetition)" }
        XCTAssertEqual(order, [
            "serial warmup0", "threads×2 warmup0",
            "serial measured0", "threads×2 measured0",
            "serial measured1", "threads×2 measured1",
            "serial recorded0", "threads×2 recorded0",
        ])
    }

    func testTemplateSubstitution() throws {
        let specs = try CommandTemplateStrategy().launchSpecs(for: Workload(command: ["run", "--mode={strategy}", "-j", "{workers}"]),
                                                              strategy: "threads", workers: 4)
        XCTAssertEqual(specs.first?.command, ["run", "--mode=threads", "-j", "4"])
    }

    func testStrategyAndWorkerParsing() throws {
        XCTAssertEqual(try parseStrategies("serial, threads,processes"), [.serial, .threads, .processes])
        XCTAssertThrowsError(try parseStrategies("serial,fibers")) { e in
            XCTAssertEqual((e as? ExperimentError)?.description, "unknown strategy \"fibers\" (known: serial, threads, processes, hybrid)")
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
    private func s(_ strategy: String, _ workers: Int, _ median: Double, _ lo: Double, _ hi: Double, rss: UInt64 = 20 << 20,
                   procs: Int = 1, excluded: String? = nil) -> ConfigurationSummary {
        ConfigurationSummary(strategy: strategy, workers: workers, medianWallSeconds: median, ciLowSeconds: lo, ciHighSeconds: hi,
                             speedup: 1, cpuSeconds: median, peakRSSBytes: rss, measuredRuns: 5, successfulRuns: 5, processes: procs,
                             excludedReason: excluded)
    }

    func testDecisiveWinnerAndMargin() throws {
        let rec = try XCTUnwrap(ExperimentRecommender.recommend(summary: [
            s("serial", 1, 2.0, 1.9, 2.1), s("threads", 2, 1.9, 1.8, 2.0), s("processes", 2, 1.0, 0.95, 1.05, rss: 60 << 20, procs: 3),
        ]))
        XCTAssertEqual(rec.strategy, .processes)
        XCTAssertEqual(rec.workers, 2)
        XCTAssertTrue(rec.decisive)
        XCTAssertEqual(rec.margin, 0.9, accuracy: 1e-9)
        XCTAssertEqual(rec.runnerUp, ConfigurationRef(strategy: "threads", workers: 2))
        XCTAssertTrue(rec.reasons[0].text.contains("do not overlap"))
    }

    func testASingleRunNeverWinsOutright() throws {
        var a = s("processes", 2, 1.0, 1.0, 1.0, procs: 3), b = s("serial", 1, 1.1, 1.1, 1.1)
        a.successfulRuns = 1
        b.successfulRuns = 1
        let rec = try XCTUnwrap(ExperimentRecommender.recommend(summary: [b, a]))
        XCTAssertFalse(rec.decisive)
        XCTAssertEqual(rec.strategy, .serial, "a tie goes to the cheaper configuration")
    }

    func testTiePrefersTheCheaperConfiguration() throws {
        let rec = try XCTUnwrap(ExperimentRecommender.recommend(summary: [
            s("serial", 1, 2.0, 1.9, 2.1),
            s("threads", 4, 1.02, 0.97, 1.08, procs: 1),
            s("processes", 4, 1.00, 0.96, 1.06, rss: 90 << 20, procs: 5),
        ]))
        XCTAssertFalse(rec.decisive)
        XCTAssertEqual(rec.strategy, .threads)
        XCTAssertEqual(rec.fastest, ConfigurationRef(strategy: "processes", workers: 4))
        XCTAssertEqual(rec.tiedWith, [ConfigurationRef(strategy: "threads", workers: 4)])
        XCTAssertLessThan(rec.margin, 0)
        XCTAssertEqual(rec.confidence, 0.5)
    }

    func testExcludedConfigurationsAreNeverRecommended() throws {
        let rec = try XCTUnwrap(ExperimentRecommender.recommend(summary: [
            s("serial", 1, 2.0, 1.9, 2.1),
            s("hybrid", 2, 0.5, 0.45, 0.55, procs: 3, excluded: "stdout differs from the baseline's"),
            s("threads", 2, 1.5, 1.4, 1.6),
        ]))
        XCTAssertEqual(rec.strategy, .threads)
        XCTAssertTrue(rec.reasons.contains { $0.text.contains("hybrid×2 not recommended: stdout differs") })
        XCTAssertNil(ExperimentRecommender.recommend(summary: [s("serial", 1, 1, 1, 1, excluded: "2 of 2 runs failed")]))
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
                       "w.yml:2: unknown strategy \"fibers\" (known: serial, threads, processes, hybrid)")
        XCTAssertEqual(error("command: ./x\nworkers: [1, many]\n"), "w.yml:2: workers: \"many\" is not a whole number ≥ 1")
        XCTAssertEqual(error("workers: [1]\n"), "w.yml:1: no command: give command: (with {strategy}/{workers}, or a Python program) or one command per strategy under strategies:")
        XCTAssertEqual(error("command: 'unterminated\n"), "w.yml:2: found unexpected end of stream while scanning a quoted scalar")
        XCTAssertTrue(error("command: ./x\n  bad: [\n").hasPrefix("w.yml:"), error("command: ./x\n  bad: [\n"))
        XCTAssertEqual(error("command: ./x\ntimeout: soon\n"), "w.yml:2: timeout: expected a positive number of seconds")
    }
}
