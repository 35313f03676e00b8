import Foundation
import ForkcastModel

/// One (strategy, workers) cell of the run matrix.
public struct Configuration: Hashable, Sendable, CustomStringConvertible {
    public var strategy: ConcurrencyStrategy
    public var workers: Int
    public init(_ strategy: ConcurrencyStrategy, _ workers: Int) {
        self.strategy = strategy
        self.workers = workers
    }
    public var description: String { strategy == .serial ? "serial" : "\(strategy.rawValue)×\(workers)" }
    public var ref: ConfigurationRef { ConfigurationRef(strategy: strategy.rawValue, workers: workers) }
}

/// One scheduled run.
public struct ScheduledRun: Equatable, Sendable {
    public enum Kind: String, Sendable { case warmup, measured, recorded }
    public var configuration: Configuration
    public var repetition: Int
    public var kind: Kind
}

/// How a run's stdout is compared with the baseline's (a workload file's `check:`).
public struct OutputCheck: Sendable, Equatable {
    /// Lines matching any of these regular expressions are dropped before comparing
    /// (timings, pids, addresses).
    public var ignore: [String]
    /// Compare the sorted lines (for programs whose output order is not deterministic).
    public var sortLines: Bool
    public init(ignore: [String] = [], sortLines: Bool = false) {
        self.ignore = ignore
        self.sortLines = sortLines
    }

    /// The text that is compared, after the filters.
    public func normalize(_ data: Data) -> String {
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if !ignore.isEmpty {
            let regexes = ignore.compactMap { try? NSRegularExpression(pattern: $0) }
            lines = lines.filter { line in
                !regexes.contains { $0.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil }
            }
        }
        if sortLines { lines.sort() }
        return lines.joined(separator: "\n")
    }

    public static func digest(_ text: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return "fnv1a64:" + String(format: "%016llx", h)
    }
}

/// Everything an experiment needs to run: the workload, the strategy plugin, the matrix
/// and the settings. Built by the CLI from flags or a workload file.
public struct ExperimentPlan: Sendable {
    public var workload: Workload
    public var strategyPlugin: any StrategyPlugin
    public var strategies: [ConcurrencyStrategy]
    public var workers: [Int]
    public var repeatCount: Int
    public var warmup: Int
    public var timeout: Double?
    /// Compare every run's stdout with serial's (nil: no check).
    public var outputCheck: OutputCheck?
    public var record: Bool
    public var recordRateHz: Double
    /// Shell commands run before the first and after the last run (teardown always runs).
    public var setup: [String]
    public var teardown: [String]
    /// Where run outputs, profiles and the hook go.
    public var outputDirectory: URL
    public var seed: UInt64
    public var workloadFile: String?

    public init(workload: Workload, strategyPlugin: any StrategyPlugin, strategies: [ConcurrencyStrategy], workers: [Int],
                repeatCount: Int = 5, warmup: Int = 1, timeout: Double? = nil, outputCheck: OutputCheck? = nil, record: Bool = false,
                recordRateHz: Double = 49, setup: [String] = [], teardown: [String] = [], outputDirectory: URL,
                seed: UInt64 = 0x5EED, workloadFile: String? = nil) {
        self.workload = workload
        self.strategyPlugin = strategyPlugin
        self.strategies = strategies
        self.workers = workers
        self.repeatCount = repeatCount
        self.warmup = warmup
        self.timeout = timeout
        self.outputCheck = outputCheck
        self.record = record
        self.recordRateHz = recordRateHz
        self.setup = setup
        self.teardown = teardown
        self.outputDirectory = outputDirectory
        self.seed = seed
        self.workloadFile = workloadFile
    }

    /// The matrix: serial once (one worker), every other strategy at every worker count,
    /// in the order the strategies were given.
    public var configurations: [Configuration] {
        var out: [Configuration] = []
        for s in strategies {
            if s == .serial { out.append(Configuration(.serial, 1)); continue }
            for w in workers { out.append(Configuration(s, w)) }
        }
        var seen = Set<Configuration>()
        return out.filter { seen.insert($0).inserted }
    }

    /// Runs interleaved across configurations (A B C A B C …) so that drift of the
    /// machine hits every configuration alike: warm-up rounds first, then measured
    /// rounds, then (when recording) one recorded run per configuration, which is never
    /// timed so the profiler's overhead cannot bias the comparison.
    public var schedule: [ScheduledRun] {
        let configs = configurations
        var out: [ScheduledRun] = []
        for r in 0..<max(0, warmup) { for c in configs { out.append(ScheduledRun(configuration: c, repetition: r, kind: .warmup)) } }
        for r in 0..<max(0, repeatCount) { for c in configs { out.append(ScheduledRun(configuration: c, repetition: r, kind: .measured)) } }
        if record { for c in configs { out.append(ScheduledRun(configuration: c, repetition: 0, kind: .recorded)) } }
        return out
    }

