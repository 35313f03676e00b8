import Foundation
import ForkcastModel
import ForkcastSystem

/// Errors from bad experiment input: each is one line for the user.
public struct ExperimentError: Error, CustomStringConvertible, Equatable, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The placeholders a command template may contain.
public enum Placeholder {
    public static let strategy = "{strategy}"
    public static let workers = "{workers}"

    public static func contains(_ command: [String], _ placeholder: String) -> Bool {
        command.contains { $0.contains(placeholder) }
    }

    public static func substitute(_ command: [String], strategy: String, workers: Int) -> [String] {
        command.map { $0.replacingOccurrences(of: Self.strategy, with: strategy).replacingOccurrences(of: Self.workers, with: String(workers)) }
    }
}

/// Substitutes `{strategy}` and `{workers}` in the workload's command, as hyperfine's
/// parameter lists do: the program itself chooses its executor from its arguments.
public struct CommandTemplateStrategy: StrategyPlugin {
    public init() {}
    public var descriptor: PluginDescriptor {
        PluginDescriptor(name: "command-template", kind: .strategy, version: "1.0",
                         summary: "Substitutes {strategy} and {workers} in the command line for each run.")
    }
    public var strategies: [String] { ConcurrencyStrategy.allCases.map(\.rawValue) }

    public func launchSpecs(for workload: Workload, strategy: String, workers: Int) throws -> [LaunchSpec] {
        guard ConcurrencyStrategy(rawValue: strategy) != nil else { throw ExperimentError("unknown strategy \"\(strategy)\"") }
        return [LaunchSpec(command: Placeholder.substitute(workload.command, strategy: strategy, workers: workers),
                           environment: workload.environment, workingDirectory: workload.workingDirectory)]
    }
}

/// One command (template) per strategy, from a workload file; `{workers}` is substituted.
public struct PerStrategyCommandStrategy: StrategyPlugin {
    /// Strategy name → command (may contain {workers}) and extra environment.
    public var commands: [String: (command: [String], environment: [String: String])]
    public init(commands: [String: (command: [String], environment: [String: String])]) { self.commands = commands }
    public var descriptor: PluginDescriptor {
        PluginDescriptor(name: "per-strategy-command", kind: .strategy, version: "1.0",
                         summary: "Runs the command a workload file gives for each strategy, substituting {workers}.")
    }
    public var strategies: [String] { commands.keys.sorted() }

    public func launchSpecs(for workload: Workload, strategy: String, workers: Int) throws -> [LaunchSpec] {
        guard let entry = commands[strategy] else { throw ExperimentError("the workload file has no command for strategy \"\(strategy)\"") }
        var env = workload.environment
        for (k, v) in entry.environment { env[k] = v.replacingOccurrences(of: Placeholder.workers, with: String(workers)) }
        return [LaunchSpec(command: Placeholder.substitute(entry.command, strategy: strategy, workers: workers),
                           environment: env, workingDirectory: workload.workingDirectory)]
    }
}

/// Runs an unmodified Python program under each strategy by swapping its executors at
/// start-up: a `sitecustomize.py` first on PYTHONPATH replaces
/// `concurrent.futures.ThreadPoolExecutor`/`ProcessPoolExecutor`, `multiprocessing.Pool`
/// and `multiprocessing.pool.ThreadPool` by the strategy's executor with the worker
/// count (see docs/workload-file.md, "Python executor swap").
public struct PythonExecutorSwapStrategy: StrategyPlugin {
    /// The folder holding the hook (from `PythonSwapHook.install`).
    public var hookDirectory: URL
    /// Threads per process under `hybrid` (`--hybrid-threads`); nil splits the workers
    /// as `HybridSplit` does: p = min(cores, N) processes × N/p threads.
    public var hybridThreads: Int?
    public var cores: Int

    public init(hookDirectory: URL, hybridThreads: Int? = nil, cores: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.hookDirectory = hookDirectory
        self.hybridThreads = hybridThreads
        self.cores = max(1, cores)
    }

