import Foundation
import ForkcastAnalysis
import ForkcastModel
import ForkcastPlugins
import ForkcastReport
import ForkcastSystem

/// Why a report's input could not be read, or what was given is not one report. One line.
public struct ReportInputError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(description: String) { self.description = description }
}

/// Assembling a report, the same way for `forkcast report` and for every `--report`
/// (`record`, `analyze`, `experiment`): the inputs are loaded (`Document.load`), a profile
/// that came without its analysis is analyzed with the plugin selection's analyzers and
/// rules (and the experiment, when there is one), failed plugins are listed in the
/// analysis's errors, and the bytes are written by a reporter through `AtomicFile`.
public struct ReportPipeline: Sendable {
    /// The plugins chosen on the command line (`--plugin`, `--no-plugin`).
    public let selection: PluginRegistry.Selection
    /// The registry after the selection, and the plugins that could not be used.
    public let selected: PluginRegistry.Selected

    /// Throws when the selection names a plugin that does not exist.
    public init(selection: PluginRegistry.Selection = PluginRegistry.Selection(), registry: PluginRegistry = .standard()) throws {
        self.selection = selection
        self.selected = try registry.selecting(selection)
    }

    /// The analysis of `profile` by the selected analyzers and rules; plugins that could
    /// not be loaded are listed in its `errors` (unless `listingProblems` is false: the
    /// experiment's per-run analyses leave that to the experiment's start line).
    public func analyze(_ profile: Profile, experiment: ExperimentResult? = nil, listingProblems: Bool = true,
                        timing: ((String, Double) -> Void)? = nil) -> Analysis {
        var analysis = Analyzer.analyze(profile, analyzers: selected.registry.analyzers, rules: selected.registry.recommenderRules,
                                        experiment: experiment, timing: timing)
        if listingProblems { analysis.errors += selected.problems.map(\.description) }
        return analysis
    }

    /// `input` with its profile analyzed when no analysis came with it.
    public func completed(_ input: ReportInput) -> ReportInput {
        var input = input
        if input.analysis == nil, let profile = input.profile {
            input.analysis = analyze(profile, experiment: input.experiment)
        }
        return input
    }

    /// The external reporter named with `--plugin`, if any: it writes the report instead
    /// of the chosen format.
    public var externalReporter: (any ReporterPlugin)? {
        selected.registry.reporters.first { selected.registry.isExternal($0.descriptor.name) && selection.named.contains($0.descriptor.name) }
    }

    /// Writes the HTML report of `input` (completed first) to `path` (default
    /// `reports/<program>-<time>.html`); returns the path written.
    public func writeHTML(_ input: ReportInput, to path: String? = nil) throws -> String {
        try ReportWriter.write(completed(input), reporter: HTMLReporter(), to: path)
    }

    // MARK: - Loading

    /// Loads several files into one input: at most one profile, analysis and experiment.
    /// An experiment given without a profile brings the profile it recorded for the
    /// configuration it recommends, when that file is still there; `note` hears why it
    /// was left out when it cannot be read.
    public static func load(paths: [String], note: (String) -> Void = { _ in }) throws -> ReportInput {
        var merged = ReportInput()
        var experimentPath: String?
        for path in paths {
            switch try document(at: path) {
            case .profile(let p):
                if merged.profile != nil { throw ReportInputError(description: "\(path): a second profile; give at most one") }
                merged.profile = p
            case .analysis(let a):
                if merged.analysis != nil { throw ReportInputError(description: "\(path): a second analysis; give at most one") }
                merged.analysis = a
            case .experiment(let e):
                if merged.experiment != nil { throw ReportInputError(description: "\(path): a second experiment; give at most one") }
                merged.experiment = e
                experimentPath = path
            }
        }
        if merged.profile == nil, let experiment = merged.experiment, let experimentPath,
           let profilePath = recordedProfile(of: experiment, besides: experimentPath) {
            do {
                if case .profile(let p) = try document(at: profilePath) { merged.profile = p }
            } catch {
                note("the experiment's recorded profile is left out of the report: \(error)")
            }
        }
        return merged
    }

    private static func document(at path: String) throws(ReportInputError) -> Document {
        do { return try Document.load(path: path) } catch { throw ReportInputError(description: error.description) }
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
}
