import Foundation
import ForkcastModel

/// Records one run and returns its profile: the injection point for ForkcastSampling's
/// recorder (the CLI wires it in). Implementations launch `spec` under the profiler at
/// `rateHz`, kill it after `timeout` seconds, send its stdout/stderr to
/// `logPrefix` + ".stdout"/".stderr" (never to Forkcast's own), and set `stop` when the
/// recording was interrupted (Ctrl-C).
public protocol RunRecorder: Sendable {
    func record(_ spec: LaunchSpec, rateHz: Double, timeout: Double?, logPrefix: URL, stop: StopFlag) throws -> Profile
}

/// Turns a recorded profile into an analysis (ForkcastAnalysis's analyzers and
/// recommender, wired in by the CLI). Must not do I/O.
public typealias ProfileAnalyzer = @Sendable (Profile) throws -> Analysis

/// What the experiment tells its caller as it goes (the CLI prints it on stderr).
public struct ExperimentProgress: Sendable {
    public var done: Int
    public var total: Int
    public var run: ExperimentRun
    /// Estimated seconds left, from the mean duration of the runs so far.
    public var etaSeconds: Double
    public var kind: ScheduledRun.Kind
}

/// Runs an `ExperimentPlan`: set-up, the interleaved schedule, tear-down; then
/// summarizes, fits scaling and recommends. Completed runs are kept whatever happens
/// (a failed run, a timeout, Ctrl-C through `stop`).
public struct ExperimentRunner: Sendable {
    public var launcher = ProcessRunner()
    public var recorder: (any RunRecorder)?
    public var analyzer: ProfileAnalyzer?
    public var stop: StopFlag
    public var progress: (@Sendable (ExperimentProgress) -> Void)?
    /// Writes recorded profiles (the CLI passes ForkcastModel's profile writer); nil keeps them in memory only.
    public var saveProfile: (@Sendable (Profile, URL) throws -> Void)?

    public init(stop: StopFlag = StopFlag(), recorder: (any RunRecorder)? = nil, analyzer: ProfileAnalyzer? = nil,
                progress: (@Sendable (ExperimentProgress) -> Void)? = nil) {
        self.stop = stop
        self.recorder = recorder
        self.analyzer = analyzer
        self.progress = progress
    }

