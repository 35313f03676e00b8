import Foundation
import ForkcastModel

/// The Trace Event Format's object form (for Perfetto and chrome://tracing): one
/// complete event (`"ph": "X"`) per run of consecutive samples of a thread in the same
/// state, named after the state, plus `process_name`/`thread_name` metadata events.
/// Timestamps and durations are microseconds since the recording started.
/// Documented in docs/formats/chrome-trace.md.
public struct ChromeTraceReporter: ReporterPlugin {
    public let descriptor = PluginDescriptor(
        name: "chrome", kind: .reporter, version: "1",
        summary: "Chrome trace event JSON: per-thread state timeline for Perfetto and chrome://tracing")
    public let fileExtension = "trace.json"

    public init() {}

    /// One span of one thread in one state.
    struct Span {
        var thread: Int
        var state: ThreadState
        var startNs: UInt64
        var endNs: UInt64
        var samples: Int
        var firstSample: Int
    }

    /// Merges each thread's consecutive samples of one state into spans. A span ends
    /// where the next sample of the thread starts, or one period after its last sample
    /// when the thread was not sampled again within 1.5 periods.
    static func spans(_ profile: Profile, index: ProfileIndex) -> [Span] {
        var open = [Span?](repeating: nil, count: profile.threads.count)
        var spans: [Span] = []
        let period = index.periodNs
        let gap = period + period / 2
        for (i, s) in profile.samples.enumerated() {
            guard let t = index.threadIndex[s.tid] else { continue }
            if var cur = open[t] {
                let lastSampleAt = cur.endNs - period
                let contiguous = s.timeNs >= lastSampleAt && s.timeNs - lastSampleAt <= gap
                if contiguous && cur.state == s.state {
                    cur.endNs = s.timeNs + period
                    cur.samples += 1
                    open[t] = cur
                    continue
                }
                if contiguous && s.timeNs > lastSampleAt { cur.endNs = s.timeNs }
                spans.append(cur)
            }
            open[t] = Span(thread: t, state: s.state, startNs: s.timeNs, endNs: s.timeNs + period, samples: 1, firstSample: i)
        }
        for case let span? in open { spans.append(span) }
        return spans
    }

    public func render(_ input: ReportInput) throws -> Data {
        guard let profile = input.profile else { throw ReportError.needsProfile(format: "chrome") }
        let index = ProfileIndex(profile)
        var out = JSONOut(capacity: profile.samples.count * 40 + 4096)
        out.raw("{\"displayTimeUnit\":\"ms\",\"otherData\":{")
        out.key("command"); out.string(profile.recording.command.joined(separator: " "))
        out.raw(","); out.key("startedAt"); out.string(profile.recording.startedAt)
        out.raw(","); out.key("rateHz"); out.double(profile.recording.rateHz)
        out.raw(","); out.key("exporter"); out.string("forkcast@\(profile.recording.toolVersion)")
        out.raw("},\"traceEvents\":[")
        var first = true
        func comma(_ out: inout JSONOut) { if !first { out.raw(",") }; first = false }
        for (i, p) in profile.processes.enumerated() {
            comma(&out)
            out.raw("{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":"); out.int(p.pid)
            out.raw(",\"tid\":0,\"args\":{\"name\":")
            let exe = (p.executable as NSString).lastPathComponent
            out.string(exe.isEmpty ? (p.command.first ?? "process") : exe)
            out.raw("}}")
            comma(&out)
            out.raw("{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":"); out.int(p.pid)
            out.raw(",\"tid\":0,\"args\":{\"sort_index\":"); out.int(i); out.raw("}}")
        }
        for t in profile.threads {
            comma(&out)
            out.raw("{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":"); out.int(t.pid)
            out.raw(",\"tid\":"); out.int(t.tid)
            out.raw(",\"args\":{\"name\":"); out.string(t.name); out.raw("}}")
        }
        for span in Self.spans(profile, index: index) {
            let thread = profile.threads[span.thread]
            let sample = profile.samples[span.firstSample]
            comma(&out)
            out.raw("{\"ph\":\"X\",\"cat\":\"state\",\"name\":"); out.string(span.state.rawValue)
            out.raw(",\"pid\":"); out.int(thread.pid)
            out.raw(",\"tid\":"); out.int(thread.tid)
            out.raw(",\"ts\":"); out.double(Double(span.startNs) / 1000)
            out.raw(",\"dur\":"); out.double(Double(span.endNs - span.startNs) / 1000)
            out.raw(",\"args\":{\"samples\":"); out.int(span.samples)
            let frames = profile.stacks[Int(sample.stack)].frames
            if let leaf = frames.first {
                out.raw(",\"leaf\":"); out.string(profile.frames[Int(leaf)].label)
            }
            if sample.wait >= 0 {
                let w = profile.waits[Int(sample.wait)]
                out.raw(",\"syscall\":"); out.string(w.syscall)
                if let target = w.target { out.raw(",\"target\":"); out.string(target) }
                if let futex = w.futex { out.raw(",\"futex\":"); out.string("0x" + String(futex, radix: 16)) }
            }
            if let gil = sample.holdsGIL { out.raw(",\"holds_gil\":"); out.bool(gil) }
            out.raw("}}")
        }
        out.raw("]}")
        return out.data
    }
}
