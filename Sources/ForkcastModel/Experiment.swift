import Foundation

/// The result of `forkcast experiment`: every run, a summary per configuration, the
/// scaling fit and the recommendation. JSON contract in docs/experiment-format.md.
public struct ExperimentResult: Codable, Sendable, Equatable {
    public var runs: [ExperimentRun]
    public var summary: [ConfigurationSummary]
    public var recommendation: Recommendation?

    public init(runs: [ExperimentRun] = [], summary: [ConfigurationSummary] = [], recommendation: Recommendation? = nil) {
        self.runs = runs
        self.summary = summary
        self.recommendation = recommendation
    }
}

/// One measured run of one configuration.
public struct ExperimentRun: Codable, Sendable, Equatable {
    public var strategy: String
    public var workers: Int
    public var repetition: Int
    public var wallSeconds: Double
    public var cpuSeconds: Double
    public var peakRSSBytes: UInt64
    public var exit: ExitInfo?
    public var failed: Bool
    public init(strategy: String, workers: Int, repetition: Int, wallSeconds: Double, cpuSeconds: Double, peakRSSBytes: UInt64, exit: ExitInfo?, failed: Bool) {
        self.strategy = strategy
        self.workers = workers
        self.repetition = repetition
        self.wallSeconds = wallSeconds
        self.cpuSeconds = cpuSeconds
        self.peakRSSBytes = peakRSSBytes
        self.exit = exit
        self.failed = failed
    }
}

/// Medians and confidence interval of one (strategy, workers) configuration.
public struct ConfigurationSummary: Codable, Sendable, Equatable {
    public var strategy: String
    public var workers: Int
    public var medianWallSeconds: Double
    public var ciLowSeconds: Double
    public var ciHighSeconds: Double
    public var speedup: Double
    public var cpuSeconds: Double
    public var peakRSSBytes: UInt64
    private enum CodingKeys: String, CodingKey {
        case strategy, workers, medianWallSeconds = "median_wall_s", ciLowSeconds = "ci_low_s", ciHighSeconds = "ci_high_s",
             speedup, cpuSeconds = "cpu_s", peakRSSBytes = "peak_rss_bytes"
    }
    public init(strategy: String, workers: Int, medianWallSeconds: Double, ciLowSeconds: Double, ciHighSeconds: Double, speedup: Double, cpuSeconds: Double, peakRSSBytes: UInt64) {
        self.strategy = strategy
        self.workers = workers
        self.medianWallSeconds = medianWallSeconds
        self.ciLowSeconds = ciLowSeconds
        self.ciHighSeconds = ciHighSeconds
        self.speedup = speedup
        self.cpuSeconds = cpuSeconds
        self.peakRSSBytes = peakRSSBytes
    }
}
