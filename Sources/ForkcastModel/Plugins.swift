import Foundation

// The four plugin kinds. Built-in plugins implement these protocols directly; external
// plugins (any language, JSON over stdin/stdout, see docs/plugins.md) are wrapped by
// ForkcastPlugins in types that implement the same protocols, so the registry and every
// caller treat both alike.

/// The kinds of plugin Forkcast knows.
public enum PluginKind: String, Codable, CaseIterable, Sendable {
    case strategy
    case analyzer
    case recommenderRule = "recommender-rule"
    case reporter
}

/// What `forkcast plugins list` shows about a plugin.
public struct PluginDescriptor: Codable, Sendable, Equatable {
    public var name: String
    public var kind: PluginKind
    public var version: String
    /// One sentence: what it does.
    public var summary: String
    /// "builtin", or the folder an external plugin was loaded from.
    public var origin: String
    /// Version of the plugin protocol it speaks.
    public var protocolVersion: Int

    public init(name: String, kind: PluginKind, version: String, summary: String, origin: String = "builtin", protocolVersion: Int = 1) {
        self.name = name
        self.kind = kind
        self.version = version
        self.summary = summary
        self.origin = origin
        self.protocolVersion = protocolVersion
    }
}

/// Common to every plugin.
public protocol ForkcastPlugin: Sendable {
    var descriptor: PluginDescriptor { get }
}

/// Turns a profile into findings. Analyzers must not do I/O; each adds what it computes
/// to the shared `Analysis` (built-ins fill its typed sections, any analyzer may append
/// findings).
public protocol AnalyzerPlugin: ForkcastPlugin {
    func analyze(_ profile: Profile, into analysis: inout Analysis) throws
}

/// Turns findings (and experiment results when there are some) into advice; the
/// recommender weighs the advice of every rule into one `Recommendation`.
public protocol RecommenderRulePlugin: ForkcastPlugin {
    func advise(_ input: RecommendationInput) throws -> [Advice]
}

/// Renders a report into bytes (HTML, JSON, speedscope, …). Reporters do no analysis.
public protocol ReporterPlugin: ForkcastPlugin {
    /// File extension of what it writes, without the dot ("html", "json", "pb.gz").
    var fileExtension: String { get }
    func render(_ input: ReportInput) throws -> Data
}

/// Turns a workload and a (strategy, workers) pair into the commands to launch.
public protocol StrategyPlugin: ForkcastPlugin {
    /// The strategy names it can launch (e.g. serial, threads, processes, hybrid).
    var strategies: [String] { get }
    func launchSpecs(for workload: Workload, strategy: String, workers: Int) throws -> [LaunchSpec]
}

/// The concurrency strategies Forkcast compares.
public enum ConcurrencyStrategy: String, Codable, CaseIterable, Sendable {
    case serial, threads, processes, hybrid
    /// CPython 3.14+'s `InterpreterPoolExecutor`: each worker a subinterpreter with its own GIL.
    case interpreters

    /// What an experiment compares when no strategies are named (interpreters only on request).
    public static let defaults: [ConcurrencyStrategy] = [.serial, .threads, .processes, .hybrid]
}

/// What a recommendation advises: a concurrency model to use, or one of two honest
/// non-answers. A model is advised only where the evidence points to a change of model.
///
/// - `keep`: the current concurrency design is not what limits this program (the
///   reasons say what does: CPU starvation, a hot lock, a disk flush, a slow peer).
/// - `undecided`: the recording or the runs cannot tell (too few working samples,
///   mostly idle, unknown waits, runs that did not differ, noise wider than the effect).
public enum RecommendedStrategy: String, Codable, CaseIterable, Sendable {
    case serial, threads, processes, hybrid, interpreters
    case keep, undecided

    /// The concurrency model advised, or nil for `keep` / `undecided`.
    public var concurrency: ConcurrencyStrategy? { ConcurrencyStrategy(rawValue: rawValue) }

    /// True for an advised change of model (not `keep` / `undecided`).
    public var isModel: Bool { self != .keep && self != .undecided }

    public init(_ strategy: ConcurrencyStrategy) {
        self = RecommendedStrategy(rawValue: strategy.rawValue)!
    }
}

