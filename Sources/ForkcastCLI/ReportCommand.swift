import ArgumentParser
import Foundation
import ForkcastAnalysis
import ForkcastModel
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

    @Option(name: .customLong("plugin"), help: "Also run this external plugin when analyzing a profile; an external reporter named here writes the report instead of --format (repeatable; see `forkcast plugins list`).")
    public var plugins: [String] = []

    @Option(name: .customLong("no-plugin"), help: "Skip this analyzer or rule when analyzing a profile (repeatable).")
    public var noPlugins: [String] = []

    public init() {}

    public func validate() throws {
        if inputs.isEmpty { throw ValidationError("give a profile, analysis or experiment file to report") }
        if (perState || threadRoots) && format != .folded {
            throw ValidationError("--per-state and --thread-roots apply to --format folded only")
        }
    }

    public func run() throws {
        do {
            var reportInput = try ReportInputLoader.load(paths: inputs)
            let selection = PluginRegistry.Selection(enabled: plugins, disabled: noPlugins)
        let selected: PluginRegistry.Selected
            do {
                selected = try Plugins.registry().selecting(selection)
            } catch {
                Terminal.error("\(error)")
                throw ExitCode(2)
            }
            // A profile given without its analysis is analyzed here, so the report has the
            // recommendation, locks, I/O and GIL sections.
            if reportInput.analysis == nil, let profile = reportInput.profile {
                reportInput.analysis = Analyzer.analyze(profile, analyzers: selected.registry.analyzers,
                                                        rules: selected.registry.recommenderRules, experiment: reportInput.experiment)
            }
            if !selected.problems.isEmpty { reportInput.analysis?.errors += selected.problems.map(\.description) }
            for e in reportInput.analysis?.errors ?? [] where selected.registry.external.keys.contains(where: e.contains) {
                Terminal.note(e)
            }
            // An external reporter named with --plugin writes the report.
            // If it fails, the --format report is written instead (unless -o named the file).
            if let external = selected.registry.reporters.first(where: { selected.registry.isExternal($0.descriptor.name) && selection.named.contains($0.descriptor.name) }) {
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
        } catch let error as ReportInputError {
            Terminal.error(error.description)
            throw ExitCode(2)
        } catch let error as ReportError {
            Terminal.error(error.description)
            throw ExitCode(2)
        } catch let error as ReportWriteError {
            Terminal.error(error.description)
            throw ExitCode(2)
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

/// Why a report's input could not be read. `description` is one line for the user.
public struct ReportInputError: Error, CustomStringConvertible {
    public let description: String
}

/// Reads what `forkcast report` was given: a profile, an analysis or an experiment result,
/// told apart by their `format` key (an experiment result is also recognised by its
/// `runs` and `summary`).
public enum ReportInputLoader {
    /// Loads several files into one input: at most one profile, analysis and experiment.
    /// An experiment given without a profile brings the profile it recorded for the
    /// configuration it recommends, when that file is still there.
    public static func load(paths: [String]) throws -> ReportInput {
        var merged = ReportInput()
        var experimentPath: String?
        for path in paths {
            let one = try load(path: path)
            if let p = one.profile {
                if merged.profile != nil { throw ReportInputError(description: "\(path): a second profile; give at most one") }
                merged.profile = p
            }
            if let a = one.analysis {
                if merged.analysis != nil { throw ReportInputError(description: "\(path): a second analysis; give at most one") }
                merged.analysis = a
            }
            if let e = one.experiment {
                if merged.experiment != nil { throw ReportInputError(description: "\(path): a second experiment; give at most one") }
                merged.experiment = e
                experimentPath = path
            }
        }
        if merged.profile == nil, let experiment = merged.experiment, let experimentPath,
           let profilePath = recordedProfile(of: experiment, besides: experimentPath) {
            do {
                merged.profile = try load(path: profilePath).profile
            } catch let error as ReportInputError {
                Terminal.note("the experiment's recorded profile is left out of the report: \(error.description)")
            }
        }
        return merged
    }

    /// The profile an experiment recorded for its recommended configuration (or, without a
    /// recommendation, its first recording), looked up as written and, when the experiment
    /// folder was moved, beside the experiment file.
    static func recordedProfile(of experiment: ExperimentResult, besides experimentPath: String) -> String? {
        let recorded = experiment.runs.filter { $0.profilePath != nil }
        let chosen = experiment.recommendation.flatMap { rec in
            recorded.first { $0.strategy == rec.strategy.rawValue && $0.workers == rec.workers }
        } ?? recorded.first
        guard let path = chosen?.profilePath else { return nil }
        let beside = ((experimentPath as NSString).deletingLastPathComponent as NSString).appendingPathComponent((path as NSString).lastPathComponent)
        return [path, beside].first { FileManager.default.fileExists(atPath: $0) }
    }

    public static func load(path: String) throws -> ReportInput {
        let document: Document
        do { document = try Document.load(path: path) } catch { throw ReportInputError(description: error.description) }
        switch document {
        case .profile(let p): return ReportInput(profile: p)
        case .analysis(let a): return ReportInput(analysis: a)
        case .experiment(let e): return ReportInput(experiment: e)
        }
    }
}
