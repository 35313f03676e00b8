import Foundation
import ForkcastAnalysis
import ForkcastExperiment
import ForkcastModel
import ForkcastPlugins
import ForkcastSampling
import ForkcastSystem

/// What `forkcast experiment` was asked, as values: the command line's options before
/// any default is applied (nil = not given), so the planner can tell "asked for" from
/// "defaulted" (a workload file's settings fill what the command line left out).
public struct ExperimentRequest: Sendable {
    public var workloadFile: String?
    public var command: [String] = []
    public var strategies: String?
    public var workers: String?
    public var repeatCount: Int?
    public var warmup: Int?
    public var timeout: Double?
    public var outputDirectory: String?
    public var checkOutput = false
    public var noRecord = false
    public var recordRateHz: Double = 49
    public var seed: UInt64 = 0x5EED
    public var hybridThreads: Int?
    /// `--max-repeat`, `--budget` ("10m"), `--equivalence` ("5%"), `--python` ("A,B").
    public var maxRepeat: Int?
    public var budget: String?
    public var equivalence: String?
    public var pythons: String?
    public var plugins = PluginRegistry.Selection()

    public init() {}
}

/// A plan ready to run, with what running it needs.
public struct PlannedExperiment: Sendable {
    public var plan: ExperimentPlan
    /// Analyzes each recorded run (the request's plugin selection); the same pipeline
    /// builds the `--report`.
    public var pipeline: ReportPipeline
    /// The strategy plugin's name, for the start line.
    public var strategyPluginName: String
    /// One-line notes for the user before the runs start (and kept in the result).
    public var notes: [String]
    /// Plugins that could not be used (one line each).
    public var problems: [String]
}

