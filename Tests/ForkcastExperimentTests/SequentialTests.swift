import XCTest
import ForkcastModel
@testable import ForkcastExperiment

/// The sequential design on synthetic timing streams: the real run loop of
/// `ExperimentRunner` with `measure` returning times from a model instead of launching.
final class SequentialTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("fc-seq-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    /// A timing stream: each configuration's true time, multiplicative per-run noise
    /// (uniform ±noise), and a per-round factor hitting every run of a round alike.
    struct Stream: Sendable {
        var times: [String: Double]
        var noise: Double
        var roundFactor: @Sendable (Int) -> Double = { _ in 1 }
        var seed: UInt64 = 1
        var cpuPerWall: Double = 1
        /// Per-configuration noise where it differs from `noise`.
        var noiseOf: [String: Double] = [:]
        /// The whole machine's busy CPUs during each run (nil: not measured).
        var machineBusyPerWall: Double?

        func measurement(_ c: Configuration, _ item: ScheduledRun, sequence: Int) -> RunMeasurement {
            var rng = SeededRandom(seed: Statistics.seed(seed, "\(c.description)-\(item.kind)-\(item.round ?? -1)-\(item.repetition)-\(sequence)"))
            let u = Double(rng.next() % 1_000_000) / 1_000_000 * 2 - 1
            // Configurations the stream does not name are far behind (never contenders).
            let base = times[c.description] ?? 5
            let wall = base * (1 + (noiseOf[c.description] ?? noise) * u) * roundFactor(item.round ?? 0)
            let procs = c.strategy == .processes ? c.workers + 1 : c.strategy == .hybrid ? 3 : 1
            var m = RunMeasurement(wallSeconds: wall, userSeconds: wall * cpuPerWall, peakRSSBytes: UInt64(20 << 20) * UInt64(procs),
                                   peakProcesses: procs, exit: ExitInfo(code: 0), outcome: .ok)
            m.machineBusySeconds = machineBusyPerWall.map { $0 * wall }
            return m
        }
    }

    private func plan(_ strategies: [ConcurrencyStrategy], workers: [Int], repeat n: Int = 5, maxRepeat: Int? = nil,
                      budget: Double? = 600, extend: Bool = false) -> ExperimentPlan {
        ExperimentPlan(workload: Workload(command: ["./prog", "{strategy}", "{workers}"]), strategyPlugin: CommandTemplateStrategy(),
                       strategies: strategies, workers: workers, repeatCount: n, warmup: 0, outputDirectory: dir,
                       maxRepeat: maxRepeat, budgetSeconds: budget, cores: 2, extendWorkers: extend)
    }

    private func run(_ plan: ExperimentPlan, _ stream: Stream) throws -> (ExperimentResult, [String]) {
        let lines = LineLog()
        var runner = ExperimentRunner()
        let counter = LineLog()
        runner.measure = { _, c, item in
            counter.add("")
            return stream.measurement(c, item, sequence: counter.count)
        }
        runner.log = { lines.add($0) }
        let result = try runner.run(plan)
        XCTAssertTrue(result.validate().isEmpty, "\(result.validate())")
        return (result, lines.lines)
    }

    func testDecidedEarly() throws {
        let stream = Stream(times: ["serial": 2.0, "threads×2": 1.9, "processes×2": 1.0], noise: 0.03)
        let (result, log) = try run(plan([.serial, .threads, .processes], workers: [2]), stream)
        let rec = try XCTUnwrap(result.recommendation)
        XCTAssertEqual(rec.strategy, .processes)
        XCTAssertEqual(rec.workers, 2)
        XCTAssertTrue(rec.decisive)
        XCTAssertEqual(result.roundsAdded, 0, "\(log)")
        XCTAssertEqual(result.rounds, 5)
        XCTAssertEqual(result.runs.count, 15)
        // Paired speedup over serial ≈ 2, its interval bracketing the median.
        let p = try XCTUnwrap(result.summary.first { $0.strategy == "processes" }?.pairedSpeedup)
        XCTAssertEqual(p.median, 2.0, accuracy: 0.15)
        XCTAssertLessThanOrEqual(p.low, p.median)
        XCTAssertGreaterThanOrEqual(p.high, p.median)
        XCTAssertEqual(p.pairs, 5)
        XCTAssertTrue(rec.reasons[0].text.contains("separated"), rec.reasons[0].text)
    }

    func testMoreRoundsThenDecided() throws {
        // 10% apart with ±25% noise per run: five rounds cannot separate them; more do.
        let stream = Stream(times: ["serial": 3.0, "processes×2": 1.00, "hybrid×4": 1.10, "processes×4": 1.5, "hybrid×2": 1.5],
                            noise: 0.25, seed: 7)
        let (result, log) = try run(plan([.serial, .processes, .hybrid], workers: [2, 4], maxRepeat: 40), stream)
        let rec = try XCTUnwrap(result.recommendation)
        XCTAssertGreaterThan(result.roundsAdded ?? 0, 0, "the first batch should not have decided: \(log)")
        XCTAssertEqual(rec.strategy, .processes, "\(rec.reasons.map(\.text))")
        XCTAssertEqual(rec.workers, 2)
        XCTAssertLessThanOrEqual(result.rounds ?? 0, 40)
        // Progress says why rounds were added, naming the two configurations.
        XCTAssertTrue(log.contains { $0.hasPrefix("processes×2 vs hybrid×4 undecided: ") && $0.hasSuffix("more rounds") }, "\(log)")
        XCTAssertEqual(result.roundLog ?? [], log)
        // Added rounds ran just the contenders, not serial.
        let serialRuns = result.runs.filter { $0.strategy == "serial" }.count
        XCTAssertEqual(serialRuns, 5)
        XCTAssertGreaterThan(result.runs.filter { $0.strategy == "hybrid" }.count, 5)
    }

    func testEquivalentGoesToTheCheapest() throws {
        // processes×4 is 1% faster than threads×4, with ±1% noise: practically equal, and
        // threads (one process) is cheaper.
        let stream = Stream(times: ["serial": 3.0, "threads×4": 1.00, "processes×4": 0.99], noise: 0.01, seed: 3)
        let (result, _) = try run(plan([.serial, .threads, .processes], workers: [4]), stream)
        let rec = try XCTUnwrap(result.recommendation)
        XCTAssertEqual(rec.strategy, .threads)
        XCTAssertEqual(rec.workers, 4)
        XCTAssertFalse(rec.decisive)
        XCTAssertEqual(rec.fastest, ConfigurationRef(strategy: "processes", workers: 4))
        XCTAssertEqual(rec.tiedWith, [ConfigurationRef(strategy: "processes", workers: 4)])
        XCTAssertLessThan(rec.margin, 0)
        XCTAssertEqual(rec.equivalence, 0.05)
        XCTAssertTrue(rec.reasons[0].text.contains("practically equivalent"), rec.reasons[0].text)
    }

    func testUndecidedAtTheBudget() throws {
        // 4% apart with ±20% noise: neither separable nor provably within ±5% in the budget.
        let stream = Stream(times: ["processes×2": 1.00, "hybrid×4": 1.04, "processes×4": 1.5, "hybrid×2": 1.5], noise: 0.20, seed: 11)
        let (result, log) = try run(plan([.processes, .hybrid], workers: [2, 4], maxRepeat: 1000, budget: 40), stream)
        let rec = try XCTUnwrap(result.recommendation)
        XCTAssertEqual(rec.strategy, .undecided, "\(rec.reasons.map(\.text))")
        XCTAssertEqual(rec.workers, 0)
        let u = try XCTUnwrap(rec.undecided)
        XCTAssertEqual(u.kind, "not_separated")
        XCTAssertEqual(Set(u.candidates), [ConfigurationRef(strategy: "processes", workers: 2), ConfigurationRef(strategy: "hybrid", workers: 4)])
        let ratio = try XCTUnwrap(u.ratio)
        XCTAssertLessThanOrEqual(ratio.low, 1)
        XCTAssertGreaterThan(ratio.high, 1.05)
        XCTAssertNotNil(u.roundsLikelyNeeded)
        XCTAssertTrue(u.reason.contains("at the time budget (--budget 40"), u.reason)
        XCTAssertFalse(log.isEmpty)
        // The runs' total time stayed within the budget plus one batch.
        XCTAssertLessThan(result.runs.reduce(0) { $0 + $1.wallSeconds }, 40 + 1.3 * 2)
    }

    func testUndecidedAtMaxRepeatSaysSo() throws {
        let stream = Stream(times: ["threads×2": 1.00, "processes×2": 1.04], noise: 0.20, seed: 5)
        let (result, _) = try run(plan([.threads, .processes], workers: [2], repeat: 3, maxRepeat: 6), stream)
        let rec = try XCTUnwrap(result.recommendation)
        XCTAssertEqual(rec.strategy, .undecided)
        XCTAssertEqual(result.rounds, 6)
        XCTAssertEqual(result.roundsAdded, 3)
        XCTAssertTrue(rec.undecided?.reason.contains("after 6 rounds (--max-repeat 6)") == true, rec.undecided?.reason ?? "")
    }

    func testOpenOnlyOnTheWorkerCountStillSettlesTheStrategy() throws {
        // serial is far behind; threads×2 and threads×4 cannot be told apart: the strategy
        // is decided (threads), the count is said to be unsettled.
        let stream = Stream(times: ["serial": 3.0, "threads×2": 1.00, "threads×4": 1.03], noise: 0.2, seed: 5)
        let (result, _) = try run(plan([.serial, .threads], workers: [2, 4], repeat: 5, maxRepeat: 8), stream)
        let rec = try XCTUnwrap(result.recommendation)
        XCTAssertEqual(rec.strategy, .threads, "\(rec.reasons.map(\.text))")
        XCTAssertFalse(rec.decisive)
        XCTAssertNil(rec.undecided)
        XCTAssertTrue(rec.reasons.contains { $0.text.hasPrefix("The strategy is settled but the worker count is not after 8 rounds") }, "\(rec.reasons.map(\.text))")
    }

    func testOpenWorkerCountStillChoosesTheCheapestEquivalent() throws {
        // threads×8 leads by a hair, threads×2 is practically equivalent to it (steady),
        // threads×4 is too noisy to place: the strategy is settled, and of the leader and
        // its equivalents the cheapest (×2) is the advice — not the leader.
        var stream = Stream(times: ["serial": 3.0, "threads×8": 1.00, "threads×2": 1.01, "threads×4": 1.10], noise: 0.002, seed: 7)
        stream.noiseOf = ["threads×4": 0.35]
        let (result, _) = try run(plan([.serial, .threads], workers: [2, 4, 8], repeat: 5, maxRepeat: 8), stream)
        let rec = try XCTUnwrap(result.recommendation)
        XCTAssertEqual(rec.strategy, .threads, "\(rec.reasons.map(\.text))")
        XCTAssertEqual(rec.workers, 2, "\(rec.reasons.map(\.text))")
        XCTAssertTrue(rec.reasons.contains { $0.text.hasPrefix("The strategy is settled but the worker count is not") }, "\(rec.reasons.map(\.text))")
        XCTAssertTrue(rec.reasons.contains { $0.text.contains("threads×8 is the faster by median") }, "\(rec.reasons.map(\.text))")
    }

    func testDriftThatOnlyPairedRatiosCancel() throws {
        // The machine slows down round after round (a 1.0 → 2.4× drift); processes×2 is
        // always 15% faster than threads×2 in the same round. Medians' intervals overlap,
        // the paired ratio does not move.
        let stream = Stream(times: ["threads×2": 1.0, "processes×2": 0.85], noise: 0.005,
                            roundFactor: { 1 + 0.35 * Double($0) }, seed: 2)
        let (result, _) = try run(plan([.threads, .processes], workers: [2]), stream)
        let t = try XCTUnwrap(result.summary.first { $0.strategy == "threads" })
        let p = try XCTUnwrap(result.summary.first { $0.strategy == "processes" })
        XCTAssertLessThan(p.ciLowSeconds, t.ciHighSeconds, "the unpaired intervals should overlap under this drift")
        XCTAssertGreaterThan(p.ciHighSeconds, t.ciLowSeconds)
        let rec = try XCTUnwrap(result.recommendation)
        XCTAssertEqual(rec.strategy, .processes)
        XCTAssertTrue(rec.decisive)
        XCTAssertEqual(result.roundsAdded, 0)
        let ratio = try XCTUnwrap(t.ratioToLeader)
        XCTAssertEqual(ratio.median, 1 / 0.85, accuracy: 0.02)
        XCTAssertGreaterThan(ratio.low, 1.1)
    }

    func testWaitingWorkExtendsWorkerCountsUpward() throws {
        // I/O-like: CPU per wall 5%; threads keep improving to ×16 and stop at ×32.
        let times: [String: Double] = ["serial": 4.0, "threads×2": 2.0, "threads×4": 1.0, "threads×8": 0.5, "threads×16": 0.25,
                                       "threads×32": 0.25, "processes×2": 2.2, "processes×4": 1.3, "processes×8": 0.9]
        let stream = Stream(times: times, noise: 0.02, seed: 9, cpuPerWall: 0.05)
        let (result, log) = try run(plan([.serial, .threads, .processes], workers: [2, 4], extend: true), stream)
        let rec = try XCTUnwrap(result.recommendation)
        XCTAssertEqual(rec.strategy, .threads, "\(log)")
        XCTAssertEqual(rec.workers, 16, "\(log)")
        XCTAssertEqual(result.setup?.workers, [2, 4, 8, 16, 32])
        XCTAssertTrue(log.first?.contains("the work waits, so trying ×8") == true, "\(log)")
        XCTAssertNil(result.summary.first { $0.strategy == "processes" && $0.workers == 16 }, "processes was out of contention at ×8")
    }

    /// A configuration added by the extension can lead by median while the ones measured
    /// before never ran in a round with it: serial, 16× slower than the old leader, must not
    /// be re-run to "compare" it with the new one (it is separated through the old leader).
    func testConfigurationsSeparatedBeforeAnExtensionAreNotRerun() throws {
        let times: [String: Double] = ["serial": 4.0, "threads×2": 2.0, "threads×4": 1.0, "threads×8": 0.5, "threads×16": 0.25,
                                       "threads×32": 0.25, "processes×2": 2.2, "processes×4": 1.3, "processes×8": 0.9]
        let stream = Stream(times: times, noise: 0.08, seed: 11, cpuPerWall: 0.05)
        let (result, log) = try run(plan([.serial, .threads, .processes], workers: [2, 4], extend: true), stream)
        XCTAssertEqual(result.setup?.workers, [2, 4, 8, 16, 32], "\(log)")
        XCTAssertFalse(log.contains { $0.contains("serial") }, "serial is never a contender again\n\(log)")
        let rec = try XCTUnwrap(result.recommendation)
        XCTAssertEqual(rec.strategy, .threads, "\(log)")
        let leader = try XCTUnwrap(rec.fastest)
        XCTAssertGreaterThanOrEqual(leader.workers, 16, "\(log)")
        for slow in ["serial", "threads×2", "processes×2"] {
            let s = try XCTUnwrap(result.summary.first { ConfigurationRef(strategy: $0.strategy, workers: $0.workers).name == slow })
            XCTAssertEqual(s.measuredRuns, 5, "\(slow) ran only in the first batch\n\(log)")
            // Its standing against a leader it never ran beside comes through a configuration that ran with both.
            let r = try XCTUnwrap(s.ratioToLeader, slow)
            XCTAssertGreaterThan(r.low, 1.5, slow)
        }
    }

    /// Hybrid behind threads at ×4 can win at ×16 (wake-ups that each hold the GIL a little
    /// pile up in one process): it is carried along when the counts are doubled.
    func testHybridIsExtendedAlongWithTheLeader() throws {
        let times: [String: Double] = ["serial": 4.0, "threads×2": 2.0, "threads×4": 1.0, "hybrid×4": 1.1, "threads×8": 0.5,
                                       "hybrid×8": 0.5, "threads×16": 0.4, "hybrid×16": 0.25, "threads×32": 0.4, "hybrid×32": 0.25]
        let stream = Stream(times: times, noise: 0.02, seed: 5, cpuPerWall: 0.05)
        let (result, log) = try run(plan([.serial, .threads, .hybrid], workers: [2, 4], extend: true), stream)
        XCTAssertNotNil(result.summary.first { $0.strategy == "hybrid" && $0.workers == 16 }, "\(log)")
        let rec = try XCTUnwrap(result.recommendation)
        XCTAssertEqual(rec.strategy, .hybrid, "\(log)")
        XCTAssertEqual(rec.workers, 16, "\(log)")
    }

    func testCPUBoundWorkIsNotExtended() throws {
        let stream = Stream(times: ["serial": 2.0, "processes×2": 1.0, "threads×2": 2.0], noise: 0.02, cpuPerWall: 1.9)
        let (result, log) = try run(plan([.serial, .threads, .processes], workers: [2], extend: true), stream)
        XCTAssertEqual(result.setup?.workers, [2])
        XCTAssertTrue(log.isEmpty, "\(log)")
    }

    /// CPU-bound work beside other programs that keep the machine's 2 cores busy: each
    /// doubling is faster only because more threads take a larger share of the machine
    /// (the times measured with three burners: 1, 2, 4, 8 threads → 6.2, 3.5, 2.5, 2.2 s),
    /// and the leader keeps under one core busy. Measured as a full machine, that is not
    /// waiting work: no extension. Without the machine's figure, the old rule extends.
    func testCPUBoundWorkOnAFullMachineIsNotTakenForWaiting() throws {
        let times: [String: Double] = ["serial": 6.2, "threads×2": 3.5, "threads×4": 2.5, "threads×8": 2.2, "threads×16": 2.1, "threads×32": 2.1]
        var stream = Stream(times: times, noise: 0.02, seed: 3, cpuPerWall: 0.8, machineBusyPerWall: 2.0)
        let (full, fullLog) = try run(plan([.serial, .threads], workers: [2, 4], extend: true), stream)
        XCTAssertEqual(full.setup?.workers, [2, 4], "\(fullLog)")
        XCTAssertFalse(fullLog.contains { $0.contains("the work waits") }, "\(fullLog)")
        XCTAssertEqual(full.runs.first { !$0.warmup }?.machineBusySeconds ?? 0, 2 * (full.runs.first { !$0.warmup }?.wallSeconds ?? 0), accuracy: 1e-9)
        stream.machineBusyPerWall = nil
        let (blind, blindLog) = try run(plan([.serial, .threads], workers: [2, 4], extend: true), stream)
        XCTAssertTrue(blindLog.contains { $0.contains("the work waits, so trying ×8") }, "\(blindLog)")
        XCTAssertGreaterThan(blind.setup?.workers.count ?? 0, 2)
        // A machine with idle cores meanwhile: waiting work, extended as before.
        stream.machineBusyPerWall = 1.2
        let (_, idleLog) = try run(plan([.serial, .threads], workers: [2, 4], extend: true), stream)
        XCTAssertTrue(idleLog.contains { $0.contains("the work waits, so trying ×8") }, "\(idleLog)")
    }

    func testRoundsNeededEstimate() {
        // Half-width 0.05 at n = 5; to separate from 1 at median 1.03 the half-width must
        // shrink to 0.03 → n ≈ 5 × (0.05/0.03)² ≈ 13.9 → 9 more.
        let r = PairedInterval(median: 1.03, low: 0.98, high: 1.08, pairs: 5)
        XCTAssertEqual(ExperimentDecider.roundsNeeded(r, equivalence: 0.05, leaderCheaper: false), 9)
        // A contender that may be faster: rounds to show it either way are still estimated.
        XCTAssertNotNil(ExperimentDecider.roundsNeeded(PairedInterval(median: 0.97, low: 0.9, high: 1.04, pairs: 5), equivalence: 0.05, leaderCheaper: false))
    }
}

/// Collects log lines from the runner's callback.
final class LineLog: @unchecked Sendable {
    private let lock = NSLock()
    private var store: [String] = []
    func add(_ s: String) { lock.lock(); store.append(s); lock.unlock() }
    var lines: [String] { lock.lock(); defer { lock.unlock() }; return store }
    var count: Int { lines.count }
}
