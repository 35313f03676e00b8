import Foundation

/// The result of `forkcast experiment`: every run, a summary per configuration, the
/// scaling fit and the recommendation. JSON contract in docs/experiment-format.md
/// (schema: docs/experiment-format.schema.json). Keys are snake_case.
public struct ExperimentResult: Codable, Sendable, Equatable {
    /// The format version this build writes and reads.
    public static let currentFormatVersion = 1
    public static let formatName = "forkcast-experiment"

    public var format: String = ExperimentResult.formatName
    public var formatVersion: Int = ExperimentResult.currentFormatVersion
    /// What was run and how (command, strategy plugin, settings, machine).
    public var setup: ExperimentSetup?
    /// Every measured run (warm-ups included, flagged), in the order they ran.
    public var runs: [ExperimentRun]
    /// One entry per (strategy, workers) configuration, in matrix order.
    public var summary: [ConfigurationSummary]
    /// The scaling-model fit per strategy, with predictions past the measured cores.
    public var scaling: [ScalingFit]
    public var recommendation: ExperimentRecommendation?
    /// True when the experiment was stopped (Ctrl-C) before every run was done.
    public var interrupted: Bool
    /// One-line notes for the reader (e.g. "the executor swap replaced no executor").
    public var notes: [String]
    /// Measured rounds run in all (the first batch of `--repeat` plus any added).
    public var rounds: Int?
    /// Rounds added after the first batch because the leader was not yet separated from
    /// (or shown equivalent to) its contenders, or to extend worker counts upward.
    public var roundsAdded: Int?
    /// Why rounds were added, one line per addition, in order.
    public var roundLog: [String]?
    /// False when no run varied the program's concurrency (the executor swap replaced
    /// nothing, every run failed, or the outputs differ): the recommendation is then
    /// `undecided` and no scaling fit is made.
    public var varied: Bool?

    private enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", setup, runs, summary, scaling, recommendation, interrupted, notes,
             rounds, roundsAdded = "rounds_added", roundLog = "round_log", varied
    }

    public init(runs: [ExperimentRun] = [], summary: [ConfigurationSummary] = [], recommendation: ExperimentRecommendation? = nil,
                setup: ExperimentSetup? = nil, scaling: [ScalingFit] = [], interrupted: Bool = false, notes: [String] = []) {
        self.runs = runs
        self.summary = summary
        self.recommendation = recommendation
        self.setup = setup
        self.scaling = scaling
        self.interrupted = interrupted
        self.notes = notes
    }

    /// Checks the invariants a reader relies on; returns one line per problem.
    public func validate() -> [String] {
        var problems: [String] = []
        if format != Self.formatName { problems.append("format is \"\(format)\", expected \"\(Self.formatName)\"") }
        if formatVersion > Self.currentFormatVersion { problems.append("format_version \(formatVersion) is newer than this build (\(Self.currentFormatVersion))") }
        for s in summary where s.successfulRuns > 0 && !(s.ciLowSeconds <= s.medianWallSeconds && s.medianWallSeconds <= s.ciHighSeconds) {
            problems.append("summary \(s.strategy)×\(s.workers): median outside its interval")
        }
        if let r = recommendation, r.strategy.isModel, !summary.contains(where: { $0.strategy == r.strategy.rawValue && $0.workers == r.workers }) {
            problems.append("recommendation \(r.strategy.rawValue)×\(r.workers) is not a measured configuration")
        }
        return problems
    }
}