extension ExperimentRequest {
    /// Builds the plan: reads the workload file, resolves the program (the real
    /// executable, not a pyenv shim), picks the strategy plugin (an external one named with
    /// `--plugin`, the workload file's per-strategy commands, a `{strategy}` template, or
    /// the Python executor swap) and checks that the strategies and worker counts asked
    /// for can be run. Throws `ExperimentError` (or `PluginError`) as one line.
    public func plan(registry: PluginRegistry = .standard()) throws -> PlannedExperiment {
        if workloadFile != nil && !command.isEmpty { throw ExperimentError("give either a workload file or a command after --, not both") }
        if workloadFile == nil && command.isEmpty { throw ExperimentError("no workload: give a command after -- or a workload file (see --help)") }
        let file = try workloadFile.map(WorkloadFile.load)

        let outDir = URL(fileURLWithPath: outputDirectory ?? Self.defaultOutputDirectory())
        let strategyList = try strategies.map(parseStrategies) ?? file?.strategies ?? ConcurrencyStrategy.defaults
        // Launch the real program, not a pyenv shim: a shim adds bash and pyenv processes
        // (~0.1 s) to every run and would blur the comparison. Unknown programs are left as
        // given so the run reports that it cannot start.
        let cmd = Self.resolveProgram(file?.command ?? command)
        let pythonList = try pythons.map(PythonInterpreters.parseList) ?? []
        let explicitWorkers = try workers.map(parseWorkers) ?? file?.workers
        var workerList = explicitWorkers ?? [1, 2, 4]
        // A template with {strategy} but no {workers}: one worker count, unless asked otherwise.
        if explicitWorkers == nil, !cmd.isEmpty, Placeholder.contains(cmd, Placeholder.strategy), !Placeholder.contains(cmd, Placeholder.workers) {
            workerList = [1]
        }
        let workload = Workload(command: cmd.isEmpty ? ["(per-strategy commands)"] : cmd, environment: file?.environment ?? [:],
                                workingDirectory: file?.workingDirectory)
        let hookDir = outDir.appendingPathComponent("python-hook")
        let pipeline: ReportPipeline
        do { pipeline = try ReportPipeline(selection: plugins, registry: registry) } catch { throw ExperimentError("\(error)") }
        let selected = pipeline.selected
        let externalStrategy = selected.registry.strategies.first { selected.registry.isExternal($0.descriptor.name) && plugins.named.contains($0.descriptor.name) }
        let plugin: any StrategyPlugin
        if let externalStrategy {
            for s in strategyList where !externalStrategy.strategies.contains(s.rawValue) {
                throw ExperimentError("strategy \(s.rawValue) was asked for but plugin \(externalStrategy.descriptor.name) launches only \(externalStrategy.strategies.joined(separator: ", "))")
            }
            plugin = externalStrategy
        } else if let file, !file.perStrategy.isEmpty {
            for s in strategyList where file.perStrategy[s.rawValue] == nil {
                throw ExperimentError("strategy \(s.rawValue) was asked for but the workload file gives no command for it")
            }
            let anyWorkers = file.perStrategy.values.contains { Placeholder.contains($0.command, Placeholder.workers) }
            if !anyWorkers {
                if explicitWorkers == nil { workerList = [1] } else if workerList.count > 1 {
                    throw ExperimentError("worker counts \(workerList.map(String.init).joined(separator: ",")) were asked for but no strategy command has {workers}: they would all run the same command")
                }
            }
            plugin = PerStrategyCommandStrategy(commands: file.perStrategy.mapValues { (Self.resolveProgram($0.command), $0.environment) })
        } else {
            let chosen = try chooseStrategyPlugin(command: cmd, strategies: strategyList, workers: workerList,
                                                  workingDirectory: file?.workingDirectory, hookDirectory: hookDir)
            if var swap = chosen as? PythonExecutorSwapStrategy, let t = hybridThreads ?? file?.hybridThreads {
                swap.hybridThreads = t
                plugin = swap
            } else {
                plugin = chosen
            }
        }

        if !pythonList.isEmpty && !(plugin is PythonExecutorSwapStrategy) && !PythonExecutorSwapStrategy.isPythonCommand(cmd) {
            throw ExperimentError("--python needs a Python command (python3 SCRIPT …, or a .py script): \(cmd.first ?? "") is not one")
        }

        let record = !noRecord && (file?.record ?? true)
        let check: OutputCheck? = checkOutput ? (file?.check ?? OutputCheck()) : file?.check
        var plan = ExperimentPlan(
            workload: workload, strategyPlugin: plugin, strategies: strategyList, workers: workerList,
            repeatCount: repeatCount ?? file?.repeatCount ?? 5, warmup: warmup ?? file?.warmup ?? 1,
            timeout: timeout ?? file?.timeout, outputCheck: check, record: record, recordRateHz: recordRateHz,
            setup: file?.setup ?? [], teardown: file?.teardown ?? [], outputDirectory: outDir, seed: seed, workloadFile: workloadFile,
            maxRepeat: maxRepeat, budgetSeconds: try budget.map(parseDuration) ?? 600,
            equivalence: try equivalence.map(parseEquivalence) ?? 0.05,
            hybridThreads: hybridThreads ?? file?.hybridThreads, pythons: pythonList)
        if !pythonList.isEmpty {
            // Interpreters in the sid chroot see the working directory, the experiment's folder
            // and the command's absolute paths through bind mounts at the same paths.
            let cwd = file?.workingDirectory ?? FileManager.default.currentDirectoryPath
            let binds = [cwd, outDir.standardizedFileURL.path] + cmd.filter { $0.hasPrefix("/") }.map { ($0 as NSString).deletingLastPathComponent }
            for p in pythonList { plan.interpreterCommands[p] = try PythonInterpreters.resolve(p, binds: binds) }
        }
        try plan.validate()
        return PlannedExperiment(plan: plan, pipeline: pipeline, strategyPluginName: plugin.descriptor.name, notes: [],
                                 problems: selected.problems.map(\.description))
    }

    static func defaultOutputDirectory() -> String {
        "reports/experiment-\(Formatting.fileTimestamp(Date()))"
    }

    /// The command with its program resolved to the real executable (see `ProgramResolver`);
    /// left as given when it has placeholders or cannot be found.
    public static func resolveProgram(_ command: [String]) -> [String] {
        guard let first = command.first, !first.contains("{"), let path = try? ProgramResolver.resolve(first) else { return command }
        return [path] + command.dropFirst()
    }
}

