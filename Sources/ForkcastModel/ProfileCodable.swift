import Foundation

// MARK: - Codable (for embedding a profile in other Codable messages)

extension Profile: Codable {
    private enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", recording, stats, processes, threads, frames, stacks, waits, samples
    }

    /// Samples are stored column by column: one array per field, all the same length.
    /// `state` holds `ThreadState.code`; `wait` is -1 for none; `gil` is 0 unknown,
    /// 1 holds the GIL, 2 does not.
    private struct SampleColumns: Codable {
        var t: [UInt64]
        var pid: [Int32]
        var tid: [Int32]
        var stack: [Int32]
        var state: [UInt8]
        var wait: [Int32]
        var gil: [UInt8]
    }

    /// Decodes through any `Decoder` (slow for big profiles: prefer `Profile.decode(_:)`,
    /// which reads the same format). Does not call `validate()`.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let format = try c.decodeIfPresent(String.self, forKey: .format)
        guard format == Profile.formatName else {
            throw ProfileError.notAProfile("missing \"format\": \"\(Profile.formatName)\"")
        }
        let version = try c.decode(Int.self, forKey: .formatVersion)
        guard version == Profile.currentFormatVersion else {
            throw ProfileError.unsupportedVersion(found: version, supported: Profile.currentFormatVersion)
        }
        formatVersion = version
        recording = try c.decode(RecordingInfo.self, forKey: .recording)
        stats = try c.decode(RecordingStats.self, forKey: .stats)
        processes = try c.decode([ProcessInfo].self, forKey: .processes)
        threads = try c.decode([ThreadInfo].self, forKey: .threads)
        frames = try c.decode([Frame].self, forKey: .frames)
        stacks = try c.decode([Stack].self, forKey: .stacks)
        waits = try c.decode([WaitInfo].self, forKey: .waits)
        let cols = try c.decode(SampleColumns.self, forKey: .samples)
        samples = try Profile.assembleSamples(t: cols.t, pid: cols.pid, tid: cols.tid, stack: cols.stack,
                                              state: cols.state, wait: cols.wait, gil: cols.gil)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Profile.formatName, forKey: .format)
        try c.encode(formatVersion, forKey: .formatVersion)
        try c.encode(recording, forKey: .recording)
        try c.encode(stats, forKey: .stats)
        try c.encode(processes, forKey: .processes)
        try c.encode(threads, forKey: .threads)
        try c.encode(frames, forKey: .frames)
        try c.encode(stacks, forKey: .stacks)
        try c.encode(waits, forKey: .waits)
        let cols = SampleColumns(
            t: samples.map(\.timeNs), pid: samples.map(\.pid), tid: samples.map(\.tid),
            stack: samples.map(\.stack), state: samples.map(\.state.code), wait: samples.map(\.wait),
            gil: samples.map { Profile.gilCode($0.holdsGIL) })
        try c.encode(cols, forKey: .samples)
    }

    static func gilCode(_ holds: Bool?) -> UInt8 { holds.map { $0 ? 1 : 2 } ?? 0 }

    /// Zips the sample columns into samples, checking lengths and codes.
    static func assembleSamples(t: [UInt64], pid: [Int32], tid: [Int32], stack: [Int32],
                                state: [UInt8], wait: [Int32], gil: [UInt8]) throws -> [Sample] {
        let n = t.count
        for (name, count) in [("pid", pid.count), ("tid", tid.count), ("stack", stack.count),
                              ("state", state.count), ("wait", wait.count), ("gil", gil.count)] where count != n {
            throw ProfileError.corrupt("sample columns have different lengths (\"t\" has \(n) values, \"\(name)\" has \(count))")
        }
        var samples: [Sample] = []
        samples.reserveCapacity(n)
        for i in 0..<n {
            guard let s = ThreadState(code: state[i]) else {
                throw ProfileError.corrupt("samples.state[\(i)] is \(state[i]), not a known state code (0–7)")
            }
            let g: Bool?
            switch gil[i] {
            case 0: g = nil
            case 1: g = true
            case 2: g = false
            default: throw ProfileError.corrupt("samples.gil[\(i)] is \(gil[i]), not a known GIL code (0–2)")
            }
            samples.append(Sample(timeNs: t[i], pid: pid[i], tid: tid[i], stack: stack[i], state: s, wait: wait[i], holdsGIL: g))
        }
        return samples
    }
}
