import Foundation
import ForkcastModel

/// One (strategy, workers[, interpreter]) cell of the run matrix. Workers always means
/// total concurrency: hybrid×N runs p processes × t threads with p·t = N.
public struct Configuration: Hashable, Sendable, CustomStringConvertible {
    public var strategy: ConcurrencyStrategy
    public var workers: Int
    /// The interpreter (`--python`), when it is a dimension of the matrix.
    public var python: String?
    public init(_ strategy: ConcurrencyStrategy, _ workers: Int, python: String? = nil) {
        self.strategy = strategy
        self.workers = workers
        self.python = python
    }
    public var description: String { ref.name }
    public var ref: ConfigurationRef { ConfigurationRef(strategy: strategy.rawValue, workers: workers, python: python) }
}

/// One scheduled run.
public struct ScheduledRun: Equatable, Sendable {
    public enum Kind: String, Sendable { case warmup, measured, recorded }
    public var configuration: Configuration
    /// The nth run of this kind of this configuration (0-based).
    public var repetition: Int
    public var kind: Kind
    /// The measured round (runs of one round are compared pairwise); nil otherwise.
    public var round: Int?

    public init(configuration: Configuration, repetition: Int, kind: Kind, round: Int? = nil) {
        self.configuration = configuration
        self.repetition = repetition
        self.kind = kind
        self.round = round
    }
}

/// How hybrid×N splits its N workers: p processes × t threads with p·t = N.
public enum HybridSplit {
    /// p = the largest divisor of N not above min(cores, N), t = N / p; with
    /// `threadsOverride` (`--hybrid-threads`) t is fixed and p = max(1, N / t).
    public static func split(workers n: Int, cores: Int, threadsOverride: Int? = nil) -> (processes: Int, threads: Int) {
        let n = max(1, n)
        if let t = threadsOverride, t >= 1 { return (max(1, n / t), t) }
        let cap = max(1, min(cores, n))
        let p = (1...cap).reversed().first { n % $0 == 0 } ?? 1
        return (p, n / p)
    }

    /// True when the split is a real mix: at least two processes of at least two threads
    /// (otherwise hybrid×N would run the same as processes×N or threads×N).
    public static func isMixed(workers n: Int, cores: Int, threadsOverride: Int? = nil) -> Bool {
        let s = split(workers: n, cores: cores, threadsOverride: threadsOverride)
        return s.processes >= 2 && s.threads >= 2
    }
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
    /// Most measured rounds a configuration gets (the first batch included); default 4 × repeat.
    public var maxRepeat: Int
    /// Stop adding rounds once the experiment has run this long (seconds); nil: no budget.
    public var budgetSeconds: Double?
    /// Practical equivalence as a fraction (0.05: paired ratios within ±5% tie).
    public var equivalence: Double
    /// CPUs of the machine (hybrid's split, and what "waiting work" means).
    public var cores: Int
    /// `--hybrid-threads`: threads per hybrid process; nil splits N as p = min(cores, N).
    public var hybridThreads: Int?
    /// For waiting work, double the worker counts while the speedup keeps improving.
    public var extendWorkers: Bool
    /// The interpreters compared (`--python A,B`); empty: the command's own.
    public var pythons: [String]
    /// Each of `pythons` → the command words that run it (from `PythonInterpreters.resolve`).
    public var interpreterCommands: [String: [String]] = [:]
    /// Interpreters (their `--python` name; "" for the command's own) without
    /// InterpreterPoolExecutor: the `interpreters` strategy is not run under them.
    public var interpretersUnavailable: Set<String> = []