extension PlannedExperiment {
    /// The runner for this plan: each configuration recorded by ForkcastSampling's
    /// recorder, analyzed by the pipeline's analyzers, its profile written beside the run
    /// outputs.
    public func runner(stop: StopFlag, progress: (@Sendable (ExperimentProgress) -> Void)?,
                       log: (@Sendable (String) -> Void)? = nil) -> ExperimentRunner {
        var runner = ExperimentRunner(stop: stop, recorder: SamplingRunRecorder(), analyzer: Self.analyzer(pipeline), progress: progress)
        runner.log = log
        runner.saveProfile = { profile, url in try ProfileFiles.write(profile, to: url.path) }
        return runner
    }

    /// Runs the plan and writes `experiment.json` into the output folder (and to
    /// `jsonPath` when given, '-' excluded: that is the caller's stdout). Returns the result
    /// and the path of `experiment.json`.
    public func run(stop: StopFlag, jsonPath: String? = nil, progress: (@Sendable (ExperimentProgress) -> Void)?,
                    log: (@Sendable (String) -> Void)? = nil) throws -> (ExperimentResult, String) {
        var result = try runner(stop: stop, progress: progress, log: log).run(plan)
        result.notes = notes + result.notes
        let data = try result.encodedJSON()
        let mainJSON = plan.outputDirectory.appendingPathComponent("experiment.json").path
        try AtomicFile.write(data, to: mainJSON)
        if let jsonPath, jsonPath != "-" {
            do { try AtomicFile.write(data, to: jsonPath) } catch {
                throw ExperimentError("cannot write \(jsonPath): \(error.reason)")
            }
        }
        return (result, mainJSON)
    }

    /// The `--report` of an experiment: the same input `forkcast report experiment.json`
    /// builds (the result and the profile recorded for the recommended configuration),
    /// completed by the same pipeline. Returns the path written.
    public func writeReport(experimentJSON: String, note: (String) -> Void) throws -> String {
        try pipeline.writeHTML(ReportPipeline.load(paths: [experimentJSON], note: note))
    }

    /// The analysis of each recorded run: the pipeline's analyzers and rules, which give
    /// the wait breakdown per strategy and the single-run prediction the experiment's
    /// recommendation is compared with. When the analyzers produce no thread breakdown,
    /// the plain per-thread state count stands in.
    static func analyzer(_ pipeline: ReportPipeline) -> ProfileAnalyzer {
        { profile in
            var analysis = pipeline.analyze(profile, listingProblems: false)
            if analysis.threads.isEmpty { analysis.threads = ExperimentSummarizer.stateBreakdown(profile).threads }
            return analysis
        }
    }
}

/// ForkcastSampling's `Recorder` as the experiment's `RunRecorder`: launches the real
/// executable under ptrace at a low rate, with the run's stdout/stderr sent to files (so
/// they never mix with Forkcast's output), and kills what is left on timeout.
struct SamplingRunRecorder: RunRecorder {
    func record(_ spec: LaunchSpec, rateHz: Double, timeout: Double?, logPrefix: URL, stop: StopFlag) throws -> Profile {
        guard let program = spec.command.first else { throw ExperimentError("empty command") }
        let executable: String
        do { executable = try ProgramResolver.resolve(program) } catch { throw ExperimentError("\(error)") }
        var env = Foundation.ProcessInfo.processInfo.environment
        for (k, v) in spec.environment { env[k] = v }
        // The run's output goes to its log files, like the unrecorded runs'.
        let out = try? FileDescriptor.create(logPrefix.path + ".stdout")
        let err = try? FileDescriptor.create(logPrefix.path + ".stderr")
        defer {
            out?.close()
            err?.close()
        }
        let io = LaunchIO(workingDirectory: spec.workingDirectory, standardOutput: out?.rawValue ?? -1, standardError: err?.rawValue ?? -1)
        let outcome: RecordingOutcome
        do {
            outcome = try Recorder(options: RecordOptions(rateHz: rateHz, duration: timeout))
                .record(.launch(executable: executable, arguments: spec.command, environment: env.map { "\($0.key)=\($0.value)" }, io: io))
        } catch {
            throw ExperimentError("\(error)")
        }
        switch outcome.endReason {
        case .duration:
            if let pid = outcome.launchedPid { ProcessTree.kill(pid) }
        case .interrupted, .terminated:
            if let pid = outcome.launchedPid { ProcessTree.kill(pid) }
            stop.stop()
        case .targetExited:
            break
        }
        return outcome.profile
    }
}
