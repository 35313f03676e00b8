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

    private enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", setup, runs, summary, scaling, recommendation, interrupted, notes
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
        if let r = recommendation, !summary.contains(where: { $0.strategy == r.strategy.rawValue && $0.workers == r.workers }) {
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

    private enum CodingKeys: String, CodingKey {
        case command, workloadFile = "workload_file", strategyPlugin = "strategy_plugin", strategies, workers,
             repeatCount = "repeat", warmup, timeoutSeconds = "timeout_s", checkOutput = "check_output", record, seed,
             cores, hostname, kernel, startedAt = "started_at"
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

    private enum CodingKeys: String, CodingKey {
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
                recorded: Bool = false) {
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

    private enum CodingKeys: String, CodingKey {
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
public struct ExperimentRecommendation: Codable, Sendable, Equatable {
    public var strategy: ConcurrencyStrategy
    public var workers: Int
    /// How much slower the runner-up's median is than the chosen one's, as a fraction
    /// (0.35 = the runner-up takes 35% longer). Negative when a cheaper configuration
    /// was chosen inside a tie.
    public var margin: Double
    /// True when the chosen configuration's interval clears the runner-up's; false for a
    /// tie resolved in favour of the cheaper configuration.
    public var decisive: Bool
    /// The configuration that measured fastest (may differ from the chosen one in a tie).
    public var fastest: ConfigurationRef?
    public var runnerUp: ConfigurationRef?
    /// Configurations inside the tie (their intervals overlap the fastest one's).
    public var tiedWith: [ConfigurationRef]
    /// 0–1: 0.5 for a tie, rising with the margin for a decisive win.
    public var confidence: Double
    public var reasons: [Reason]
    public var fixFirst: Reason?
    /// Whether the single-run analysis (the recording's prediction) agrees; nil without one.
    public var predictionAgrees: Bool?

    private enum CodingKeys: String, CodingKey {
        case strategy, workers, margin, decisive, fastest, runnerUp = "runner_up", tiedWith = "tied_with", confidence,
             reasons, fixFirst = "fix_first", predictionAgrees = "prediction_agrees"
    }

    public init(strategy: ConcurrencyStrategy, workers: Int, margin: Double, decisive: Bool, fastest: ConfigurationRef? = nil,
                runnerUp: ConfigurationRef? = nil, tiedWith: [ConfigurationRef] = [], confidence: Double, reasons: [Reason],
                fixFirst: Reason? = nil, predictionAgrees: Bool? = nil) {
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
    }
}

/// Names one (strategy, workers) configuration.
public struct ConfigurationRef: Codable, Sendable, Equatable, Hashable {
    public var strategy: String
    public var workers: Int
    public init(strategy: String, workers: Int) {
        self.strategy = strategy
        self.workers = workers
    }
}
