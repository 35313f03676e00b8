import Foundation
import ForkcastModel

/// speedscope's file format (https://www.speedscope.app/file-format-schema.json): one
/// sampled profile per thread, frames shared, stacks written outermost first as
/// speedscope expects, weights in nanoseconds. Consecutive samples of a thread with the
/// same stack are merged into one weighted sample (speedscope's time-order view is kept).
/// Documented in docs/formats/speedscope.md.
public struct SpeedscopeReporter: ReporterPlugin {
    public let descriptor = PluginDescriptor(
        name: "speedscope", kind: .reporter, version: "1",
        summary: "speedscope JSON: a sampled profile per thread, for https://www.speedscope.app")
    public let fileExtension = "speedscope.json"

    public init() {}

    public func render(_ input: ReportInput) throws -> Data {
        guard let profile = input.profile else { throw ReportError.needsProfile(format: "speedscope") }
        let index = ProfileIndex(profile)
        // Shared frames: the profile's frames, plus one for samples with no stack.
        let noStackFrame = profile.frames.count
        var out = JSONOut(capacity: profile.samples.count * 8 + 4096)
        out.raw("{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",")
        out.key("exporter"); out.string("forkcast@\(profile.recording.toolVersion)"); out.raw(",")
        out.key("name"); out.string(profile.recording.command.joined(separator: " ")); out.raw(",")
        out.key("activeProfileIndex"); out.int(0); out.raw(",")
        out.raw("\"shared\":{\"frames\":[")
        for (i, f) in profile.frames.enumerated() {
            if i > 0 { out.raw(",") }
            out.raw("{\"name\":"); out.string(f.name)
            if let file = f.file ?? f.module { out.raw(",\"file\":"); out.string(file) }
            if let line = f.line { out.raw(",\"line\":"); out.int(line) }
            out.raw("}")
        }
        if !profile.frames.isEmpty { out.raw(",") }
        out.raw("{\"name\":\"[no stack]\"}]},\"profiles\":[")

        // Samples grouped by thread, in time order.
        var perThread = [[Int]](repeating: [], count: profile.threads.count)
        for (i, s) in profile.samples.enumerated() {
            if let t = index.threadIndex[s.tid] { perThread[t].append(i) }
        }
        var firstProfile = true
        for (t, thread) in profile.threads.enumerated() {
            let indices = perThread[t]
            if indices.isEmpty { continue }
            if !firstProfile { out.raw(",") }
            firstProfile = false
            out.raw("{\"type\":\"sampled\",\"name\":")
            out.string("\(thread.name) (tid \(thread.tid), pid \(thread.pid))")
            out.raw(",\"unit\":\"nanoseconds\",\"startValue\":0,\"endValue\":")
            out.int(UInt64(indices.count) * index.periodNs)
            out.raw(",\"samples\":[")
            var weights: [UInt64] = []
            var lastStack: Int32 = -2
            for i in indices {
                let s = profile.samples[i]
                if s.stack == lastStack, !weights.isEmpty {
                    weights[weights.count - 1] += index.periodNs
                    continue
                }
                if !weights.isEmpty { out.raw(",") }
                lastStack = s.stack
                weights.append(index.periodNs)
                let frames = profile.stacks[Int(s.stack)].frames
                if frames.isEmpty {
                    out.raw("["); out.int(noStackFrame); out.raw("]")
                } else {
                    out.intArray(frames.reversed())
                }
            }
            out.raw("],\"weights\":")
            out.intArray(weights)
            out.raw("}")
        }
        out.raw("]}")
        return out.data
    }
}
