import ArgumentParser
import ForkcastModel
import ForkcastSystem

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

/// The `forkcast` program's entry point.
public enum ForkcastProgram {
    public static func main() {
        // Before any other thread exists, so that every thread blocks it: each SIGCHLD then
        // reaches the recorder, which waits for ptrace events only when told of them
        // (`TracerSignals.blockChildSignalInEveryThread`).
        TracerSignals.blockChildSignalInEveryThread()
        ForkcastCommand.main()
    }
}
