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
    /// One line when the experiment changes course: rounds added (and why), worker counts
    /// extended, or the program's concurrency found not to vary.
    public var log: (@Sendable (String) -> Void)?
    /// Measures a run in place of launching it: synthetic timing streams in tests of the
    /// sequential design. Nil (always, outside tests) launches the run with `launcher`.
    public var measure: (@Sendable (LaunchSpec, Configuration, ScheduledRun) -> RunMeasurement)?
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
        var plan = plan
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

        try probeInterpreters(&plan, dir: runsDir, notes: &notes)
        let session = Session(self, plan: plan, runsDir: runsDir, notes: notes)
        if let note = Self.hybridSkippedNote(plan) { session.notes.append(note) }
        try session.runRounds()
        if !session.interrupted && !session.notVaried { _ = try session.execute(plan.recordedRuns(session.configs)) }
        teardownDone = true
        if let failure = runShell(plan.teardown, plan: plan, label: "teardown", dir: runsDir) { session.notes.append(failure) }

        // Runs measured before the baseline's output was known are compared now.
        if let base = session.baselineOutput, let check = plan.outputCheck { Self.compareLateOutputs(&session.runs, with: base, check: check, dir: runsDir) }
        if plan.outputCheck != nil && session.baselineOutput == nil {
            session.notes.append("output check skipped: \(session.baselineConfig) has no successful run to compare with")
        } else if plan.outputCheck != nil && session.baselineConfig.strategy != .serial {
            session.notes.append("output compared with \(session.baselineConfig)'s (serial was not run)")
        }
        if session.interrupted { session.notes.append("interrupted: \(session.runs.count) of \(session.planned) runs completed") }

        let fullSetup = Self.setup(plan, workers: session.workerCounts, started: session.started)
        var result = ExperimentSummarizer.assemble(setup: fullSetup, configurations: session.configs, runs: session.runs, analyses: session.analyses,
                                                   seed: plan.seed, interrupted: session.interrupted, notes: session.notes,
                                                   equivalence: plan.equivalence, limit: session.limit, notVaried: session.notVaried,
                                                   hybrid: session.isSwap ? { HybridSplit.split(workers: $0, cores: plan.cores, threadsOverride: plan.hybridThreads) } : nil)
        result.rounds = session.roundNext
        result.roundsAdded = session.roundsAdded
        result.roundLog = session.roundLog
        return result
    }

    /// The interpreters strategy needs CPython 3.14+: asks each interpreter once, and
    /// leaves it out (with a note) where InterpreterPoolExecutor is missing.
    func probeInterpreters(_ plan: inout ExperimentPlan, dir runsDir: URL, notes: inout [String]) throws {
        guard plan.strategies.contains(.interpreters) && plan.strategyPlugin is PythonExecutorSwapStrategy else { return }
        for py in plan.pythons.isEmpty ? [nil] : plan.pythons.map({ Optional($0) }) {
            var command = plan.workload.command
            if let py, let prefix = plan.interpreterCommands[py] { command = PythonInterpreters.substitute(command, interpreter: prefix) }
            let interpreter = PythonInterpreters.interpreterWords(command)
            let probe = LaunchSpec(command: interpreter + ["-c", "import concurrent.futures as f, sys; sys.exit(0 if hasattr(f, 'InterpreterPoolExecutor') else 3)"],
                                   environment: plan.workload.environment, workingDirectory: plan.workload.workingDirectory)
            let m = launcher.run(probe, timeout: 60, stop: stop, outputDirectory: runsDir, label: "probe-interpreters")
            if m.outcome != .ok {
                plan.interpretersUnavailable.insert(py ?? "")
                notes.append("interpreters not run\(py.map { " under \($0)" } ?? ""): it needs CPython 3.14+ (concurrent.futures.InterpreterPoolExecutor)")
            }
        }
        if plan.configurations.isEmpty { throw ExperimentError("no configuration to run: " + notes.joined(separator: "; ")) }
    }

    /// Which hybrid counts were left out, and why (nil: none).
    static func hybridSkippedNote(_ plan: ExperimentPlan) -> String? {
        guard !plan.hybridSkipped.isEmpty else { return nil }
        let split = plan.hybridSkipped.map { n -> String in
            let s = HybridSplit.split(workers: n, cores: plan.cores, threadsOverride: plan.hybridThreads)
            return "hybrid×\(n) (\(s.processes) process\(s.processes == 1 ? "" : "es") × \(s.threads) thread\(s.threads == 1 ? "" : "s"))"
        }
        return "\(split.joined(separator: ", ")) not run: it would repeat processes or threads at the same concurrency on \(plan.cores) cores"
    }

    /// The run record of a measured (or warm-up) run, its error said in one line.
    static func measuredRun(_ m: RunMeasurement, spec: LaunchSpec, _ c: Configuration, _ item: ScheduledRun, _ index: Int,
                            plan: ExperimentPlan) -> ExperimentRun {
        var run = ExperimentRun(strategy: c.strategy.rawValue, workers: c.workers, repetition: item.repetition,
                                wallSeconds: m.wallSeconds, cpuSeconds: m.cpuSeconds, peakRSSBytes: m.peakRSSBytes,
                                exit: m.exit, failed: m.outcome != .ok, sequence: index, warmup: item.kind == .warmup,
                                userSeconds: m.userSeconds, systemSeconds: m.systemSeconds, peakProcesses: m.peakProcesses,
                                voluntaryContextSwitches: m.voluntaryContextSwitches,
                                involuntaryContextSwitches: m.involuntaryContextSwitches, outcome: m.outcome, command: spec.command,
                                round: item.round, python: c.python)
        run.machineBusySeconds = m.machineBusySeconds
        switch m.outcome {
        case .notStarted: run.error = m.startError
        case .timedOut: run.error = "timed out after \(Formatting.seconds(plan.timeout ?? 0)); the process group was killed"
        case .failed: run.error = errorLine(m)
        default: break
        }
        return run
    }

    /// Compares with the baseline's output the runs measured before it was known (their
    /// stdout is in their files).
    static func compareLateOutputs(_ runs: inout [ExperimentRun], with base: String, check: OutputCheck, dir runsDir: URL) {
        for i in runs.indices where runs[i].outcome == .ok && runs[i].outputMatchesBaseline == nil && !runs[i].command.isEmpty && runs[i].profilePath == nil {
            let label = Self.label(runs[i])
            if let data = try? Data(contentsOf: runsDir.appendingPathComponent("\(label).stdout")) {
                runs[i].outputMatchesBaseline = check.normalize(data) == base
            }
        }
    }

    /// What was asked and where it ran, for the result.
    static func setup(_ plan: ExperimentPlan, workers workerCounts: [Int], started: Date) -> ExperimentSetup {
        let setup = ExperimentSetup(
            command: plan.workload.command, workloadFile: plan.workloadFile, strategyPlugin: plan.strategyPlugin.descriptor.name,
            strategies: plan.strategies.map(\.rawValue), workers: workerCounts, repeatCount: plan.repeatCount, warmup: plan.warmup,
            timeoutSeconds: plan.timeout, checkOutput: plan.outputCheck != nil, record: plan.record, seed: plan.seed,
            cores: plan.cores, hostname: Foundation.ProcessInfo.processInfo.hostName,
            kernel: kernelRelease(), startedAt: ISO8601DateFormatter().string(from: started))
        var fullSetup = setup
        fullSetup.maxRepeat = plan.maxRepeat
        fullSetup.budgetSeconds = plan.budgetSeconds
        fullSetup.equivalence = plan.equivalence
        fullSetup.hybridThreads = plan.hybridThreads
        fullSetup.pythons = plan.pythons.isEmpty ? nil : plan.pythons
        return fullSetup
    }

    /// One experiment as it runs: the runs so far, each configuration's count, the
    /// baseline's output, the rounds added and why, and whether to stop.
    private final class Session {
        let runner: ExperimentRunner
        let plan: ExperimentPlan
        let runsDir: URL
        let baselineConfig: Configuration
        let started = Date()
        let isSwap: Bool
        var configs: [Configuration]
        var workerCounts: [Int]
        var runs: [ExperimentRun] = []
        var analyses: [Configuration: Analysis] = [:]
        var notes: [String]
        var baselineOutput: String?
        var interrupted = false
        var notVaried = false
        var counts: [Configuration: Int] = [:]
        var index = 0
        var planned: Int
        var roundNext: Int
        var roundsAdded = 0
        var roundLog: [String] = []
        var limit: String?

        init(_ runner: ExperimentRunner, plan: ExperimentPlan, runsDir: URL, notes: [String]) {
            self.runner = runner
            self.plan = plan
            self.runsDir = runsDir
            self.notes = notes
            configs = plan.configurations
            baselineConfig = configs.first { $0.strategy == .serial } ?? configs.first!
            isSwap = plan.strategyPlugin is PythonExecutorSwapStrategy
            workerCounts = plan.workers
            planned = plan.firstBatch.count + plan.recordedRuns(configs).count
            roundNext = plan.repeatCount
        }

    /// Runs `items` in order; false when the experiment must stop (Ctrl-C, or a command that cannot start).
    func execute(_ items: [ScheduledRun]) throws -> Bool {
        for var item in items {
            if runner.stop.isStopped { interrupted = true; return false }
            let c = item.configuration
            if item.kind == .measured { item.repetition = counts[c, default: 0]; counts[c, default: 0] += 1 }
            var workload = plan.workload
            if let py = c.python, let prefix = plan.interpreterCommands[py] {
                workload.command = PythonInterpreters.substitute(workload.command, interpreter: prefix)
            }
            let specs = try plan.strategyPlugin.launchSpecs(for: workload, strategy: c.strategy.rawValue, workers: c.workers)
            guard var spec = specs.first else { throw ExperimentError("\(plan.strategyPlugin.descriptor.name) gave no command for \(c)") }
            let label = ExperimentRunner.label(index, c, item.kind, item.repetition)
            let swapReport = runsDir.appendingPathComponent("\(label).swaps")
            spec.environment["FORKCAST_SWAP_REPORT"] = swapReport.path

            var run: ExperimentRun
            if item.kind == .recorded {
                run = runner.recordRun(spec, c, item, index, plan: plan, dir: runsDir, label: label, analyses: &analyses, notes: &notes)
            } else {
                let m = runner.measure?(spec, c, item) ?? runner.launcher.run(spec, timeout: plan.timeout, stop: runner.stop, outputDirectory: runsDir, label: label)
                run = ExperimentRunner.measuredRun(m, spec: spec, c, item, index, plan: plan)
                if let check = plan.outputCheck, m.outcome == .ok {
                    let text = check.normalize(m.stdout)
                    run.stdoutDigest = OutputCheck.digest(text)
                    if c == baselineConfig && baselineOutput == nil { baselineOutput = text }
                    if let base = baselineOutput { run.outputMatchesBaseline = (text == base) }
                }
            }
            run.python = c.python
            if isSwap { run.swaps = PythonSwapHook.readReport(swapReport) ?? [] }
            runs.append(run)
            if run.outcome == .interrupted { interrupted = true }
            index += 1
            let elapsed = Date().timeIntervalSince(started)
            planned = max(planned, index)
            let eta = elapsed / Double(index) * Double(planned - index)
            runner.progress?(ExperimentProgress(done: index, total: planned, run: run, etaSeconds: eta, kind: item.kind))
            if index == 1 && run.outcome == .notStarted {
                // The very first run could not start: every other run would fail the same way.
                throw ExperimentError(run.error ?? "the command cannot start")
            }
            // Nothing swapped in the first completed run: every strategy would run the same code.
            if isSwap && !notVaried && runs.filter({ $0.outcome == .ok && !$0.recorded }).count == 1 && run.outcome == .ok && (run.swaps ?? []).isEmpty {
                notVaried = true
                runner.log?(ExperimentSummarizer.notVariedSwapReason)
                return false
            }
            if interrupted { return false }
        }
        return true
    }


        /// The first batch, then rounds of just the contenders until decided: more worker
        /// counts while the work waits, more rounds while undecided, within --max-repeat and
        /// --budget.
        func runRounds() throws {
        if try execute(plan.firstBatch) {
            while true {
                let summary = ExperimentSummarizer.summarize(configurations: configs, runs: runs, seed: plan.seed)
                guard let decision = ExperimentDecider.decide(summary: summary, runs: runs, equivalence: plan.equivalence, seed: plan.seed) else { break }
                let perRound = ExperimentRunner.meanWall(runs)
                func budgetRounds(_ wanted: Int, _ configsPerRound: Int) -> Int {
                    guard let budget = plan.budgetSeconds else { return wanted }
                    // Runs are sequential, so the time spent is at least the sum of their walls.
                    let spent = max(Date().timeIntervalSince(started), runs.reduce(0) { $0 + $1.wallSeconds })
                    let left = budget - spent
                    let cost = max(perRound * Double(configsPerRound), 1e-3)
                    return min(wanted, max(0, Int(left / cost)))
                }
                if plan.extendWorkers, let ext = ExperimentRunner.extensionStep(plan: plan, summary: summary, decision: decision, runs: runs,
                                                                    counts: workerCounts, configs: configs) {
                    let members = configs.filter { decision.contenders.contains($0.ref) } + ext.new
                    let n = budgetRounds(plan.repeatCount, members.count)
                    if n >= min(3, plan.repeatCount) {
                        configs += ext.new
                        workerCounts.append(ext.workers)
                        let line = "\(ext.why): \(n) rounds of \(members.map(\.description).joined(separator: ", "))"
                        roundLog.append(line)
                        runner.log?(line)
                        planned += n * members.count + plan.recordedRuns(ext.new).count
                        roundsAdded += n
                        let ok = try execute(ExperimentPlan.rounds(members, from: roundNext, count: n, firstRepetition: 0))
                        roundNext += n
                        if !ok { break }
                        continue
                    }
                }
                if decision.decided { break }
                let leaderRounds = counts[configs.first { $0.ref == decision.leader } ?? baselineConfig, default: 0]
                let remaining = plan.maxRepeat - leaderRounds
                if remaining <= 0 { limit = "after \(leaderRounds) rounds (--max-repeat \(plan.maxRepeat))"; break }
                let members = configs.filter { decision.contenders.contains($0.ref) }
                let wanted = min(remaining, max(2, min(decision.roundsLikelyNeeded ?? remaining, plan.repeatCount)))
                let k = budgetRounds(wanted, members.count)
                if k < 1 { limit = "at the time budget (--budget \(Formatting.seconds(plan.budgetSeconds ?? 0)))"; break }
                let other = decision.closestOpen?.configuration.name ?? "the others"
                let line = "\(decision.leader.name) vs \(other) undecided: \(k) more round\(k == 1 ? "" : "s")"
                roundLog.append(line)
                runner.log?(line)
                planned += k * members.count
                roundsAdded += k
                let ok = try execute(ExperimentPlan.rounds(members, from: roundNext, count: k, firstRepetition: 0))
                roundNext += k
                if !ok { break }
            }
        }
        }
    }

    /// The mean wall time of the measured runs so far (the cost of one more run).
    static func meanWall(_ runs: [ExperimentRun]) -> Double {
        let xs = runs.filter { !$0.recorded }.map(\.wallSeconds)
        return xs.isEmpty ? 0 : xs.reduce(0, +) / Double(xs.count)
    }

    /// For work that waits (the leader keeps well under the cores busy) and whose best
    /// speedup came at the largest worker count and still improved on the smaller counts,
    /// the next worker count (doubled) for the leader's strategy and the strategies still
    /// in contention at that count; nil otherwise.
    static func extensionStep(plan: ExperimentPlan, summary: [ConfigurationSummary], decision: Decision, runs: [ExperimentRun],
                              counts: [Int], configs: [Configuration]) -> (workers: Int, new: [Configuration], why: String)? {
        guard let top = counts.max(), top * 2 <= 256, decision.leader.strategy != "serial", decision.leader.workers == top,
              let leader = summary.first(where: { ExperimentDecider.ref($0) == decision.leader }), leader.medianWallSeconds > 0
        else { return nil }
        let busy = leader.cpuSeconds / leader.medianWallSeconds
        guard busy < 0.5 * Double(plan.cores) else { return nil }
        // …and waits, rather than queues for CPUs other programs hold: on a machine kept
        // full by others, CPU-bound work keeps few cores busy too, and each doubling is
        // faster only because more threads take a larger share of the machine from them
        // (measured: 1→2→4→8 threads beside three burners on 2 cores, 6.2→3.5→2.5→2.2 s for
        // the same CPU work). That is not waiting; the runs say so when the machine was busy
        // 90% or more while the leader ran.
        if let machine = machineBusyCores(runs, decision.leader), machine >= 0.9 * Double(plan.cores) { return nil }
        // Still improving: the leader beats the best smaller count by more than the equivalence,
        // separated (a starved CPU-bound program's noise must not pass for a gain).
        // Against the same strategy (or serial) at fewer workers: what doubling gained. (Against
        // any strategy, threads×16 beating hybrid×8 by noise extended an 8-task program to ×32.)
        let smaller = summary.filter { $0.workers < top && $0.excludedReason == nil && $0.successfulRuns > 0 && $0.python == leader.python
            && ($0.strategy == leader.strategy || $0.strategy == "serial") }
        guard let previous = smaller.min(by: { $0.medianWallSeconds < $1.medianWallSeconds }),
              let ratio = Statistics.pairedInterval(runs, decision.leader, ExperimentDecider.ref(previous), seed: plan.seed),
              ratio.pairs >= ExperimentDecider.minimumPairs, ratio.high < 1, ratio.median < 1 - plan.equivalence else { return nil }
        let inPlay = Set([decision.leader] + decision.comparisons.filter { $0.standing == .open || $0.standing == .equivalent }.map(\.configuration))
        let next = top * 2
        var new: [Configuration] = []
        // Hybrid comes along even when it lost at this count: many waits that each end in a
        // little Python work pile up on one GIL, which processes at the same concurrency
        // share out (like with like: threads×N is compared with hybrid×N at every count).
        for c in configs where c.workers == top && (inPlay.contains(c.ref) || c.strategy == .hybrid) {
            let n = Configuration(c.strategy, next, python: c.python)
            if c.strategy == .hybrid && !plan.hybridIsMixed(next) { continue }
            if !configs.contains(n) && !new.contains(n) { new.append(n) }
        }
        guard !new.isEmpty else { return nil }
        let why = String(format: "%@ keeps %.1f of %d CPUs busy and ran %.0f%% faster than %@: the work waits, so trying ×%d",
                         decision.leader.name, busy, plan.cores, (1 / ratio.median - 1) * 100, ExperimentDecider.ref(previous).name, next)
        return (next, new, why)
    }

    /// The whole machine's busy CPUs during the measured runs of `ref` (busy CPU time over
    /// wall time), or nil when the runs did not measure it.
    static func machineBusyCores(_ runs: [ExperimentRun], _ ref: ConfigurationRef) -> Double? {
        let mine = runs.filter { !$0.warmup && !$0.recorded && !$0.failed && $0.strategy == ref.strategy && $0.workers == ref.workers
            && $0.python == ref.python && $0.machineBusySeconds != nil }
        let wall = mine.reduce(0.0) { $0 + $1.wallSeconds }
        guard !mine.isEmpty, wall > 0 else { return nil }
        return mine.reduce(0.0) { $0 + $1.machineBusySeconds! } / wall
    }

    static func label(_ index: Int, _ c: Configuration, _ kind: ScheduledRun.Kind, _ repetition: Int) -> String {
        let py = c.python.map { "-" + $0.replacingOccurrences(of: "/", with: "_") } ?? ""
        return String(format: "%04d-%@-%d%@-%@%d", index, c.strategy.rawValue, c.workers, py, kind.rawValue, repetition)
    }

    static func label(_ run: ExperimentRun) -> String {
        let kind: ScheduledRun.Kind = run.recorded ? .recorded : run.warmup ? .warmup : .measured
        return label(run.sequence, Configuration(ConcurrencyStrategy(rawValue: run.strategy) ?? .serial, run.workers, python: run.python), kind, run.repetition)
    }

    private func recordRun(_ spec: LaunchSpec, _ c: Configuration, _ item: ScheduledRun, _ index: Int, plan: ExperimentPlan, dir: URL,
                           label: String, analyses: inout [Configuration: Analysis], notes: inout [String]) -> ExperimentRun {
        var run = ExperimentRun(strategy: c.strategy.rawValue, workers: c.workers, repetition: 0, wallSeconds: 0, cpuSeconds: 0,
                                peakRSSBytes: 0, exit: nil, failed: false, sequence: index, warmup: true, command: spec.command,
                                recorded: true, python: c.python)
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
