import Foundation
import ForkcastModel

/// The report as one JSON document for CI: a summary of the recording (per-state sample
/// counts overall and per thread), the analysis and the experiment result when present.
/// `format: "forkcast-report"`, `format_version: 1`. Documented in docs/formats/json.md.
public struct JSONReporter: ReporterPlugin {
    public let descriptor = PluginDescriptor(
        name: "json", kind: .reporter, version: "1",
        summary: "the analysis (and experiment) as one JSON document for CI")
    public let fileExtension = "json"

    public init() {}

    public static let formatName = "forkcast-report"
    public static let formatVersion = 1

    struct Document: Encodable {
        var format = JSONReporter.formatName
        var formatVersion = JSONReporter.formatVersion
        var recording: Recording?
        var analysis: Analysis?
        var experiment: ExperimentResult?
        enum CodingKeys: String, CodingKey {
            case format, formatVersion = "format_version", recording, analysis, experiment
        }
    }

    struct Recording: Encodable {
        var command: [String]
        var startedAt: String
        var durationSeconds: Double
        var rateHz: Double
        var cores: Int
        var endReason: String
        var samples: Int
        var processes: Int
        var threads: Int
        /// Samples per state over all threads (state raw value → count).
        var states: [String: Int]
        var perThread: [ThreadCounts]
        var stats: RecordingStats
        enum CodingKeys: String, CodingKey {
            case command, startedAt = "started_at", durationSeconds = "duration_s", rateHz = "rate_hz", cores,
                 endReason = "end_reason", samples, processes, threads, states, perThread = "per_thread", stats
        }
    }

    struct ThreadCounts: Encodable {
        var pid: Int32
        var tid: Int32
        var name: String
        var samples: Int
        var states: [String: Int]
    }

    public func render(_ input: ReportInput) throws -> Data {
        guard input.profile != nil || input.analysis != nil || input.experiment != nil else { throw ReportError.emptyInput }
        var doc = Document(analysis: input.analysis, experiment: input.experiment)
        if let p = input.profile {
            let index = ProfileIndex(p)
            var total = [Int](repeating: 0, count: 8)
            var perThread = [[Int]](repeating: [Int](repeating: 0, count: 8), count: p.threads.count)
            for s in p.samples {
                total[Int(s.state.code)] += 1
                if let t = index.threadIndex[s.tid] { perThread[t][Int(s.state.code)] += 1 }
            }
            func named(_ counts: [Int]) -> [String: Int] {
                var d: [String: Int] = [:]
                for (code, c) in counts.enumerated() where c > 0 { d[ThreadState.byCode[code].rawValue] = c }
                return d
            }
            doc.recording = Recording(
                command: p.recording.command, startedAt: p.recording.startedAt,
                durationSeconds: Double(p.recording.durationNs) / 1e9, rateHz: p.recording.rateHz, cores: p.recording.cores,
                endReason: p.recording.endReason, samples: p.samples.count, processes: p.processes.count,
                threads: p.threads.count, states: named(total),
                perThread: p.threads.enumerated().map { i, t in
                    ThreadCounts(pid: t.pid, tid: t.tid, name: t.name, samples: perThread[i].reduce(0, +), states: named(perThread[i]))
                },
                stats: p.stats)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(doc)
    }
}
