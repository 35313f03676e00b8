import Foundation

/// Why a profile could not be read or written. `description` is one line for the user.
public enum ProfileError: Error, CustomStringConvertible, Equatable {
    case notAProfile(String)
    case unsupportedVersion(found: Int, supported: Int)
    case corrupt(String)
    case invalid(String)

    public var description: String {
        switch self {
        case .notAProfile(let why): "not a Forkcast profile: \(why)"
        case .unsupportedVersion(let found, let supported):
            "profile format version \(found) is not supported (this forkcast reads version \(supported))"
        case .corrupt(let why): "corrupt profile: \(why)"
        case .invalid(let why): "invalid profile: \(why)"
        }
    }
}

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
        let n = cols.t.count
        guard cols.pid.count == n, cols.tid.count == n, cols.stack.count == n, cols.state.count == n,
              cols.wait.count == n, cols.gil.count == n
        else { throw ProfileError.corrupt("sample columns have different lengths") }
        var samples: [Sample] = []
        samples.reserveCapacity(n)
        for i in 0..<n {
            guard let state = ThreadState(code: cols.state[i]) else {
                throw ProfileError.corrupt("sample \(i) has unknown state code \(cols.state[i])")
            }
            let gil: Bool? = switch cols.gil[i] { case 1: true; case 2: false; default: nil }
            samples.append(Sample(timeNs: cols.t[i], pid: cols.pid[i], tid: cols.tid[i], stack: cols.stack[i],
                                  state: state, wait: cols.wait[i], holdsGIL: gil))
        }
        self.samples = samples
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
            gil: samples.map { $0.holdsGIL.map { $0 ? 1 : 2 } ?? 0 })
        try c.encode(cols, forKey: .samples)
    }
}

extension Profile {
    /// Checks every cross-reference (stack → frame, sample → stack/wait/thread) so that a
    /// profile that passes can be indexed without bounds checks. Called before writing
    /// and after reading.
    public func validate() throws {
        guard formatVersion == Profile.currentFormatVersion else {
            throw ProfileError.unsupportedVersion(found: formatVersion, supported: Profile.currentFormatVersion)
        }
        let frameCount = Int32(frames.count)
        for (i, stack) in stacks.enumerated() {
            for f in stack.frames where f < 0 || f >= frameCount {
                throw ProfileError.invalid("stack \(i) refers to frame \(f), but there are \(frames.count) frames")
            }
        }
        var knownThreads = Set<Int32>()
        for t in threads { knownThreads.insert(t.tid) }
        let stackCount = Int32(stacks.count)
        let waitCount = Int32(waits.count)
        for (i, s) in samples.enumerated() {
            if s.stack < 0 || s.stack >= stackCount {
                throw ProfileError.invalid("sample \(i) refers to stack \(s.stack), but there are \(stacks.count) stacks")
            }
            if s.wait < -1 || s.wait >= waitCount {
                throw ProfileError.invalid("sample \(i) refers to wait \(s.wait), but there are \(waits.count) waits")
            }
            if !knownThreads.contains(s.tid) {
                throw ProfileError.invalid("sample \(i) is of thread \(s.tid), which is not in the thread table")
            }
        }
        if recording.rateHz <= 0 || !recording.rateHz.isFinite {
            throw ProfileError.invalid("sampling rate \(recording.rateHz) is not positive")
        }
    }

    /// The profile as JSON bytes, gzip-compressed when `gzip` is true. Validates first.
    public func encoded(gzip: Bool) throws -> Data {
        try validate()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try encoder.encode(self)
        return gzip ? try Gzip.compress(json) : json
    }

    /// Reads a profile from JSON or gzip-compressed JSON bytes (detected by the gzip magic).
    public static func decode(_ data: Data) throws -> Profile {
        guard !data.isEmpty else { throw ProfileError.notAProfile("the file is empty") }
        let json: Data
        if Gzip.isGzip(data) {
            do { json = try Gzip.decompress(data) } catch {
                throw ProfileError.corrupt("gzip data is damaged (\(error))")
            }
        } else {
            json = data
        }
        guard let first = json.first(where: { !($0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09) }), first == UInt8(ascii: "{") else {
            throw ProfileError.notAProfile("it is not JSON")
        }
        let profile: Profile
        do {
            profile = try JSONDecoder().decode(Profile.self, from: json)
        } catch let error as ProfileError {
            throw error
        } catch let DecodingError.dataCorrupted(context) {
            throw ProfileError.corrupt(Self.describe(context))
        } catch let DecodingError.keyNotFound(key, context) {
            throw ProfileError.corrupt("missing \"\(key.stringValue)\"" + Self.at(context))
        } catch let DecodingError.typeMismatch(_, context) {
            throw ProfileError.corrupt("wrong type" + Self.at(context))
        } catch let DecodingError.valueNotFound(_, context) {
            throw ProfileError.corrupt("missing value" + Self.at(context))
        } catch {
            throw ProfileError.corrupt("\(error)")
        }
        try profile.validate()
        return profile
    }

    private static func at(_ context: DecodingError.Context) -> String {
        let path = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        return path.isEmpty ? "" : " at \(path)"
    }

    private static func describe(_ context: DecodingError.Context) -> String {
        let path = at(context)
        if let underlying = context.underlyingError {
            return "the JSON is damaged or truncated\(path) (\(underlying.localizedDescription))"
        }
        return "the JSON is damaged or truncated\(path)"
    }
}