/// The decision factors a programmer knows, used to label reasons and findings.
public enum DecisionFactor: String, Codable, CaseIterable, Sendable {
    case taskType = "task_type"         // CPU- vs I/O-bound
    case gil                            // GIL held vs released
    case ipc                            // data sharing / inter-process cost
    case startup                        // start-up and overhead vs task size
    case locks                          // lock contention
    case memory
    case cpuStarvation = "cpu_starvation"
    case scaling
    case measured                       // an experiment's measured result
    case other
}

/// One reason behind a recommendation or a piece of advice: a sentence, the numbers it
/// rests on, and the stack it points at (outermost first, as people read stacks).
public struct Reason: Codable, Sendable, Equatable {
    public var factor: DecisionFactor
    public var text: String
    public var metrics: [String: Double]
    public var stack: [String]?

    public init(factor: DecisionFactor, text: String, metrics: [String: Double] = [:], stack: [String]? = nil) {
        self.factor = factor
        self.text = text
        self.metrics = metrics
        self.stack = stack
    }
}

/// What a recommender rule says: a vote for a strategy (or none) with a weight, and why.
public struct Advice: Codable, Sendable, Equatable {
    public var rule: String
    public var strategy: ConcurrencyStrategy?
    /// How strongly (0–1) the rule supports `strategy`.
    public var weight: Double
    public var workers: Int?
    /// True when the rule says the strategy is not the problem: fix this first (a hot lock).
    public var fixFirst: Bool
    public var reason: Reason

    public init(rule: String, strategy: ConcurrencyStrategy?, weight: Double, workers: Int? = nil, fixFirst: Bool = false, reason: Reason) {
        self.rule = rule
        self.strategy = strategy
        self.weight = weight
        self.workers = workers
        self.fixFirst = fixFirst
        self.reason = reason
    }
}

/// The input of a recommender rule.
public struct RecommendationInput: Sendable {
    public var analysis: Analysis
    public var experiment: ExperimentResult?
    public init(analysis: Analysis, experiment: ExperimentResult? = nil) {
        self.analysis = analysis
        self.experiment = experiment
    }
}

/// The final answer: which strategy, how many workers, how sure, and why.
public struct Recommendation: Codable, Sendable, Equatable {
    /// A model to change to, `keep` (the design is not what limits the program; the
    /// reasons say what does) or `undecided` (the recording cannot tell; the reasons say why).
    public var strategy: RecommendedStrategy
    public var workers: Int
    /// 0–1.
    public var confidence: Double
    public var reasons: [Reason]
    /// Set when a hot lock (or similar) should be fixed before choosing a strategy.
    public var fixFirst: Reason?

    public init(strategy: RecommendedStrategy, workers: Int, confidence: Double, reasons: [Reason], fixFirst: Reason? = nil) {
        self.strategy = strategy
        self.workers = workers
        self.confidence = confidence
        self.reasons = reasons
        self.fixFirst = fixFirst
    }
}

/// Everything a reporter may draw on.
public struct ReportInput: Sendable {
    public var profile: Profile?
    public var analysis: Analysis?
    public var experiment: ExperimentResult?
    public init(profile: Profile? = nil, analysis: Analysis? = nil, experiment: ExperimentResult? = nil) {
        self.profile = profile
        self.analysis = analysis
        self.experiment = experiment
    }
}

/// A program to run under different strategies.
public struct Workload: Codable, Sendable, Equatable {
    public var command: [String]
    public var environment: [String: String]
    public var workingDirectory: String?

    public init(command: [String], environment: [String: String] = [:], workingDirectory: String? = nil) {
        self.command = command
        self.environment = environment
        self.workingDirectory = workingDirectory
    }
}

/// One command to launch for one run.
public struct LaunchSpec: Codable, Sendable, Equatable {
    public var command: [String]
    /// Added to (and overriding) the inherited environment.
    public var environment: [String: String]
    public var workingDirectory: String?

    public init(command: [String], environment: [String: String] = [:], workingDirectory: String? = nil) {
        self.command = command
        self.environment = environment
        self.workingDirectory = workingDirectory
    }
}
