import ArgumentParser
import Dispatch
import Foundation
import ForkcastExperiment
import ForkcastAnalysis
import ForkcastModel
import ForkcastPlugins
import ForkcastReport
import ForkcastSampling
import ForkcastSystem
import ForkcastWorkflow

/// `forkcast experiment`: run a workload under each concurrency strategy, measure,
/// fit scaling, recommend. A thin layer over ForkcastExperiment.
public struct Experiment: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "experiment",
        abstract: "Run a workload under serial, threads, processes and hybrid; measure; recommend.",
        discussion: """
        forkcast experiment [options] -- CMD ARGS…
        forkcast experiment [options] WORKLOAD.yml

        In CMD, {strategy} and {workers} are replaced for each run (as hyperfine's \
        parameter lists). Without placeholders, a Python program runs unmodified and \
        Forkcast swaps its concurrent.futures / multiprocessing executors at start-up. \
        Runs are interleaved in rounds and configurations are compared by the ratio of \
        their times within a round (95% bootstrap interval of the median ratio). \
        --repeat rounds come first; while the leader is neither separated from a \
        contender nor shown equivalent to it (ratio within ±--equivalence), rounds of \
        just the contenders are added, up to --max-repeat or --budget. The cheapest of \
        practically equivalent configurations is chosen; otherwise the answer is \
        undecided, with the two candidates and the rounds likely needed. Workers are \
        total concurrency (hybrid×N = p processes × t threads, p·t = N); for work that \
        waits, worker counts are doubled while the speedup improves. The workload \
        file format is in docs/workload-file.md, the JSON in docs/experiment-format.md.
        """
    )

    @Option(help: "Strategies to compare, comma-separated (serial,threads,processes,hybrid; interpreters on CPython 3.14+).")
    var strategies: String?
    @Option(help: "Worker counts, comma-separated (default 1,2,4).")
    var workers: String?
    @Option(name: .customLong("repeat"), help: "Measured rounds in the first batch (default 5).")
    var repeatCount: Int?
    @Option(help: "Most measured rounds a configuration gets while undecided (default 4 × --repeat).")
    var maxRepeat: Int?
    @Option(help: "Add no rounds once the experiment has run this long, e.g. 10m, 90s (default 10m).")
    var budget: String?
    @Option(help: "Configurations tie only when their paired time ratio lies within ± this (default 5%).")
    var equivalence: String?
    @Option(help: "Interpreters to compare, comma-separated (e.g. python3.13,python3.13t): a dimension of the matrix.")
    var python: String?
    @Option(help: "Warm-up runs per configuration, discarded (default 1).")
    var warmup: Int?
    @Option(help: "Kill a run (its whole process group) after this many seconds.")
    var timeout: Double?
    @Option(help: "Also write the results as JSON to FILE ('-' for stdout).")
    var json: String?
    @Option(name: [.customShort("o"), .customLong("output")], help: "Folder for results and run outputs (default reports/experiment-TIMESTAMP).")
    var outputDirectory: String?
    @Flag(help: "Also write the HTML report (reports/<program>-<time>.html).")
    var report = false
    @Flag(help: "Flag a strategy whose stdout differs from serial's; it is never recommended.")
    var checkOutput = false
    @Flag(help: "Do not record a profile of each configuration (no wait breakdown).")
    var noRecord = false
    @Option(help: "Sampling rate of the recorded run per configuration, in Hz.")
    var rate: Double = 49
    @Option(help: "Seed of the bootstrap's random numbers.")
    var seed: UInt64 = 0x5EED
    @Option(help: "Threads per worker process under hybrid (Python executor swap; default: N workers = min(cores, N) processes × the rest in threads).")
    var hybridThreads: Int?
    @OptionGroup var pluginOptions: PluginOptions

    @Argument(help: "A workload file (YAML).")
    var workloadFile: String?
    @Argument(parsing: .postTerminator, help: "The command to run, after --.")
    var command: [String] = []

    public init() {}

    public func run() throws {
        try Terminal.run {
            do { try runExperiment() } catch let error as PluginError {
                throw UserError("strategy \(error.plugin): \(error.reason)")
            }
        }
    }

    /// The options as a request for the workflow layer, which plans and runs it.
    var request: ExperimentRequest {
        var r = ExperimentRequest()
        r.workloadFile = workloadFile
        r.command = command
        r.strategies = strategies
        r.workers = workers
        r.repeatCount = repeatCount
        r.warmup = warmup
        r.timeout = timeout
        r.outputDirectory = outputDirectory
        r.checkOutput = checkOutput
        r.noRecord = noRecord
        r.recordRateHz = rate
        r.seed = seed
        r.hybridThreads = hybridThreads
        r.maxRepeat = maxRepeat
        r.budget = budget
        r.equivalence = equivalence
        r.pythons = python
        r.plugins = pluginOptions.selection
        return r
    }

    private func runExperiment() throws {
        let planned = try request.plan(registry: Plugins.registry())
        let plan = planned.plan
        for p in planned.problems { Terminal.warning(p) }

        let stop = StopFlag()
        let signalSource = Self.watchInterrupt(stop)
        defer { signalSource.cancel() }
        let progress = ProgressPrinter(total: plan.schedule.count)
        for n in planned.notes { Terminal.note(n) }
        Terminal.note("\(plan.configurations.count) configurations × \(plan.repeatCount) rounds (+\(plan.warmup) warm-up; up to \(plan.maxRepeat) rounds while undecided) with \(planned.strategyPluginName); outputs in \(plan.outputDirectory.path)")

        let (result, mainJSON) = try planned.run(stop: stop, jsonPath: json, progress: { progress.report($0) }, log: { progress.say($0) })
        progress.finish()
        if json == "-" { FileHandle.standardOutput.write(try result.encodedJSON() + Data("\n".utf8)) }
        if json != "-" { print(ExperimentTable.render(result)) }
        Terminal.note("results in \(mainJSON)")
        if report {
            do {
                let path = try planned.writeReport(experimentJSON: mainJSON, note: { Terminal.note($0) })
                Terminal.note("report: \(path)")
            } catch {
                Terminal.error("\(error)")
            }
        }
        if result.interrupted { throw ExitCode(130) }
        if result.recommendation == nil || result.recommendation?.undecided?.kind == "all_failed" {
            let why = result.summary.compactMap(\.excludedReason).first ?? "no configuration completed"
            throw ExperimentError("no strategy can be recommended: \(why)")
        }
    }

    /// Ctrl-C (and SIGTERM) stop the experiment: the running run is killed and recorded as
    /// interrupted, the completed runs are summarized and written.
    static func watchInterrupt(_ stop: StopFlag) -> DispatchSourceSignal {
        _ = IgnoredSignal(SIGINT)  // delivered to the dispatch source instead, for the whole run
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            stop.stop()
            Terminal.progressDone()
            Terminal.note("interrupted; writing the results of the completed runs")
        }
        source.resume()
        return source
    }
}