    public func run(_ plan: ExperimentPlan) throws -> ExperimentResult {
        try plan.validate()
        let runsDir = plan.outputDirectory.appendingPathComponent("runs")
        do {
            try FileManager.default.createDirectory(at: runsDir, withIntermediateDirectories: true)
        } catch {
            throw ExperimentError("cannot create \(runsDir.path): \(error.localizedDescription)")
        }
        var notes: [String] = []
        var teardownDone = false
        defer { if !teardownDone { _ = runShell(plan.teardown, plan: plan, label: "teardown", dir: runsDir) } }
        if let failure = runShell(plan.setup, plan: plan, label: "setup", dir: runsDir) {
            throw ExperimentError(failure)
        }

        let schedule = plan.schedule
        var runs: [ExperimentRun] = []
        var analyses: [Configuration: Analysis] = [:]
        var baselineOutput: String?
        let baselineConfig = plan.configurations.first { $0.strategy == .serial } ?? plan.configurations.first!
        let started = Date()
        var interrupted = false
        var startErrors = 0

        for (index, item) in schedule.enumerated() {
            if stop.isStopped { interrupted = true; break }
            let c = item.configuration
            let specs = try plan.strategyPlugin.launchSpecs(for: plan.workload, strategy: c.strategy.rawValue, workers: c.workers)
            guard var spec = specs.first else { throw ExperimentError("\(plan.strategyPlugin.descriptor.name) gave no command for \(c)") }
            let label = String(format: "%04d-%@-%d-%@%d", index, c.strategy.rawValue, c.workers, item.kind.rawValue, item.repetition)
            let swapReport = runsDir.appendingPathComponent("\(label).swaps")
            spec.environment["FORKCAST_SWAP_REPORT"] = swapReport.path

            var run: ExperimentRun
            if item.kind == .recorded {
                run = recordRun(spec, c, item, index, plan: plan, dir: runsDir, label: label, analyses: &analyses, notes: &notes)
            } else {
                let m = launcher.run(spec, timeout: plan.timeout, stop: stop, outputDirectory: runsDir, label: label)
                run = ExperimentRun(strategy: c.strategy.rawValue, workers: c.workers, repetition: item.repetition,
                                    wallSeconds: m.wallSeconds, cpuSeconds: m.cpuSeconds, peakRSSBytes: m.peakRSSBytes,
                                    exit: m.exit, failed: m.outcome != .ok, sequence: index, warmup: item.kind == .warmup,
                                    userSeconds: m.userSeconds, systemSeconds: m.systemSeconds, peakProcesses: m.peakProcesses,
                                    voluntaryContextSwitches: m.voluntaryContextSwitches,
                                    involuntaryContextSwitches: m.involuntaryContextSwitches, outcome: m.outcome, command: spec.command)
                switch m.outcome {
                case .notStarted: run.error = m.startError; startErrors += 1
                case .timedOut: run.error = "timed out after \(Formatting.seconds(plan.timeout ?? 0)); the process group was killed"
                case .failed: run.error = errorLine(m)
                default: break
                }
                if let check = plan.outputCheck, m.outcome == .ok {
                    let text = check.normalize(m.stdout)
                    run.stdoutDigest = OutputCheck.digest(text)
                    if c == baselineConfig && baselineOutput == nil { baselineOutput = text }
                    if let base = baselineOutput { run.outputMatchesBaseline = (text == base) }
                }
            }
            if plan.strategyPlugin is PythonExecutorSwapStrategy { run.swaps = PythonSwapHook.readReport(swapReport) ?? [] }
            runs.append(run)
            if run.outcome == .interrupted { interrupted = true }
            let elapsed = Date().timeIntervalSince(started)
            let eta = elapsed / Double(index + 1) * Double(schedule.count - index - 1)
            progress?(ExperimentProgress(done: index + 1, total: schedule.count, run: run, etaSeconds: eta, kind: item.kind))
            if startErrors > 0 && index == 0 && run.outcome == .notStarted {
                // The very first run could not start: every other run would fail the same way.
                throw ExperimentError(run.error ?? "the command cannot start")
            }
            if interrupted { break }
        }
        teardownDone = true
        if let failure = runShell(plan.teardown, plan: plan, label: "teardown", dir: runsDir) { notes.append(failure) }

        // Runs measured before the baseline's output was known are compared now.
        if let base = baselineOutput, let check = plan.outputCheck {
            for i in runs.indices where runs[i].outcome == .ok && runs[i].outputMatchesBaseline == nil && !runs[i].command.isEmpty && runs[i].profilePath == nil {
                let label = runLabel(runs[i], schedule: schedule)
                if let data = try? Data(contentsOf: runsDir.appendingPathComponent("\(label).stdout")) {
                    runs[i].outputMatchesBaseline = check.normalize(data) == base
                }
            }
        }
        if plan.outputCheck != nil && baselineOutput == nil {
            notes.append("output check skipped: \(baselineConfig) has no successful run to compare with")
        } else if plan.outputCheck != nil && baselineConfig.strategy != .serial {
            notes.append("output compared with \(baselineConfig)'s (serial was not run)")
        }
        if plan.strategyPlugin is PythonExecutorSwapStrategy {
            let measured = runs.filter { !$0.warmup && $0.outcome == .ok }
            if !measured.isEmpty && measured.allSatisfy({ ($0.swaps ?? []).isEmpty }) {
                notes.append("the executor swap replaced no executor: the program created no ThreadPoolExecutor, ProcessPoolExecutor, multiprocessing.Pool or ThreadPool, so every strategy ran the same code")
            }
        }
        if interrupted { notes.append("interrupted: \(runs.count) of \(schedule.count) runs completed") }
        if plan.repeatCount < 2 && plan.configurations.count > 1 {
            notes.append("one run per configuration gives no interval to compare: every configuration counts as tied and the cheapest is recommended; use --repeat 3 or more")
        }

        let setup = ExperimentSetup(
            command: plan.workload.command, workloadFile: plan.workloadFile, strategyPlugin: plan.strategyPlugin.descriptor.name,
            strategies: plan.strategies.map(\.rawValue), workers: plan.workers, repeatCount: plan.repeatCount, warmup: plan.warmup,
            timeoutSeconds: plan.timeout, checkOutput: plan.outputCheck != nil, record: plan.record, seed: plan.seed,
            cores: Foundation.ProcessInfo.processInfo.activeProcessorCount, hostname: Foundation.ProcessInfo.processInfo.hostName,
            kernel: kernelRelease(), startedAt: ISO8601DateFormatter().string(from: started))
        return ExperimentSummarizer.assemble(setup: setup, configurations: plan.configurations, runs: runs, analyses: analyses,
                                           seed: plan.seed, interrupted: interrupted, notes: notes)
    }

