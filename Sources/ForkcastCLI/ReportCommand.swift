import ArgumentParser
import Foundation
import ForkcastAnalysis
import ForkcastModel
import ForkcastWorkflow
import ForkcastPlugins
import ForkcastReport
import ForkcastSystem

/// `forkcast report` — write a recorded profile, an analysis or an experiment result as
/// an HTML report or in a format other tools open.
public struct Report: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Write a profile or experiment as an HTML report, JSON, speedscope, folded stacks, a Chrome trace or pprof.",
        discussion: """
        forkcast report PROFILE_OR_EXPERIMENT [ANALYSIS] [EXPERIMENT] [--format FORMAT] [-o FILE]

        The default output is reports/<program>-<timestamp>.<ext>; the path written is printed.

        Formats: html (self-contained, opens offline), json (for CI), speedscope, folded (FlameGraph/inferno; --per-state writes <base>.<state>.folded per state), chrome (Perfetto, chrome://tracing), pprof (go tool pprof). Every format but html and json needs a recorded profile.
        """
    )

    /// The output formats, named as on the command line.
    public enum Format: String, ExpressibleByArgument, CaseIterable, Sendable {
        case html, json, speedscope, folded, chrome, pprof
    }

    @Argument(help: "A profile (.profile.json[.gz]), an analysis (forkcast analyze --json) or an experiment result (.json); give several (at most one of each kind) to report them together.")
    public var inputs: [String]

    @Option(name: .shortAndLong, help: "Output format: html, json, speedscope, folded, chrome or pprof.")
    public var format: Format = .html

    @Option(name: .shortAndLong, help: "File to write. Default: reports/<program>-<timestamp>.<ext>")
    public var output: String?

    @Flag(help: "folded only: write one file per thread state, named <base>.<state>.folded.")
    public var perState = false

    @Flag(help: "folded only: start every stack with its process and thread.")
    public var threadRoots = false

    @OptionGroup var pluginOptions: PluginOptions

    public init() {}

    public func validate() throws {
        if inputs.isEmpty { throw ValidationError("give a profile, analysis or experiment file to report") }
        if (perState || threadRoots) && format != .folded {
            throw ValidationError("--per-state and --thread-roots apply to --format folded only")
        }
    }

    public func run() throws {
        try Terminal.run {
            let pipeline = try pluginOptions.pipeline()
            // A profile given without its analysis is analyzed here, so the report has the
            // recommendation, locks, I/O and GIL sections.
            let reportInput = pipeline.completed(try ReportPipeline.load(paths: inputs, note: { Terminal.note($0) }))
            for e in reportInput.analysis?.errors ?? [] where pipeline.selected.registry.external.keys.contains(where: e.contains) {
                Terminal.note(e)
            }
            // An external reporter named with --plugin writes the report.
            // If it fails, the --format report is written instead (unless -o named the file).
            if let external = pipeline.externalReporter {
                do {
                    print(try ReportWriter.write(reportInput, reporter: external, to: output))
                    return
                } catch let error as PluginError {
                    if output != nil {
                        Terminal.error("reporter \(external.descriptor.name): \(error)")
                        throw ExitCode(2)
                    }
                    Terminal.note("reporter \(external.descriptor.name): \(error); writing the \(format.rawValue) report instead")
                }
            }
            if format == .folded && perState {
                try writePerState(reportInput)
                return
            }
            let reporter: any ReporterPlugin = switch format {
            case .folded: FoldedReporter(threadRoots: threadRoots)
            default: BuiltinReporters.named(format.rawValue)!
            }
            let path = try ReportWriter.write(reportInput, reporter: reporter, to: output)
            print(path)
        }
    }

    private func writePerState(_ input: ReportInput) throws {
        let reporter = FoldedReporter(threadRoots: threadRoots)
        let parts = try reporter.renderPerState(input)
        var basePath = output ?? ReportWriter.defaultPath(for: input, fileExtension: reporter.fileExtension)
        if basePath.hasSuffix(".folded") { basePath.removeLast(".folded".count) }
        if parts.isEmpty { throw ReportError.needsProfile(format: "folded") }
        for part in parts {
            let path = "\(basePath).\(part.state.rawValue).folded"
            try ReportWriter.writeBytes(part.data, to: path, createDirectory: output == nil)
            print(path)
        }
    }
}