/// Prints progress on stderr: a self-overwriting line on a terminal, one line per run otherwise.
final class ProgressPrinter: @unchecked Sendable {
    private let total: Int
    private let lock = NSLock()
    init(total: Int) { self.total = total }

    func report(_ p: ExperimentProgress) {
        lock.lock()
        defer { lock.unlock() }
        let r = p.run
        let name = ConfigurationRef(strategy: r.strategy, workers: r.workers, python: r.python).name
        let kind = p.kind == .measured ? "round \((r.round ?? r.repetition) + 1)" : p.kind.rawValue
        var status = String(format: "%.3f s", r.wallSeconds)
        if r.outcome != .ok { status += " " + r.outcome.rawValue + (r.error.map { ": \($0)" } ?? "") }
        if r.outputMatchesBaseline == false { status += " (output differs)" }
        let eta = p.done < p.total ? String(format: "  ETA %d:%02d", Int(p.etaSeconds) / 60, Int(p.etaSeconds) % 60) : ""
        let line = "[\(p.done)/\(p.total)] \(name) \(kind): \(status)\(eta)"
        Terminal.progress(line)
    }

    /// A line that stays: why rounds are added, or why the experiment stopped early.
    func say(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        if Terminal.stderrIsTTY { Terminal.progressDone() }
        Terminal.note(line)
    }

