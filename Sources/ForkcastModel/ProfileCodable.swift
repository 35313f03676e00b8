import Foundation

// MARK: - Codable (for embedding a profile in other Codable messages)

extension Profile: Codable {
    private enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", recording, stats, processes, threads, frames, mappings, stacks,
             waits, samples
    }

    /// Decodes through any `Decoder` (slow for big profiles: prefer `Profile.decode(_:)`,
    /// which reads the same format). Reads versions 1 and 2 and returns the profile
    /// `normalized()`. Does not call `validate()`.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let format = try c.decodeIfPresent(String.self, forKey: .format)
        guard format == Profile.formatName else {
            throw ProfileError.notAProfile("missing \"format\": \"\(Profile.formatName)\"")
        }
        let version = try c.decode(Int.self, forKey: .formatVersion)
        guard Profile.readableFormatVersions.contains(version) else {
            throw ProfileError.unsupportedVersion(found: version, supported: Profile.currentFormatVersion)
        }
        formatVersion = Profile.currentFormatVersion
        recording = try c.decode(RecordingInfo.self, forKey: .recording)
        stats = try c.decode(RecordingStats.self, forKey: .stats)
        processes = try c.decode([ProcessInfo].self, forKey: .processes)
        threads = try c.decode([ThreadInfo].self, forKey: .threads)
        frames = try c.decode([Frame].self, forKey: .frames)
        mappings = version >= 2 ? try c.decode([MappingInfo].self, forKey: .mappings) : []
        stacks = try c.decode([Stack].self, forKey: .stacks)
        waits = try c.decode([WaitInfo].self, forKey: .waits)
        let cols = try c.decode(SampleColumns.self, forKey: .samples)
        samples = try Profile.assembleSamples(cols, version: version, threads: threads)
        try resolveFrameModules()
        normalize()
    }

    public func encode(to encoder: Encoder) throws {
        let p = normalized()
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Profile.formatName, forKey: .format)
        try c.encode(Profile.currentFormatVersion, forKey: .formatVersion)
        try c.encode(p.recording, forKey: .recording)
        try c.encode(p.stats, forKey: .stats)
        try c.encode(p.processes, forKey: .processes)
        try c.encode(p.threads, forKey: .threads)
        try c.encode(p.fileFrames, forKey: .frames)
        try c.encode(p.mappings, forKey: .mappings)
        try c.encode(p.stacks, forKey: .stacks)
        try c.encode(p.waits, forKey: .waits)
        let cols = SampleColumns(
            t: p.samples.map(\.timeNs), thread: p.samples.map(\.thread),
            stack: p.samples.map(\.stack), state: p.samples.map(\.state.code), wait: p.samples.map(\.wait),
            gil: p.samples.map { Profile.gilCode($0.holdsGIL) })
        try c.encode(cols, forKey: .samples)
    }

    /// The frames as the file holds them: a frame with a mapping row leaves its module
    /// to the row (written once, in `mappings`).
    var fileFrames: [Frame] {
        frames.map { f in
            var f = f
            if f.mapping != nil { f.module = nil }
            return f
        }
    }

    /// After reading: a frame with a mapping row gets the row's file as its module.
    mutating func resolveFrameModules() throws {
        let count = mappings.count
        for i in frames.indices {
            guard let m = frames[i].mapping else { continue }
            guard m >= 0, Int(m) < count else {
                throw ProfileError.invalid("frame \(i) refers to mapping \(m), but there are \(count) mappings")
            }
            if frames[i].module == nil { frames[i].module = mappings[Int(m)].file }
        }
    }

    static func gilCode(_ holds: Bool?) -> UInt8 { holds.map { $0 ? 1 : 2 } ?? 0 }

    /// Zips the sample columns into samples, checking lengths and codes. Version 2 names
    /// each sample's thread row (`thread`), and the ids are the row's; version 1 names
    /// (`pid`, `tid`), and the row is left for `normalize()` to find.
    static func assembleSamples(_ cols: SampleColumns, version: Int, threads: [ThreadInfo]) throws -> [Sample] {
        let n = cols.t.count
        var required: [(String, Int?)] = [("stack", cols.stack.count), ("state", cols.state.count),
                                          ("wait", cols.wait.count), ("gil", cols.gil.count)]
        required += version >= 2 ? [("thread", cols.thread?.count)] : [("pid", cols.pid?.count), ("tid", cols.tid?.count)]
        for (name, count) in required {
            guard let count else { throw ProfileError.corrupt("missing sample column \"samples.\(name)\"") }
            if count != n {
                throw ProfileError.corrupt("sample columns have different lengths (\"t\" has \(n) values, \"\(name)\" has \(count))")
            }
        }
        var samples: [Sample] = []
        samples.reserveCapacity(n)
        let threadCount = threads.count
        for i in 0..<n {
            guard let s = ThreadState(code: cols.state[i]) else {
                throw ProfileError.corrupt("samples.state[\(i)] is \(cols.state[i]), not a known state code (0–7)")
            }
            let g: Bool?
            switch cols.gil[i] {
            case 0: g = nil
            case 1: g = true
            case 2: g = false
            default: throw ProfileError.corrupt("samples.gil[\(i)] is \(cols.gil[i]), not a known GIL code (0–2)")
            }
            if version >= 2 {
                let row = cols.thread![i]
                guard row >= 0, Int(row) < threadCount else {
                    throw ProfileError.invalid("sample \(i) refers to thread row \(row), but there are \(threadCount) threads")
                }
                let t = threads[Int(row)]
                samples.append(Sample(timeNs: cols.t[i], pid: t.pid, tid: t.tid, stack: cols.stack[i], state: s,
                                      wait: cols.wait[i], holdsGIL: g, thread: row))
            } else {
                samples.append(Sample(timeNs: cols.t[i], pid: cols.pid![i], tid: cols.tid![i], stack: cols.stack[i],
                                      state: s, wait: cols.wait[i], holdsGIL: g))
            }
        }
        return samples
    }
}

/// The sample table as stored: one array per field, all the same length. `state` holds
/// `ThreadState.code`; `wait` is -1 for none; `gil` is 0 unknown, 1 holds the GIL,
/// 2 does not. Version 2 has `thread` (a thread row); version 1 had `pid` and `tid`.
struct SampleColumns: Codable {
    var t: [UInt64]
    var pid: [Int32]?
    var tid: [Int32]?
    var thread: [Int32]?
    var stack: [Int32]
    var state: [UInt8]
    var wait: [Int32]
    var gil: [UInt8]

    init(t: [UInt64], pid: [Int32]? = nil, tid: [Int32]? = nil, thread: [Int32]? = nil, stack: [Int32],
         state: [UInt8], wait: [Int32], gil: [UInt8]) {
        self.t = t
        self.pid = pid
        self.tid = tid
        self.thread = thread
        self.stack = stack
        self.state = state
        self.wait = wait
        self.gil = gil
    }
}