    public var descriptor: PluginDescriptor {
        PluginDescriptor(name: "python-executor-swap", kind: .strategy, version: "1.0",
                         summary: "Runs a Python program unmodified, swapping its concurrent.futures and multiprocessing executors.")
    }
    public var strategies: [String] { ConcurrencyStrategy.allCases.map(\.rawValue) }

    public func launchSpecs(for workload: Workload, strategy: String, workers: Int) throws -> [LaunchSpec] {
        guard ConcurrencyStrategy(rawValue: strategy) != nil else { throw ExperimentError("unknown strategy \"\(strategy)\"") }
        var env = workload.environment
        let inherited = env["PYTHONPATH"] ?? ProcessInfo.processInfo.environment["PYTHONPATH"]
        env["PYTHONPATH"] = [hookDirectory.path, inherited].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ":")
        env["FORKCAST_STRATEGY"] = strategy
        env["FORKCAST_WORKERS"] = String(strategy == "serial" ? 1 : workers)
        if strategy == "hybrid" {
            // Workers are total concurrency: p processes × t threads, p·t = N.
            let split = HybridSplit.split(workers: workers, cores: cores, threadsOverride: hybridThreads)
            env["FORKCAST_WORKERS"] = String(split.processes)
            env["FORKCAST_HYBRID_THREADS"] = String(split.threads)
        }
        // -S or -I would skip sitecustomize; -E would ignore PYTHONPATH.
        if let bad = workload.command.dropFirst().prefix(while: { $0.hasPrefix("-") }).first(where: { ["-S", "-I", "-E"].contains($0) }) {
            throw ExperimentError("the Python flag \(bad) disables the start-up hook the executor swap needs; remove it or use {strategy}/{workers} placeholders")
        }
        return [LaunchSpec(command: workload.command, environment: env, workingDirectory: workload.workingDirectory)]
    }

    /// True when `command` runs Python: `python`, `python3`, `python3.11`, `pypy3`, a
    /// `.py` script, or an executable whose `#!` line names python.
    public static func isPythonCommand(_ command: [String], workingDirectory: String? = nil) -> Bool {
        guard let first = command.first else { return false }
        let base = (first as NSString).lastPathComponent
        if base.range(of: #"^(python|pypy)[0-9.]*$"#, options: .regularExpression) != nil { return true }
        if base.hasSuffix(".py") { return true }
        var path = first
        if !first.contains("/") { return false }
        if !first.hasPrefix("/"), let dir = workingDirectory { path = dir + "/" + first }
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = String(decoding: handle.readData(ofLength: 128), as: UTF8.self)
        return head.hasPrefix("#!") && (head.split(separator: "\n").first?.contains("python") ?? false)
    }
}

/// Writes the executor-swap hook (sitecustomize.py + forkcast_swap.py) into a folder.
public enum PythonSwapHook {
    /// Creates `directory` if needed and writes the hook files; returns the folder to put
    /// first on PYTHONPATH.
    @discardableResult
    public static func install(in directory: URL) throws -> URL {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try AtomicFile.write(PythonSwapSources.module, to: directory.appendingPathComponent("forkcast_swap.py").path)
            try AtomicFile.write(PythonSwapSources.sitecustomize, to: directory.appendingPathComponent("sitecustomize.py").path)
        } catch {
            throw ExperimentError("cannot write the Python start-up hook into \(directory.path): \((error as? AtomicFile.WriteError)?.reason ?? error.localizedDescription)")
        }
        return directory
    }

    /// Reads a run's swap report (one JSON object per line) into "A→B×N" strings.
    public static func readReport(_ url: URL) -> [String]? {
        guard let data = try? Data(contentsOf: url) else { return nil }
        struct Line: Decodable { var requested: String; var replacement: String; var workers: Int }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { line in
            guard let l = try? JSONDecoder().decode(Line.self, from: Data(line.utf8)) else { return nil }
            return "\(l.requested)→\(l.replacement)×\(l.workers)"
        }
    }
}
