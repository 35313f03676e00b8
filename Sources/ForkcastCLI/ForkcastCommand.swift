import ArgumentParser
import ForkcastModel

/// `forkcast` — the root command.
public struct ForkcastCommand: ParsableCommand {
    public static let version = ForkcastVersion.current
    public static let configuration = CommandConfiguration(
        commandName: "forkcast",
        abstract: "A concurrency profiler: should this work run on threads, processes, both, or serially?",
        version: version,
        subcommands: [Record.self, Analyze.self, Experiment.self, Report.self, Plugins.self]
    )
    public init() {}
}