/// What an experiment ran, on what, with which settings.
public struct ExperimentSetup: Codable, Sendable, Equatable {
    /// The workload's command as given (with placeholders, if any).
    public var command: [String]
    /// The workload file, when the experiment came from one.
    public var workloadFile: String?
    /// The strategy plugin that turned (strategy, workers) into commands.
    public var strategyPlugin: String
    public var strategies: [String]
    public var workers: [Int]
    public var repeatCount: Int
    public var warmup: Int
    public var timeoutSeconds: Double?
    public var checkOutput: Bool
    public var record: Bool
    /// The seed of the bootstrap's random numbers (results are reproducible from the runs).
    public var seed: UInt64
    public var cores: Int
    public var hostname: String
    public var kernel: String
    /// Wall-clock start, ISO 8601 (UTC).
    public var startedAt: String
    /// Most measured rounds a configuration may get (`--max-repeat`, default 4 × repeat).
    public var maxRepeat: Int?
    /// Time budget of the whole experiment in seconds (`--budget`); no rounds are added past it.
    public var budgetSeconds: Double?
    /// Practical equivalence: two configurations tie only when the interval of their
    /// paired time ratio lies within 1 ± this fraction (`--equivalence 5%` → 0.05).
    public var equivalence: Double?
    /// Threads per process under hybrid when `--hybrid-threads` fixed it (nil: p = min(cores, N)).
    public var hybridThreads: Int?
    /// The interpreters compared (`--python A,B`), when the interpreter is a dimension of the matrix.
    public var pythons: [String]?

    private enum CodingKeys: String, CodingKey {
        case command, workloadFile = "workload_file", strategyPlugin = "strategy_plugin", strategies, workers,
             repeatCount = "repeat", warmup, timeoutSeconds = "timeout_s", checkOutput = "check_output", record, seed,
             cores, hostname, kernel, startedAt = "started_at", maxRepeat = "max_repeat", budgetSeconds = "budget_s",
             equivalence, hybridThreads = "hybrid_threads", pythons
    }

    public init(command: [String], workloadFile: String? = nil, strategyPlugin: String, strategies: [String], workers: [Int],
                repeatCount: Int, warmup: Int, timeoutSeconds: Double?, checkOutput: Bool, record: Bool, seed: UInt64,
                cores: Int, hostname: String = "", kernel: String = "", startedAt: String = "") {
        self.command = command
        self.workloadFile = workloadFile
        self.strategyPlugin = strategyPlugin
        self.strategies = strategies
        self.workers = workers
        self.repeatCount = repeatCount
        self.warmup = warmup
        self.timeoutSeconds = timeoutSeconds
        self.checkOutput = checkOutput
        self.record = record
        self.seed = seed
        self.cores = cores
        self.hostname = hostname
        self.kernel = kernel
        self.startedAt = startedAt
    }
}

/// How a run ended.
public enum RunOutcome: String, Codable, Sendable, Equatable {
    /// Exited with status 0.
    case ok
    /// Exited non-zero or was killed by a signal.
    case failed
    /// Killed by Forkcast after the timeout.
    case timedOut = "timed_out"
    /// Killed by Forkcast because the experiment was interrupted (Ctrl-C).
    case interrupted
    /// Could not be started (no such program, not executable).
    case notStarted = "not_started"
}

/// One measured run of one configuration.
public struct ExperimentRun: Codable, Sendable, Equatable {
    public var strategy: String
    public var workers: Int
    /// 0-based repetition within the configuration; warm-ups count from 0 too.
    public var repetition: Int
    /// Position in the run order of the whole experiment (0-based).
    public var sequence: Int
    /// A warm-up run: measured, kept, left out of every statistic.
    public var warmup: Bool
    /// A recorded run (profiled, never timed; also `warmup`, so left out of statistics).
    public var recorded: Bool
    public var wallSeconds: Double
    /// User + system CPU of the whole process tree (reaped descendants included).
    public var cpuSeconds: Double
    public var userSeconds: Double
    public var systemSeconds: Double
    /// Peak of the summed resident set size of the live process tree (sampled every ~20 ms).
    public var peakRSSBytes: UInt64
    /// Most processes alive at once in the tree.
    public var peakProcesses: Int
    public var voluntaryContextSwitches: Int
    public var involuntaryContextSwitches: Int
    public var exit: ExitInfo?
    public var failed: Bool
    public var outcome: RunOutcome
    /// The exact command launched (placeholders substituted).
    public var command: [String]
    /// A digest of the run's stdout as compared ("fnv1a64:…", after the check's filters).
    public var stdoutDigest: String?
    /// Set when output checking is on: whether stdout equals the serial baseline's.
    public var outputMatchesBaseline: Bool?
    /// Last lines of stderr of a failed run, or why it could not start.
    public var error: String?
    /// The recorded profile's path, for a recorded run.
    public var profilePath: String?
    /// Under the Python executor swap: each executor the program created and what
    /// replaced it ("ThreadPoolExecutor→ProcessPoolExecutor×4").
    public var swaps: [String]?
    /// The measured round this run belongs to (runs of one round are compared pairwise);
    /// nil for warm-up and recorded runs.
    public var round: Int?
    /// The interpreter this run used, when `--python` made it a dimension of the matrix.
    public var python: String?
    /// CPU time the whole machine was busy during the run (`/proc/stat`, all CPUs): with
    /// `cpuSeconds`, how much other programs took meanwhile. Nil when unreadable (and in
    /// files written before it).
    public var machineBusySeconds: Double?