    public init(workload: Workload, strategyPlugin: any StrategyPlugin, strategies: [ConcurrencyStrategy], workers: [Int],
                repeatCount: Int = 5, warmup: Int = 1, timeout: Double? = nil, outputCheck: OutputCheck? = nil, record: Bool = false,
                recordRateHz: Double = 49, setup: [String] = [], teardown: [String] = [], outputDirectory: URL,
                seed: UInt64 = 0x5EED, workloadFile: String? = nil, maxRepeat: Int? = nil, budgetSeconds: Double? = 600,
                equivalence: Double = 0.05, cores: Int = Foundation.ProcessInfo.processInfo.activeProcessorCount,
                hybridThreads: Int? = nil, extendWorkers: Bool = true, pythons: [String] = []) {
        self.maxRepeat = maxRepeat ?? 4 * repeatCount
        self.budgetSeconds = budgetSeconds
        self.equivalence = equivalence
        self.cores = max(1, cores)
        self.hybridThreads = hybridThreads
        self.extendWorkers = extendWorkers
        self.pythons = pythons
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
    /// in the order the strategies were given; per interpreter when `--python` gave several.
    /// Hybrid×N appears only where it is a real mix of processes and threads (see
    /// `HybridSplit`): elsewhere it would repeat processes×N or threads×N.
    public var configurations: [Configuration] { configurations(workers: workers) }

    public func configurations(workers counts: [Int]) -> [Configuration] {
        var out: [Configuration] = []
        for python in (pythons.isEmpty ? [nil] : pythons.map { Optional($0) }) {
            for s in strategies {
                if s == .serial { if counts == workers { out.append(Configuration(.serial, 1, python: python)) }; continue }
                if s == .interpreters && interpretersUnavailable.contains(python ?? "") { continue }
                for w in counts where !(s == .hybrid && !hybridIsMixed(w)) { out.append(Configuration(s, w, python: python)) }
            }
        }
        var seen = Set<Configuration>()
        return out.filter { seen.insert($0).inserted }
    }

    /// Whether hybrid×N is a real mix here; a template or workload-file command decides its
    /// own split from {workers}, so there hybrid always runs.
    func hybridIsMixed(_ n: Int) -> Bool {
        guard strategyPlugin is PythonExecutorSwapStrategy else { return true }
        return HybridSplit.isMixed(workers: n, cores: cores, threadsOverride: hybridThreads)
    }

    /// Hybrid counts that were left out because they would not mix processes and threads.
    public var hybridSkipped: [Int] {
        strategies.contains(.hybrid) ? workers.filter { !hybridIsMixed($0) } : []
    }

    /// The first batch: warm-up rounds, then `repeatCount` measured rounds over every
    /// configuration, interleaved (A B C, B C A, …) so that drift of the machine hits
    /// every configuration alike and runs of one round can be compared pairwise.
    public var firstBatch: [ScheduledRun] {
        let configs = configurations
        var out: [ScheduledRun] = []
        for r in 0..<max(0, warmup) { for c in configs { out.append(ScheduledRun(configuration: c, repetition: r, kind: .warmup)) } }
        out += Self.rounds(configs, from: 0, count: max(0, repeatCount), firstRepetition: 0)
        return out
    }

    /// `count` measured rounds of `configs` numbered from `from`, the order rotating by round.
    public static func rounds(_ configs: [Configuration], from: Int, count: Int, firstRepetition: Int) -> [ScheduledRun] {
        var out: [ScheduledRun] = []
        guard !configs.isEmpty else { return out }
        for k in 0..<max(0, count) {
            let r = from + k
            for i in 0..<configs.count {
                let c = configs[(i + r) % configs.count]
                out.append(ScheduledRun(configuration: c, repetition: firstRepetition + k, kind: .measured, round: r))
            }
        }
        return out
    }

    /// One recorded run per configuration (when recording), never timed so the
    /// profiler's overhead cannot bias the comparison.
    public func recordedRuns(_ configs: [Configuration]) -> [ScheduledRun] {
        record ? configs.map { ScheduledRun(configuration: $0, repetition: 0, kind: .recorded) } : []
    }

    /// The first batch and the recorded runs: the schedule when no rounds are added.
    public var schedule: [ScheduledRun] { firstBatch + recordedRuns(configurations) }

    /// Checks the plan before anything runs; throws one clear line.
    public func validate() throws {
        if strategies.isEmpty { throw ExperimentError("no strategy to run: --strategies is empty") }
        if workers.isEmpty || workers.contains(where: { $0 < 1 }) { throw ExperimentError("worker counts must be whole numbers ≥ 1") }
        if repeatCount < 1 { throw ExperimentError("--repeat must be at least 1") }
        if maxRepeat < repeatCount { throw ExperimentError("--max-repeat (\(maxRepeat)) must be at least --repeat (\(repeatCount))") }
        if let b = budgetSeconds, !(b > 0) { throw ExperimentError("--budget must be a positive duration, e.g. 10m or 90s") }
        if !(equivalence > 0 && equivalence < 1) { throw ExperimentError("--equivalence must be between 0% and 100%, e.g. 5%") }
        if let t = hybridThreads, t < 1 { throw ExperimentError("--hybrid-threads must be at least 1") }
        if configurations.isEmpty { throw ExperimentError("no configuration to run: hybrid×\(workers.map(String.init).joined(separator: ",")) would not mix processes and threads on \(cores) cores; add worker counts or strategies") }
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

/// Parses a duration: `10m`, `90s`, `1h`, `1h30m` or plain seconds; one clear line otherwise.
public func parseDuration(_ text: String) throws -> Double {
    let t = text.trimmingCharacters(in: .whitespaces).lowercased()
    if let plain = Double(t), plain > 0, plain.isFinite { return plain }
    var total = 0.0, number = "", sawUnit = false
    for ch in t {
        if ch.isNumber || ch == "." { number.append(ch); continue }
        let unit: Double
        switch ch {
        case "h": unit = 3600
        case "m": unit = 60
        case "s": unit = 1
        default: throw ExperimentError("bad duration \"\(text)\": expected e.g. 10m, 90s or 1h30m")
        }
        guard let n = Double(number) else { throw ExperimentError("bad duration \"\(text)\": expected e.g. 10m, 90s or 1h30m") }
        total += n * unit
        number = ""
        sawUnit = true
    }
    guard sawUnit, number.isEmpty, total > 0 else { throw ExperimentError("bad duration \"\(text)\": expected e.g. 10m, 90s or 1h30m") }
    return total
}

/// Parses a practical-equivalence margin: `5%` (or `5`) → 0.05, `0.05` → 0.05.
public func parseEquivalence(_ text: String) throws -> Double {
    let t = text.trimmingCharacters(in: .whitespaces)
    let bad = ExperimentError("bad equivalence \"\(text)\": expected a percentage between 0% and 100%, e.g. 5%")
    if t.hasSuffix("%") {
        guard let v = Double(t.dropLast()), v > 0, v < 100 else { throw bad }
        return v / 100
    }
    guard let v = Double(t), v > 0, v < 100 else { throw bad }
    return v < 1 ? v : v / 100
}