    private func runLabel(_ run: ExperimentRun, schedule: [ScheduledRun]) -> String {
        let item = schedule[run.sequence]
        return String(format: "%04d-%@-%d-%@%d", run.sequence, run.strategy, run.workers, item.kind.rawValue, item.repetition)
    }

    private func recordRun(_ spec: LaunchSpec, _ c: Configuration, _ item: ScheduledRun, _ index: Int, plan: ExperimentPlan, dir: URL,
                           label: String, analyses: inout [Configuration: Analysis], notes: inout [String]) -> ExperimentRun {
        var run = ExperimentRun(strategy: c.strategy.rawValue, workers: c.workers, repetition: 0, wallSeconds: 0, cpuSeconds: 0,
                                peakRSSBytes: 0, exit: nil, failed: false, sequence: index, warmup: true, command: spec.command,
                                recorded: true)
        guard let recorder else {
            run.failed = true
            run.outcome = .notStarted
            run.error = "no recorder available in this build"
            return run
        }
        let t0 = Date()
        do {
            let profile = try recorder.record(spec, rateHz: plan.recordRateHz, timeout: plan.timeout,
                                             logPrefix: dir.appendingPathComponent(label), stop: stop)
            run.wallSeconds = Date().timeIntervalSince(t0)
            run.exit = profile.recording.rootExit
            run.failed = profile.recording.rootExit?.code != 0
            run.outcome = run.failed ? .failed : .ok
            switch profile.recording.endReason {
            case "duration": run.outcome = .timedOut; run.failed = true
            case "interrupted", "terminated": run.outcome = .interrupted; run.failed = true
            default: break
            }
            let path = dir.appendingPathComponent("\(label).profile.json.gz")
            if let saveProfile {
                try? saveProfile(profile, path)
                run.profilePath = path.path
            }
            if let analyzer {
                do { analyses[c] = try analyzer(profile) } catch { notes.append("analysis of the \(c) recording failed: \(error)") }
            }
        } catch {
            run.failed = true
            run.outcome = .failed
            run.error = "recording failed: \(error)"
        }
        return run
    }

    /// Runs shell commands in order; returns a one-line failure or nil.
    private func runShell(_ commands: [String], plan: ExperimentPlan, label: String, dir: URL) -> String? {
        for (i, command) in commands.enumerated() {
            let spec = LaunchSpec(command: ["/bin/sh", "-c", command], environment: plan.workload.environment,
                                  workingDirectory: plan.workload.workingDirectory)
            var runner = launcher
            runner.killGroupOnExit = false
            let m = runner.run(spec, timeout: plan.timeout, stop: nil, outputDirectory: dir, label: "\(label)-\(i)")
            if m.outcome != .ok {
                let why = m.outcome == .timedOut ? "timed out" : (errorLine(m) ?? "failed")
                return "\(label) command \"\(command)\" \(why)"
            }
        }
        return nil
    }
}

func errorLine(_ m: RunMeasurement) -> String? {
    var parts: [String] = []
    if let exit = m.exit {
        if let sig = exit.signalName ?? exit.signal.map({ "signal \($0)" }) { parts.append("killed by \(sig)") }
        else if let code = exit.code { parts.append("exit status \(code)") }
    }
    if let last = m.stderrTail.split(separator: "\n").last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) {
        parts.append(String(last.prefix(300)))
    }
    return parts.isEmpty ? nil : parts.joined(separator: ": ")
}

func kernelRelease() -> String {
    (try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
}