    private enum CodingKeys: String, CodingKey {
        case round, python, machineBusySeconds = "machine_busy_s"
        case strategy, workers, repetition, sequence, warmup, recorded, wallSeconds = "wall_s", cpuSeconds = "cpu_s",
             userSeconds = "user_s", systemSeconds = "system_s", peakRSSBytes = "peak_rss_bytes",
             peakProcesses = "peak_processes", voluntaryContextSwitches = "voluntary_ctx_switches",
             involuntaryContextSwitches = "involuntary_ctx_switches", exit, failed, outcome, command,
             stdoutDigest = "stdout_digest", swaps, outputMatchesBaseline = "output_matches_baseline", error,
             profilePath = "profile_path"
    }

    public init(strategy: String, workers: Int, repetition: Int, wallSeconds: Double, cpuSeconds: Double, peakRSSBytes: UInt64,
                exit: ExitInfo?, failed: Bool, sequence: Int = 0, warmup: Bool = false, userSeconds: Double = 0, systemSeconds: Double = 0,
                peakProcesses: Int = 0, voluntaryContextSwitches: Int = 0, involuntaryContextSwitches: Int = 0,
                outcome: RunOutcome? = nil, command: [String] = [], stdoutDigest: String? = nil,
                outputMatchesBaseline: Bool? = nil, error: String? = nil, profilePath: String? = nil, swaps: [String]? = nil,
                recorded: Bool = false, round: Int? = nil, python: String? = nil) {
        self.round = round
        self.python = python
        self.strategy = strategy
        self.workers = workers
        self.repetition = repetition
        self.wallSeconds = wallSeconds
        self.cpuSeconds = cpuSeconds
        self.peakRSSBytes = peakRSSBytes
        self.exit = exit
        self.failed = failed
        self.sequence = sequence
        self.warmup = warmup
        self.userSeconds = userSeconds
        self.systemSeconds = systemSeconds
        self.peakProcesses = peakProcesses
        self.voluntaryContextSwitches = voluntaryContextSwitches
        self.involuntaryContextSwitches = involuntaryContextSwitches
        self.outcome = outcome ?? (failed ? .failed : .ok)
        self.command = command
        self.stdoutDigest = stdoutDigest
        self.outputMatchesBaseline = outputMatchesBaseline
        self.error = error
        self.profilePath = profilePath
        self.swaps = swaps
        self.recorded = recorded
    }
}

