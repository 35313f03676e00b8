import ArgumentParser
import Foundation
import ForkcastAnalysis
import ForkcastModel
import ForkcastWorkflow
import ForkcastReport
import ForkcastSampling
import ForkcastSystem

/// `forkcast record` — sample every thread of a launched or attached program.
public struct Record: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Record what every thread of a program does: stacks and states, sampled with ptrace.",
        discussion: """
        Launch:  forkcast record [-o FILE] [--rate HZ] [--duration S] -- CMD ARGS...
        Attach:  forkcast record --pid PID [--duration S]

        Ctrl-C, --duration or the target's exit ends the recording; the target is always
        detached and the profile always written. The exit status is the target's.
        """
    )

    @Option(name: .shortAndLong, help: "Profile to write (.json, or .json.gz for gzip). Default: reports/<program>-<time>.profile.json.gz")
    public var output: String?

    @Option(help: "Samples per second per thread.")
    public var rate: Double = 100

    @Option(help: "Stop recording after this many seconds.")
    public var duration: Double?

    @Option(help: "Attach to this running process (and the processes below it) instead of launching.")
    public var pid: Int32?

    @Flag(name: .shortAndLong, help: "Do not print the summary at the end.")
    public var quiet = false

    @Flag(help: "Also analyze the profile and write the HTML report (reports/<program>-<time>.html).")
    public var report = false

    @Flag(name: .customLong("no-python"),
          help: "Record native stacks only: do not read CPython's frames, GIL and thread names from the target.")
    public var noPython = false

    @Flag(name: .customLong("no-sched-events"),
          help: "Check idle threads by reading /proc at every tick instead of following the kernel's scheduler events (to compare their cost; the events need root or CAP_PERFMON).")
    public var noSchedEvents = false

    @OptionGroup var pluginOptions: PluginOptions

    @Argument(parsing: .postTerminator, help: "The command to launch, after --.")
    public var command: [String] = []

    public init() {}

    public func validate() throws {
        if !(rate > 0 && rate <= 10_000) { throw ValidationError("--rate must be between 0 and 10000 Hz (got \(rate))") }
        if let duration, !(duration > 0) { throw ValidationError("--duration must be positive (got \(duration))") }
        let cmd = command.first == "--" ? Array(command.dropFirst()) : command
        if pid != nil && !cmd.isEmpty { throw ValidationError("give either --pid or a command to launch, not both") }
        if pid == nil && cmd.isEmpty { throw ValidationError("nothing to record: give a command after -- or --pid PID") }
        if let pid, pid <= 0 { throw ValidationError("--pid must be a positive process id (got \(pid))") }
    }

    public func run() throws {
        try Terminal.run { try execute() }
    }

    private func execute() throws {
        let cmd = command.first == "--" ? Array(command.dropFirst()) : command
        let target: RecordTarget
        let programName: String
        if let pid {
            guard ProcFS.exists(pid: pid) else { throw UserError("no process with pid \(pid)") }
            target = .attach(pid: pid)
            programName = (ProcFS.commandLine(pid: pid).first.map { ($0 as NSString).lastPathComponent }) ?? "pid\(pid)"
        } else {
            let (executable, arguments) = try ProgramResolver.resolveCommand(cmd)
            let env = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
            target = .launch(executable: executable, arguments: arguments, environment: env)
            programName = Formatting.programName(cmd)
        }
        let outputPath = output ?? Self.defaultOutput(programName: programName)
        try OutputFile.checkWritable(outputPath)

        var options = RecordOptions(rateHz: rate, duration: duration)
        options.pythonFrames = !noPython
        options.schedulerEvents = !noSchedEvents
        let quiet = self.quiet
        let rate = self.rate
        options.onStart = { pid in
            if !quiet { Terminal.note("recording pid \(pid) at \(Self.formatRate(rate)) Hz; Ctrl-C to stop") }
        }
        let outcome = try Recorder(options: options).record(target)

        // The profile first: nothing recorded may be lost, whatever happens next.
        do {
            try OutputFile.write(outcome.profile, to: outputPath)
        } catch {
            Terminal.error("could not write \(outputPath): \(error)")
            throw ExitCode(2)
        }
        if !quiet {
            Terminal.block(RecordSummary.render(outcome.profile, path: outputPath))
        }
        if report {
            do {
                Terminal.note("report: \(try pluginOptions.pipeline().writeHTML(ReportInput(profile: outcome.profile)))")
            } catch {
                Terminal.error("\(error)")  // the profile is written; the target's status still decides the exit
            }
        }
        try finishTarget(outcome)
    }

    /// Reports how the target ended and exits with its status.
    private func finishTarget(_ outcome: RecordingOutcome) throws {
        var exit = outcome.rootExit
        if exit == nil, let launched = outcome.launchedPid, outcome.endReason != .terminated {
            // Detached but still running (duration, Ctrl-C): wait for it, its output still
            // passing through. A second Ctrl-C stops waiting.
            if !quiet, outcome.endReason == .duration { Terminal.note("recording done; waiting for pid \(launched) to exit (Ctrl-C to stop waiting)") }
            switch Wait.forExit(launched) {
            case .code(let c)?: exit = ExitInfo(code: c)
            case .signal(let s, let core)?: exit = ExitInfo(signal: s, signalName: SignalNames.name(s), coreDumped: core)
            case nil: break
            }
        }
        guard let exit else {
            if outcome.launchedPid != nil, !quiet { Terminal.note("target left running, detached") }
            // Stopped by a signal: exit as a shell would report that signal.
            throw ExitCode(outcome.stopSignal.map { 128 + $0 } ?? 0)
        }
        if exit.signal != nil {
            Terminal.note("target \(exit.description)")
        } else if let code = exit.code, code != 0, !quiet {
            Terminal.note("target exited with status \(code)")
        }
        if exit.shellStatus != 0 { throw ExitCode(exit.shellStatus) }
    }

    static func defaultOutput(programName: String) -> String {
        "reports/\(programName)-\(Formatting.fileTimestamp(Date())).profile.json.gz"
    }

    static func formatRate(_ rate: Double) -> String {
        rate == rate.rounded() ? String(Int(rate)) : String(rate)
    }
}

/// Where `record` writes: the default `reports/` folder is created on demand; any other
/// path must already be writable (checked before the target starts).
enum OutputFile {
    static func checkWritable(_ path: String) throws {
        if path.hasPrefix("reports/") {
            try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        }
        do {
            try ProfileFiles.checkWritable(path: path)
        } catch let error as ProfileFileError {
            throw UserError(error.description)
        }
    }

    static func write(_ profile: Profile, to path: String) throws {
        try ProfileFiles.write(profile, to: path)
    }
}