    /// Checks the plan before anything runs; throws one clear line.
    public func validate() throws {
        if strategies.isEmpty { throw ExperimentError("no strategy to run: --strategies is empty") }
        if workers.isEmpty || workers.contains(where: { $0 < 1 }) { throw ExperimentError("worker counts must be whole numbers ≥ 1") }
        if repeatCount < 1 { throw ExperimentError("--repeat must be at least 1") }
        if warmup < 0 { throw ExperimentError("--warmup cannot be negative") }
        if let t = timeout, !(t > 0) { throw ExperimentError("--timeout must be a positive number of seconds") }
        if workload.command.isEmpty { throw ExperimentError("no command to run: give one after --, or a workload file") }
        let supported = Set(strategyPlugin.strategies)
        for s in strategies where !supported.contains(s.rawValue) {
            throw ExperimentError("strategy \"\(s.rawValue)\" is not available from \(strategyPlugin.descriptor.name) (it offers \(strategyPlugin.strategies.joined(separator: ", ")))")
        }
    }
}

/// Parses `serial,threads` into strategies; one clear line for an unknown name.
public func parseStrategies(_ text: String) throws -> [ConcurrencyStrategy] {
    let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    var out: [ConcurrencyStrategy] = []
    for n in names {
        guard let s = ConcurrencyStrategy(rawValue: n.lowercased()) else {
            throw ExperimentError("unknown strategy \"\(n)\" (known: \(ConcurrencyStrategy.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        if !out.contains(s) { out.append(s) }
    }
    if out.isEmpty { throw ExperimentError("no strategy given in \"\(text)\"") }
    return out
}

/// Parses `1,2,4` into worker counts; one clear line for anything else.
public func parseWorkers(_ text: String) throws -> [Int] {
    var out: [Int] = []
    for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
        guard let n = Int(part), n >= 1, n <= 4096 else { throw ExperimentError("bad worker count \"\(part)\": expected whole numbers from 1 to 4096, e.g. 1,2,4") }
        if !out.contains(n) { out.append(n) }
    }
    if out.isEmpty { throw ExperimentError("no worker count given in \"\(text)\"") }
    return out
}

/// Picks the strategy plugin for a one-line command and checks the placeholders make
/// sense for the requested matrix.
///
/// - With `{strategy}` or `{workers}`: the command template. `{workers}` without
///   `{strategy}` while several strategies are asked for (or the reverse with several
///   worker counts) is an error: those runs would all be the same command.
/// - Without placeholders, for a Python command: the executor swap (hook written into
///   `hookDirectory`).
/// - Otherwise an error: there is nothing Forkcast can vary.
public func chooseStrategyPlugin(command: [String], strategies: [ConcurrencyStrategy], workers: [Int], workingDirectory: String? = nil,
                                 hookDirectory: URL) throws -> any StrategyPlugin {
    let hasStrategy = Placeholder.contains(command, Placeholder.strategy)
    let hasWorkers = Placeholder.contains(command, Placeholder.workers)
    if hasStrategy || hasWorkers {
        let varying = strategies.filter { $0 != .serial }
        if hasWorkers && !hasStrategy && strategies.count > 1 {
            throw ExperimentError("the command has {workers} but no {strategy}: \(strategies.map(\.rawValue).joined(separator: ", ")) would all run the same command; add {strategy} or give one strategy with --strategies")
        }
        if hasStrategy && !hasWorkers && workers.count > 1 && !varying.isEmpty {
            throw ExperimentError("the command has {strategy} but no {workers}: worker counts \(workers.map(String.init).joined(separator: ",")) would all run the same command; add {workers} or give one count with --workers")
        }
        return CommandTemplateStrategy()
    }
    if PythonExecutorSwapStrategy.isPythonCommand(command, workingDirectory: workingDirectory) {
        try PythonSwapHook.install(in: hookDirectory)
        return PythonExecutorSwapStrategy(hookDirectory: hookDirectory)
    }
    throw ExperimentError("\"\(command.first ?? "")\" has no {strategy}/{workers} placeholder and is not a Python program, so there is nothing to vary; add placeholders (e.g. --mode {strategy} -j {workers}) or use a workload file")
}
