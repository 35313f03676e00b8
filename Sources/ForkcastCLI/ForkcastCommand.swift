import ArgumentParser
import ForkcastModel

/// `forkcast` — the root command.
public struct ForkcastCommand: ParsableCommand {
    public static let version = "0.1.0"
    public static let configuration = CommandConfiguration(
        commandName: "forkcast",
        abstract: "A concurrency profiler: should this work run on threads, processes, both, or serially?",
        version: version,
        subcommands: [Record.self, Analyze.self, Experiment.self, Report.self]
    )
    public init() {}
}
