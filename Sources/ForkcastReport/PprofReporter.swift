import Foundation
import ForkcastModel

/// pprof's `profile.proto`, gzipped (what `go tool pprof` reads). Samples are aggregated
/// per (stack, thread, state); each carries the values `samples/count`, `wall/nanoseconds`
/// and one `<state>/nanoseconds` value per thread state (non-zero only in its own state),
/// and the labels `thread`, `tid`, `pid`, `state`. One location and one function per
/// frame (functions interned by name and file). Documented in docs/formats/pprof.md.
public struct PprofReporter: ReporterPlugin {
    public let descriptor = PluginDescriptor(
        name: "pprof", kind: .reporter, version: "1",
        summary: "pprof profile.proto (gzipped) with wall and per-state time, for go tool pprof")
    public let fileExtension = "pb.gz"

    public init() {}

    /// The sample types in value order.
    static var sampleTypes: [(type: String, unit: String)] {
        [("samples", "count"), ("wall", "nanoseconds")] + ThreadState.byCode.map { ($0.rawValue, "nanoseconds") }
    }

    public func render(_ input: ReportInput) throws -> Data {
        guard let profile = input.profile else { throw ReportError.needsProfile(format: "pprof") }
        return try Gzip.compress(Data(Self.encode(profile)))
    }

    /// pprof's string table: index 0 is "", each string stored once, in first-use order.
    struct StringTable {
        var strings: [String] = [""]
        var index: [String: Int64] = ["": 0]

        mutating func id(_ s: String) -> Int64 {
            if let i = index[s] { return i }
            let i = Int64(strings.count)
            strings.append(s)
            index[s] = i
            return i
        }
    }

    static func encode(_ profile: Profile) -> [UInt8] {
        let index = ProfileIndex(profile)
        let period = index.periodNs
        var strings = StringTable()
        var w = ProtoWriter()
        for t in sampleTypes {
            w.message(1) { m in
                m.int(1, strings.id(t.type))
                m.int(2, strings.id(t.unit))
            }
        }
        writeSamples(profile, index: index, into: &w, strings: &strings)
        writeLocations(profile, into: &w, strings: &strings)
        // Scalars reference the string table, so intern before writing it.
        let periodType = (strings.id("wall"), strings.id("nanoseconds"))
        let comment = strings.id("forkcast \(profile.recording.toolVersion): \(profile.recording.command.joined(separator: " "))")
        for s in strings.strings { w.string(6, s) }
        let startNanos = Self.parseISO8601(profile.recording.startedAt).map { Int64($0.timeIntervalSince1970 * 1e9) } ?? 0
        w.int(9, startNanos)
        w.int(10, Int64(profile.recording.durationNs))
        w.message(11) { m in m.int(1, periodType.0); m.int(2, periodType.1) }
        w.int(12, Int64(period))
        w.int(13, comment)
        w.int(14, periodType.0)
        return w.bytes
    }

    /// The samples, aggregated by (stack, thread, state) in first-seen order: location ids
    /// (frame index + 1; an empty stack gets the "[no stack]" location after the frames),
    /// the values, and the state, thread, tid and pid labels.
    static func writeSamples(_ profile: Profile, index: ProfileIndex, into w: inout ProtoWriter, strings: inout StringTable) {
        let period = index.periodNs
        struct Key: Hashable { var stack: Int32; var thread: Int; var state: UInt8 }
        var counts: [Key: Int64] = [:]
        var order: [Key] = []
        for s in profile.samples {
            guard let t = index.threadIndex[s.tid] else { continue }
            let k = Key(stack: s.stack, thread: t, state: s.state.code)
            if let c = counts[k] { counts[k] = c + 1 } else { counts[k] = 1; order.append(k) }
        }
        let noStackLocation = UInt64(profile.frames.count + 1)
        let stateKey = strings.id("state"), threadKey = strings.id("thread"), tidKey = strings.id("tid"), pidKey = strings.id("pid")
        for k in order {
            let count = counts[k]!
            let thread = profile.threads[k.thread]
            let frames = profile.stacks[Int(k.stack)].frames
            w.message(2) { m in
                if frames.isEmpty {
                    m.packed(1, [noStackLocation])
                } else {
                    m.packed(1, frames.map { UInt64($0) + 1 })
                }
                var values = [UInt64](repeating: 0, count: 2 + 8)
                values[0] = UInt64(count)
                values[1] = UInt64(count) * period
                values[2 + Int(k.state)] = UInt64(count) * period
                m.packed(2, values)
                let stateName = strings.id(ThreadState(code: k.state)!.rawValue)
                let threadName = strings.id(thread.name)
                m.message(3) { l in l.int(1, stateKey); l.int(2, stateName) }
                m.message(3) { l in l.int(1, threadKey); l.int(2, threadName) }
                m.message(3) { l in l.int(1, tidKey); l.int(3, Int64(thread.tid)) }
                m.message(3) { l in l.int(1, pidKey); l.int(3, Int64(thread.pid)) }
            }
        }
    }

    /// Mappings (one per native module), locations (one per frame, plus "[no stack]") and
    /// functions (interned by name and file).
    static func writeLocations(_ profile: Profile, into w: inout ProtoWriter, strings: inout StringTable) {
        struct FunctionKey: Hashable { var name: String; var file: String }
        var functionIds: [FunctionKey: UInt64] = [:]
        var functions: [(id: UInt64, key: FunctionKey)] = []
        var frameFunction: [UInt64] = []
        frameFunction.reserveCapacity(profile.frames.count + 1)
        for f in profile.frames + [Frame(kind: .native, name: "[no stack]")] {
            let key = FunctionKey(name: f.name, file: f.file ?? f.module ?? "")
            if let id = functionIds[key] { frameFunction.append(id); continue }
            let id = UInt64(functions.count + 1)
            functionIds[key] = id
            functions.append((id, key))
            frameFunction.append(id)
        }
        // Mappings: one per native module (pprof names the binary after the first).
        var mappingIds: [String: UInt64] = [:]
        for f in profile.frames where f.kind == .native {
            guard let module = f.module, mappingIds[module] == nil else { continue }
            let id = UInt64(mappingIds.count + 1)
            mappingIds[module] = id
            w.message(3) { m in
                m.uint(1, id)
                m.int(5, strings.id(module))
                m.uint(7, 1)  // has_functions
                m.uint(8, 1)  // has_filenames
                m.uint(9, 1)  // has_line_numbers
            }
        }
        for (i, f) in (profile.frames + [Frame(kind: .native, name: "[no stack]")]).enumerated() {
            w.message(4) { m in
                m.uint(1, UInt64(i + 1))
                if f.kind == .native, let module = f.module { m.uint(2, mappingIds[module] ?? 0) }
                m.uint(3, f.offset ?? 0)
                m.message(4) { line in
                    line.uint(1, frameFunction[i])
                    line.int(2, Int64(f.line ?? 0))
                }
            }
        }
        for fn in functions {
            w.message(5) { m in
                m.uint(1, fn.id)
                m.int(2, strings.id(fn.key.name))
                m.int(3, strings.id(fn.key.name))
                m.int(4, strings.id(fn.key.file))
            }
        }
    }

    static func parseISO8601(_ s: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: s) { return d }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: s)
    }
}
