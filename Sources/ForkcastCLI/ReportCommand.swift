import ArgumentParser
import Foundation
import ForkcastAnalysis
import ForkcastModel
import ForkcastReport

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
            // A profile given without its analysis is analyzed here, so the report has the
            // recommendation, locks, I/O and GIL sections.
            if reportInput.analysis == nil, let profile = reportInput.profile {
                reportInput.analysis = Analyzer.analyze(profile, experiment: reportInput.experiment)
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
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ReportInputError(description: "\(path): no such file")
        }
        if isDir.boolValue { throw ReportInputError(description: "\(path): is a directory, not a profile or experiment file") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReportInputError(description: "\(path): cannot read the file (permission denied?)")
        }
        return try load(data: data, name: path)
    }

    public static func load(data: Data, name: String) throws -> ReportInput {
        if data.isEmpty { throw ReportInputError(description: "\(name): the file is empty") }
        var json = data
        if Gzip.isGzip(data) {
            do { json = try Gzip.decompress(data) } catch {
                throw ReportInputError(description: "\(name): corrupt gzip data")
            }
        }
        // A profile is decoded directly: parsing a million-sample file twice (once to find
        // its kind) would double the time. Its "format" key sits near the start.
        if json.prefix(65_536).range(of: Data("\"\(Profile.formatName)\"".utf8)) != nil {
            do {
                return ReportInput(profile: try Profile.decode(json))
            } catch let error as ProfileError {
                throw ReportInputError(description: "\(name): \(error.description)")
            }
        }
        let top: [String: Any]
        do {
            guard let object = try JSONSerialization.jsonObject(with: json) as? [String: Any] else {
                throw ReportInputError(description: "\(name): not a Forkcast profile or experiment (the JSON is not an object)")
            }
            top = object
        } catch let error as ReportInputError {
            throw error
        } catch {
            let first = json.first { !($0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09) }
            if first != UInt8(ascii: "{") && first != UInt8(ascii: "[") {
                throw ReportInputError(description: "\(name): not a Forkcast profile or experiment (not JSON)")
            }
            throw ReportInputError(description: "\(name): not a Forkcast profile or experiment (the JSON is damaged or truncated)")
        }
        var format = top["format"] as? String
        if format == nil && top["runs"] != nil && top["summary"] != nil { format = "forkcast-experiment" }
        switch format {
        case Profile.formatName:
            do {
                return ReportInput(profile: try Profile.decode(json))
            } catch let error as ProfileError {
                throw ReportInputError(description: "\(name): \(error.description)")
            }
        case "forkcast-analysis":
            do {
                let decoder = JSONDecoder()
                decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
                return ReportInput(analysis: try decoder.decode(Analysis.self, from: json))
            } catch {
                throw ReportInputError(description: "\(name): corrupt analysis: \(describe(error))")
            }
        case "forkcast-experiment":
            do {
                let decoder = JSONDecoder()
                decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
                let experiment = try decoder.decode(ExperimentResult.self, from: json)
                return ReportInput(experiment: experiment)
            } catch {
                throw ReportInputError(description: "\(name): corrupt experiment result: \(describe(error))")
            }
        case let other?:
            throw ReportInputError(description: "\(name): is a \"\(other)\" file, not a Forkcast profile or experiment")
        default:
            throw ReportInputError(description: "\(name): not a Forkcast profile or experiment (no \"format\" key)")
        }
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "missing \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c), DecodingError.dataCorrupted(let c):
            "wrong or missing value at " + c.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        default: "\(error)"
        }
    }
}