/// Medians and confidence interval of one (strategy, workers) configuration.
public struct ConfigurationSummary: Codable, Sendable, Equatable {
    public var strategy: String
    public var workers: Int
    /// Median wall time of the successful measured runs (0 when there are none).
    public var medianWallSeconds: Double
    /// 95% bootstrap confidence interval of the median.
    public var ciLowSeconds: Double
    public var ciHighSeconds: Double
    /// Baseline median / this median (baseline: serial, see docs/experiment-format.md).
    public var speedup: Double
    /// Median user + system CPU of the tree.
    public var cpuSeconds: Double
    /// Median of the runs' peak summed RSS.
    public var peakRSSBytes: UInt64
    /// Measured (non-warm-up) runs, and how many of them succeeded.
    public var measuredRuns: Int
    public var successfulRuns: Int
    /// Median of the runs' peak process counts.
    public var processes: Int
    public var voluntaryContextSwitches: Int
    public var involuntaryContextSwitches: Int
    /// False when output checking found a run whose stdout differs from serial's.
    public var outputMatchesBaseline: Bool?
    /// Why this configuration cannot be recommended ("output differs from serial", "all runs failed").
    public var excludedReason: String?
    /// Share of recorded thread time in each state (on CPU, GIL wait, I/O wait, …),
    /// from the recorded run's analysis; nil without a recording.
    public var waitBreakdown: StateShares?
    /// What the analysis of this configuration's recorded run recommends on its own.
    public var predictedStrategy: String?
    /// Speedup over serial from paired runs: the median over rounds of serial's time /
    /// this configuration's time in the same round, with its bootstrap interval.
    public var pairedSpeedup: PairedInterval?
    /// This configuration's time / the leader's, paired by round (nil for the leader).
    public var ratioToLeader: PairedInterval?
    /// Under hybrid: the processes × threads split of the workers (p·t = workers).
    public var hybridProcesses: Int?
    public var hybridThreads: Int?
    /// The interpreter, when `--python` made it a dimension of the matrix.
    public var python: String?

    private enum CodingKeys: String, CodingKey {
        case pairedSpeedup = "paired_speedup", ratioToLeader = "ratio_to_leader", hybridProcesses = "hybrid_processes",
             hybridThreads = "hybrid_threads", python
        case strategy, workers, medianWallSeconds = "median_wall_s", ciLowSeconds = "ci_low_s", ciHighSeconds = "ci_high_s",
             speedup, cpuSeconds = "cpu_s", peakRSSBytes = "peak_rss_bytes", measuredRuns = "measured_runs",
             successfulRuns = "successful_runs", processes, voluntaryContextSwitches = "voluntary_ctx_switches",
             involuntaryContextSwitches = "involuntary_ctx_switches", outputMatchesBaseline = "output_matches_baseline",
             excludedReason = "excluded_reason", waitBreakdown = "wait_breakdown", predictedStrategy = "predicted_strategy"
    }

    public init(strategy: String, workers: Int, medianWallSeconds: Double, ciLowSeconds: Double, ciHighSeconds: Double, speedup: Double,
                cpuSeconds: Double, peakRSSBytes: UInt64, measuredRuns: Int = 0, successfulRuns: Int = 0, processes: Int = 1,
                voluntaryContextSwitches: Int = 0, involuntaryContextSwitches: Int = 0, outputMatchesBaseline: Bool? = nil,
                excludedReason: String? = nil, waitBreakdown: StateShares? = nil, predictedStrategy: String? = nil) {
        self.strategy = strategy
        self.workers = workers
        self.medianWallSeconds = medianWallSeconds
        self.ciLowSeconds = ciLowSeconds
        self.ciHighSeconds = ciHighSeconds
        self.speedup = speedup
        self.cpuSeconds = cpuSeconds
        self.peakRSSBytes = peakRSSBytes
        self.measuredRuns = measuredRuns
        self.successfulRuns = successfulRuns
        self.processes = processes
        self.voluntaryContextSwitches = voluntaryContextSwitches
        self.involuntaryContextSwitches = involuntaryContextSwitches
        self.outputMatchesBaseline = outputMatchesBaseline
        self.excludedReason = excludedReason
        self.waitBreakdown = waitBreakdown
        self.predictedStrategy = predictedStrategy
    }
}