    func finish() {
        Terminal.progressDone()
    }
}

/// The terminal summary of an experiment (the CLI's presentation of ExperimentResult).
enum ExperimentTable {
    static func render(_ r: ExperimentResult) -> String {
        var out: [String] = []
        let header = ["configuration", "median", "speedup (paired 95%)", "vs leader", "CPU", "peak RSS", "procs", "ok", "note"]
        var rows: [[String]] = []
        for s in r.summary {
            var name = ConfigurationRef(strategy: s.strategy, workers: s.workers, python: s.python).name
            if let p = s.hybridProcesses, let t = s.hybridThreads { name += " (\(p)p×\(t)t)" }
            let mark = r.recommendation.map { $0.strategy.rawValue == s.strategy && $0.workers == s.workers && $0.fastest?.python == s.python } == true ? "▶ " : "  "
            let speedup = s.pairedSpeedup.map { String(format: "%.2f× (%.2f–%.2f)", $0.median, $0.low, $0.high) } ?? String(format: "%.2f×", s.speedup)
            let vs = s.ratioToLeader.map { String(format: "%.2f× (%.2f–%.2f)", $0.median, $0.low, $0.high) } ?? (s.successfulRuns > 0 ? "leader" : "")
            rows.append([mark + name, sec(s.medianWallSeconds), speedup, r.varied == false ? "" : vs, sec(s.cpuSeconds),
                         String(format: "%.0f MiB", Double(s.peakRSSBytes) / 1_048_576),
                         String(s.processes), "\(s.successfulRuns)/\(s.measuredRuns)", s.excludedReason ?? ""])
        }
        out.append(String(TextTable.render([["  " + header[0]] + header.dropFirst()] + rows).dropLast()))
        if !r.scaling.isEmpty {
            out.append("")
            out.append("Scaling — predictions from a model fit, not measurements:")
            for f in r.scaling {
                let preds = f.predictions.map { String(format: "%d cores %.1f× (%.1f–%.1f)", $0.cores, $0.speedup, $0.low, $0.high) }.joined(separator: ", ")
                out.append(String(format: "  %@: %@ σ=%.3f κ=%.4f; %@", f.strategy, f.model, f.sigma, f.kappa, preds))
            }
        }
        out.append("")
        if let rounds = r.rounds, let added = r.roundsAdded {
            out.append("Rounds: \(rounds) (\(added) added after the first batch)")
            for line in r.roundLog ?? [] { out.append("  - " + line) }
        }
        if let rec = r.recommendation, let u = rec.undecided {
            out.append(u.candidates.count == 2 ? "Undecided between \(u.candidates[0].name) and \(u.candidates[1].name):" : "No recommendation (undecided):")
            for reason in rec.reasons { out.append("  - " + reason.text) }
        } else if let rec = r.recommendation {
            let name = rec.strategy == .serial || !rec.strategy.isModel || rec.workers <= 0 ? rec.strategy.rawValue : "\(rec.strategy.rawValue) with \(rec.workers) workers"
            let settledCount = rec.decisive || !rec.tiedWith.isEmpty
            out.append(rec.decisive ? String(format: "Recommendation: %@ (wins by %.0f%%)", name, rec.margin * 100)
                       : settledCount ? "Recommendation: \(name) (practically equivalent to the fastest within ±\(Int(((rec.equivalence ?? 0.05) * 100).rounded()))%; the cheaper choice)"
                       : "Recommendation: \(name) (the strategy is settled; the worker count is not, see below)")
            for reason in rec.reasons { out.append("  - " + reason.text) }
        } else {
            out.append("No recommendation: no configuration completed all its runs cleanly.")
        }
        for n in r.notes where !(r.varied == false && n.hasPrefix("No advice: ")) { out.append("Note: " + n) }
        return out.joined(separator: "\n")
    }

    static func sec(_ s: Double) -> String {
        s >= 10 ? String(format: "%.1f s", s) : s >= 1 ? String(format: "%.2f s", s) : String(format: "%.0f ms", s * 1000)
    }
}