/// The scaling model fitted to one strategy's speedups over worker counts.
///
/// The Universal Scalability Law: S(N) = N / (1 + σ(N−1) + κN(N−1)), with σ the
/// contention (serial fraction) and κ the coherency (crosstalk) cost; with fewer than
/// three worker counts κ is fixed at 0 (Amdahl's law). Speedups are relative to the
/// strategy's own 1-worker run (serial's when the strategy has none).
public struct ScalingFit: Codable, Sendable, Equatable {
    public var strategy: String
    /// "usl" or "amdahl".
    public var model: String
    public var sigma: Double
    public var kappa: Double
    /// The (workers, speedup) points fitted.
    public var points: [ScalingPoint]
    /// Root-mean-square residual of the fit, in speedup units.
    public var rmsError: Double
    /// Worker count at which the model's speedup peaks (nil when it never does: κ = 0).
    public var peakWorkers: Double?
    /// Model predictions — not measurements — at this machine's cores and at 8, 16, 32.
    public var predictions: [ScalingPrediction]

    private enum CodingKeys: String, CodingKey {
        case strategy, model, sigma, kappa, points, rmsError = "rms_error", peakWorkers = "peak_workers", predictions
    }

    public init(strategy: String, model: String, sigma: Double, kappa: Double, points: [ScalingPoint], rmsError: Double,
                peakWorkers: Double?, predictions: [ScalingPrediction]) {
        self.strategy = strategy
        self.model = model
        self.sigma = sigma
        self.kappa = kappa
        self.points = points
        self.rmsError = rmsError
        self.peakWorkers = peakWorkers
        self.predictions = predictions
    }
}

/// One measured point of a scaling fit.
public struct ScalingPoint: Codable, Sendable, Equatable {
    public var workers: Int
    public var speedup: Double
    public init(workers: Int, speedup: Double) {
        self.workers = workers
        self.speedup = speedup
    }
}

/// A predicted speedup at a core count, with a 90% interval from bootstrap refits.
public struct ScalingPrediction: Codable, Sendable, Equatable {
    public var cores: Int
    public var speedup: Double
    public var low: Double
    public var high: Double
    /// Always true: a reminder for readers of the JSON that this is a model's extrapolation.
    public var predicted: Bool = true

    public init(cores: Int, speedup: Double, low: Double, high: Double) {
        self.cores = cores
        self.speedup = speedup
        self.low = low
        self.high = high
    }
}

/// The experiment's answer: the configuration to use, by how much it won, and why.
///
/// Source-compatible with `Recommendation` (strategy, workers, confidence, reasons,
/// fixFirst) so code written against either reads both; adds the measured margin.
/// `strategy` is `undecided` (workers 0) when the runs could not separate the leader
/// from a contender nor show them practically equivalent, or when the program's
/// concurrency could not be varied; `undecided` then says why and between what.
public struct ExperimentRecommendation: Codable, Sendable, Equatable {
    public var strategy: RecommendedStrategy
    public var workers: Int
    /// How much slower the runner-up is than the chosen one, as a fraction of the paired
    /// median ratio (0.35 = the runner-up takes 35% longer). Negative when a cheaper,
    /// practically equivalent configuration was chosen.
    public var margin: Double
    /// True when the chosen configuration is separated from every other one (each
    /// paired-ratio interval lies above 1); false for an equivalence tie or undecided.
    public var decisive: Bool
    /// The configuration that measured fastest (may differ from the chosen one in a tie).
    public var fastest: ConfigurationRef?
    public var runnerUp: ConfigurationRef?
    /// Configurations practically equivalent to the fastest (their paired-ratio interval
    /// lies within 1 ± `equivalence`); the cheapest of them and the fastest is chosen.
    public var tiedWith: [ConfigurationRef]
    /// 0–1: 0.5 for an equivalence tie, rising with the margin for a separated win, 0 when undecided.
    public var confidence: Double
    public var reasons: [Reason]
    public var fixFirst: Reason?
    /// Whether the single-run analysis (the recording's prediction) agrees; nil without one.
    public var predictionAgrees: Bool?
    /// The practical-equivalence margin used (a fraction: 0.05 = ±5%).
    public var equivalence: Double?
    /// Set when `strategy` is `undecided`.
    public var undecided: UndecidedComparison?

    private enum CodingKeys: String, CodingKey {
        case strategy, workers, margin, decisive, fastest, runnerUp = "runner_up", tiedWith = "tied_with", confidence,
             reasons, fixFirst = "fix_first", predictionAgrees = "prediction_agrees", equivalence, undecided
    }

    public init(strategy: RecommendedStrategy, workers: Int, margin: Double, decisive: Bool, fastest: ConfigurationRef? = nil,
                runnerUp: ConfigurationRef? = nil, tiedWith: [ConfigurationRef] = [], confidence: Double, reasons: [Reason],
                fixFirst: Reason? = nil, predictionAgrees: Bool? = nil, equivalence: Double? = nil,
                undecided: UndecidedComparison? = nil) {
        self.strategy = strategy
        self.workers = workers
        self.margin = margin
        self.decisive = decisive
        self.fastest = fastest
        self.runnerUp = runnerUp
        self.tiedWith = tiedWith
        self.confidence = confidence
        self.reasons = reasons
        self.fixFirst = fixFirst
        self.predictionAgrees = predictionAgrees
        self.equivalence = equivalence
        self.undecided = undecided
    }
}

/// Why an experiment ended `undecided`, and between which configurations.
public struct UndecidedComparison: Codable, Sendable, Equatable {
    /// "not_separated" (noise wider than the effect at the round limit or budget),
    /// "not_varied" (the program's concurrency could not be varied), "all_failed",
    /// "output_differs".
    public var kind: String
    public var reason: String
    /// The two configurations the runs could not tell apart (the leader first).
    public var candidates: [ConfigurationRef]
    /// The second candidate's time / the leader's, paired by round, with its interval.
    public var ratio: PairedInterval?
    /// Rounds more that would likely decide it (separate or show equivalence), from how
    /// the interval narrowed; nil when no amount of rounds likely would.
    public var roundsLikelyNeeded: Int?

    private enum CodingKeys: String, CodingKey {
        case kind, reason, candidates, ratio, roundsLikelyNeeded = "rounds_likely_needed"
    }

    public init(kind: String, reason: String, candidates: [ConfigurationRef] = [], ratio: PairedInterval? = nil, roundsLikelyNeeded: Int? = nil) {
        self.kind = kind
        self.reason = reason
        self.candidates = candidates
        self.ratio = ratio
        self.roundsLikelyNeeded = roundsLikelyNeeded
    }
}

/// The median of per-round ratios of two configurations' wall times, with a seeded
/// bootstrap 95% interval; `pairs` rounds had a successful run of both.
public struct PairedInterval: Codable, Sendable, Equatable {
    public var median: Double
    public var low: Double
    public var high: Double
    public var pairs: Int
    /// What the ratio is taken against (serial for a speedup, the leader for a ratio).
    public var against: ConfigurationRef?

    public init(median: Double, low: Double, high: Double, pairs: Int, against: ConfigurationRef? = nil) {
        self.median = median
        self.low = low
        self.high = high
        self.pairs = pairs
        self.against = against
    }
}

/// Names one (strategy, workers) configuration.
public struct ConfigurationRef: Codable, Sendable, Equatable, Hashable {
    public var strategy: String
    public var workers: Int
    /// The interpreter, when `--python` made it a dimension of the matrix.
    public var python: String?
    public init(strategy: String, workers: Int, python: String? = nil) {
        self.strategy = strategy
        self.workers = workers
        self.python = python
    }
    /// "serial", "threads×4", "processes×2 [python3.13t]".
    public var name: String {
        (strategy == "serial" ? "serial" : "\(strategy)×\(workers)") + (python.map { " [\($0)]" } ?? "")
    }
}
