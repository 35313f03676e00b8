import Foundation

// The profile file format (docs/profile-format.md, docs/profile.schema.json):
//
//   { "format": "forkcast-profile", "format_version": 1,
//     "frames": [...], "processes": [...], "recording": {...}, "stacks": [...],
//     "stats": {...}, "threads": [...], "waits": [...],
//     "samples": { "t": [...], "pid": [...], "tid": [...], "stack": [...],
//                  "state": [...], "wait": [...], "gil": [...] } }
//
// The small tables go through Foundation's JSONEncoder/JSONDecoder. The sample columns
// (millions of integers) and the stack table (tens of thousands of integer arrays) are
// written and read by hand: JSONDecoder takes seconds on a million samples, the byte
// scanner below a tenth of that. The Codable conformance reads and writes the same
// format (slowly), and the reader's errors are one line either way.

/// Why a profile could not be read or written. `description` is one line for the user.
public enum ProfileError: Error, CustomStringConvertible, Equatable {
    /// The bytes are not a Forkcast profile at all (empty, not JSON, JSON of something else).
    case notAProfile(String)
    /// A Forkcast profile of another format version.
    case unsupportedVersion(found: Int, supported: Int)
    /// A profile whose bytes are damaged: truncated, malformed JSON or gzip, wrong types.
    case corrupt(String)
    /// Well-formed, but its content is inconsistent or absurd (an index out of range, a
    /// negative rate); `validate()` throws this.
    case invalid(String)

    public var description: String {
        switch self {
        case .notAProfile(let why): "not a Forkcast profile: \(why)"
        case .unsupportedVersion(let found, let supported) where found > supported:
            "profile format version \(found) is newer than this forkcast reads (version \(supported)); upgrade forkcast to read it"
        case .unsupportedVersion(let found, let supported):
            "profile format version \(found) is not supported (this forkcast reads version \(supported) only)"
        case .corrupt(let why): "corrupt profile: \(why)"
        case .invalid(let why): "invalid profile: \(why)"
        }
    }
}

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

/// Everything but the samples and stacks (which are read by hand): what JSONDecoder reads.
private struct ProfileHeader: Decodable {
    var format: String
    var formatVersion: Int
    var recording: RecordingInfo
    var stats: RecordingStats
    var processes: [ProcessInfo]
    var threads: [ThreadInfo]
    var frames: [Frame]
    var waits: [WaitInfo]

    enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", recording, stats, processes, threads, frames, waits
    }
}

// MARK: - Validation

extension Profile {
    /// The largest time or duration a profile may hold, in nanoseconds (`Int64.max`, about
    /// 292 years), so that readers can convert any time to `Int` without trapping.
    public static let maxTimeNs = UInt64(Int64.max)
    /// The highest sampling rate a profile may claim, in Hz.
    public static let maxRateHz = 1_000_000.0

    /// Checks every cross-reference (stack → frame, sample → stack/wait/thread) and every
    /// value with a range (times, rate, ids), so that a profile that passes can be indexed
    /// without bounds checks and its numbers converted without overflow. Called before
    /// writing and after reading.
    public func validate() throws {
        guard formatVersion == Profile.currentFormatVersion else {
            throw ProfileError.unsupportedVersion(found: formatVersion, supported: Profile.currentFormatVersion)
        }
        let r = recording
        guard r.rateHz.isFinite, r.rateHz > 0, r.rateHz <= Profile.maxRateHz else {
            throw ProfileError.invalid("sampling rate \(r.rateHz) Hz is not between 0 and \(Int(Profile.maxRateHz)) Hz")
        }
        guard r.durationNs <= Profile.maxTimeNs else {
            throw ProfileError.invalid("recording duration \(r.durationNs) ns is absurd")
        }
        guard r.cores >= 1 else { throw ProfileError.invalid("recording says the machine has \(r.cores) cores") }
        let statsFields: [(String, Int)] = [
            ("ticks", stats.ticks), ("lateTicks", stats.lateTicks), ("samplesExpected", stats.samplesExpected),
            ("samplesTaken", stats.samplesTaken), ("stacksComplete", stats.stacksComplete),
            ("unwindErrors", stats.unwindErrors), ("inconsistentStacks", stats.inconsistentStacks),
            ("missedStops", stats.missedStops), ("pythonReadErrors", stats.pythonReadErrors),
        ]
        for (name, value) in statsFields where value < 0 {
            throw ProfileError.invalid("stats.\(name) is negative (\(value))")
        }
        for (i, p) in processes.enumerated() {
            guard p.pid > 0 else { throw ProfileError.invalid("process \(i) has pid \(p.pid)") }
            guard p.startNs <= Profile.maxTimeNs, (p.endNs ?? 0) <= Profile.maxTimeNs else {
                throw ProfileError.invalid("process \(p.pid) has an absurd start or end time")
            }
            if let end = p.endNs, end < p.startNs {
                throw ProfileError.invalid("process \(p.pid) ends (\(end) ns) before it starts (\(p.startNs) ns)")
            }
        }
        var knownThreads = Set<UInt64>()
        knownThreads.reserveCapacity(threads.count)
        for (i, t) in threads.enumerated() {
            guard t.pid > 0, t.tid > 0 else { throw ProfileError.invalid("thread \(i) has pid \(t.pid), tid \(t.tid)") }
            guard t.startNs <= Profile.maxTimeNs, (t.endNs ?? 0) <= Profile.maxTimeNs else {
                throw ProfileError.invalid("thread \(t.tid) has an absurd start or end time")
            }
            if let end = t.endNs, end < t.startNs {
                throw ProfileError.invalid("thread \(t.tid) ends (\(end) ns) before it starts (\(t.startNs) ns)")
            }
            knownThreads.insert(Profile.threadKey(t.pid, t.tid))
        }
        for (i, f) in frames.enumerated() {
            if let line = f.line, line < 0 { throw ProfileError.invalid("frame \(i) has line number \(line)") }
        }
        let frameCount = frames.count
        for (i, stack) in stacks.enumerated() {
            for f in stack.frames where f < 0 || Int(f) >= frameCount {
                throw ProfileError.invalid("stack \(i) refers to frame \(f), but there are \(frameCount) frames")
            }
        }
        let stackCount = stacks.count
        let waitCount = waits.count
        var lastKey: UInt64 = 0
        for i in samples.indices {
            let s = samples[i]
            if s.stack < 0 || Int(s.stack) >= stackCount {
                throw ProfileError.invalid("sample \(i) refers to stack \(s.stack), but there are \(stackCount) stacks")
            }
            if s.wait < -1 || Int(s.wait) >= waitCount {
                throw ProfileError.invalid("sample \(i) refers to wait \(s.wait), but there are \(waitCount) waits")
            }
            if s.timeNs > Profile.maxTimeNs {
                throw ProfileError.invalid("sample \(i) has an absurd time (\(s.timeNs) ns)")
            }
            let key = Profile.threadKey(s.pid, s.tid)
            if key != lastKey {
                guard knownThreads.contains(key) else {
                    throw ProfileError.invalid("sample \(i) is of thread \(s.tid) in process \(s.pid), which is not in the thread table")
                }
                lastKey = key
            }
        }
    }

    private static func threadKey(_ pid: Int32, _ tid: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: pid)) << 32 | UInt64(UInt32(bitPattern: tid))
    }
}

// MARK: - Writing

extension Profile {
    /// zlib level for `.gz` profiles: 1, the fastest. On a million varied samples level 6
    /// took 4× as long to write (1.7 s against 0.4 s) for a file 25% smaller; the recorder
    /// writes at the end of a run, while the user waits.
    public static let gzipLevel: Int32 = 1

    /// The profile as JSON bytes, gzip-compressed when `gzip` is true. Validates first.
    public func encoded(gzip: Bool) throws -> Data {
        var out = Data()
        try write(gzip: gzip) { out.append(contentsOf: $0) }
        return out
    }

    /// Writes the profile as JSON (gzip-compressed when `gzip` is true) in chunks of at
    /// most a few hundred KiB, handing each to `sink` as it is made: memory use stays
    /// at one chunk plus the small tables, whatever the number of samples. Validates first;
    /// nothing reaches `sink` when validation fails.
    public func write(gzip: Bool, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try validate()
        // The tables, in name order, through JSONEncoder (all encoded before any byte is
        // handed on, so an encoding failure writes nothing). Stacks are written by hand:
        // they can number tens of thousands.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func json<T: Encodable>(_ value: T) throws -> Data {
            do { return try encoder.encode(value) } catch {
                throw ProfileError.invalid("cannot encode as JSON: \(oneLine(error))")
            }
        }
        let framesJSON = try json(frames), processesJSON = try json(processes), recordingJSON = try json(recording)
        let statsJSON = try json(stats), threadsJSON = try json(threads), waitsJSON = try json(waits)

        try withoutActuallyEscaping(sink) { sink in
            let deflater: Gzip.Deflater? = try gzip ? Gzip.Deflater(level: Profile.gzipLevel) : nil
            var w = ChunkWriter { chunk in
                if let deflater { try deflater.compress(chunk, finish: false, output: sink) } else { try sink(chunk) }
            }
            defer { w.deallocate() }
            try w.append("{\"format\":\"\(Profile.formatName)\",\"format_version\":\(formatVersion),\"frames\":")
            try w.append(framesJSON)
            try w.append(",\"processes\":")
            try w.append(processesJSON)
            try w.append(",\"recording\":")
            try w.append(recordingJSON)
            try w.append(",\"stacks\":[")
            for (i, stack) in stacks.enumerated() {
                try w.append(i == 0 ? "{\"frames\":[" : ",{\"frames\":[")
                for (k, f) in stack.frames.enumerated() {
                    if k > 0 { try w.append(",") }
                    try w.append(Int64(f))
                }
                try w.append(stack.truncated ? "],\"truncated\":true}" : "],\"truncated\":false}")
            }
            try w.append("],\"stats\":")
            try w.append(statsJSON)
            try w.append(",\"threads\":")
            try w.append(threadsJSON)
            try w.append(",\"waits\":")
            try w.append(waitsJSON)
            try w.append(",\"samples\":{")
            // validate() keeps every time ≤ Int64.max, so it converts exactly.
            try w.column("t", samples) { Int64($0.timeNs) }
            try w.column("pid", samples, comma: true) { Int64($0.pid) }
            try w.column("tid", samples, comma: true) { Int64($0.tid) }
            try w.column("stack", samples, comma: true) { Int64($0.stack) }
            try w.column("state", samples, comma: true) { Int64($0.state.code) }
            try w.column("wait", samples, comma: true) { Int64($0.wait) }
            try w.column("gil", samples, comma: true) { Int64(Profile.gilCode($0.holdsGIL)) }
            try w.append("}}\n")
            try w.flush()
            if let deflater { try deflater.compress(UnsafeRawBufferPointer(start: nil, count: 0), finish: true, output: sink) }
        }
    }
}

/// Collects output bytes in a fixed buffer and hands it on when full.
private struct ChunkWriter {
    static let capacity = 1 << 18
    let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: ChunkWriter.capacity)
    var count = 0
    let emit: (UnsafeRawBufferPointer) throws -> Void

    init(emit: @escaping (UnsafeRawBufferPointer) throws -> Void) { self.emit = emit }

    func deallocate() { buffer.deallocate() }

    mutating func flush() throws {
        if count > 0 { try emit(UnsafeRawBufferPointer(start: buffer, count: count)) }
        count = 0
    }

    @inline(__always) mutating func room(_ k: Int) throws {
        if count + k > ChunkWriter.capacity { try flush() }
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) throws {
        if bytes.count > ChunkWriter.capacity {
            try flush()
            try emit(bytes)
            return
        }
        try room(bytes.count)
        if let src = bytes.baseAddress { (buffer + count).update(from: src.assumingMemoryBound(to: UInt8.self), count: bytes.count) }
        count += bytes.count
    }

    mutating func append(_ data: Data) throws {
        try data.withUnsafeBytes { try append($0) }
    }

    mutating func append(_ s: String) throws {
        var s = s
        try s.withUTF8 { try append(UnsafeRawBufferPointer($0)) }
    }

    @inline(__always) mutating func append(_ v: UInt64) throws {
        try room(20)
        digits(v)
    }

    @inline(__always) mutating func append(_ v: Int64) throws {
        if v < 0 {
            try room(22)
            buffer[count] = UInt8(ascii: "-")
            count += 1
            try append(v.magnitude)
        } else {
            try append(UInt64(v))
        }
    }

    /// Writes `"name":[v0,v1,…]`, one value per sample. `value` maps a sample to the
    /// signed integer that is written.
    @inline(__always)
    mutating func column(_ name: String, _ samples: [Sample], comma: Bool = false, _ value: (Sample) -> Int64) throws {
        try append(comma ? ",\"\(name)\":[" : "\"\(name)\":[")
        try samples.withUnsafeBufferPointer { all in
            for i in all.indices {
                try room(22)  // comma, sign, 20 digits
                if i > 0 {
                    buffer[count] = UInt8(ascii: ",")
                    count += 1
                }
                let v = value(all[i])
                if v < 0 {
                    buffer[count] = UInt8(ascii: "-")
                    count += 1
                }
                digits(v.magnitude)
            }
        }
        try append("]")
    }

    /// Writes the decimal digits of `v`; the caller has made room for 20 bytes.
    @inline(__always)
    mutating func digits(_ v: UInt64) {
        var n = 1
        var x = v
        while x >= 10 {
            x /= 10
            n += 1
        }
        var i = count + n
        x = v
        repeat {
            i -= 1
            buffer[i] = UInt8(truncatingIfNeeded: x % 10) &+ 48
            x /= 10
        } while x != 0
        count += n
    }
}

private func oneLine(_ error: Error) -> String {
    let text: String
    switch error {
    case let e as DecodingError:
        switch e {
        case .dataCorrupted(let c), .keyNotFound(_, let c), .typeMismatch(_, let c), .valueNotFound(_, let c):
            text = c.debugDescription
        @unknown default: text = "\(e)"
        }
    case let e as EncodingError:
        switch e {
        case .invalidValue(_, let c): text = c.debugDescription
        @unknown default: text = "\(e)"
        }
    default: text = "\(error)"
    }
    let flat = text.split(whereSeparator: \.isNewline).joined(separator: " ")
    return flat.count > 200 ? String(flat.prefix(200)) + "…" : flat
}

// MARK: - Reading

extension Profile {
    /// Reads a profile from JSON or gzip-compressed JSON bytes (detected by the gzip magic),
    /// and validates it. Every failure is a `ProfileError` with a one-line description.
    public static func decode(_ data: Data) throws -> Profile {
        guard !data.isEmpty else { throw ProfileError.notAProfile("the file is empty") }
        if Gzip.isGzip(data) {
            let json: Data
            do { json = try Gzip.decompress(data) } catch let failure as Gzip.Failure {
                throw ProfileError.corrupt(failure.description)
            }
            guard !json.isEmpty else { throw ProfileError.notAProfile("the file is gzip of nothing") }
            return try json.withUnsafeBytes { try ProfileReader(bytes: $0).read() }
        }
        return try data.withUnsafeBytes { try ProfileReader(bytes: $0).read() }
    }
}

/// Reads the profile's JSON: a byte scanner finds the top-level members and parses the
/// sample columns; JSONDecoder decodes the rest.
private struct ProfileReader {
    let bytes: UnsafeRawBufferPointer

    func read() throws -> Profile {
        var s = JSONScanner(bytes)
        s.skipBOM()
        s.skipWhitespace()
        guard s.pos < s.end else { throw ProfileError.notAProfile("the file holds only white space") }
        let first = s.byte(s.pos)
        guard first == UInt8(ascii: "{") else {
            if first == UInt8(ascii: "[") || first == UInt8(ascii: "\"") || first == UInt8(ascii: "-")
                || (first >= 0x30 && first <= 0x39) || first == UInt8(ascii: "t") || first == UInt8(ascii: "f")
                || first == UInt8(ascii: "n") {
                throw ProfileError.notAProfile("its top level is not a JSON object")
            }
            let head = (0..<min(4, s.end - s.pos)).map { String(format: "%02x", s.byte(s.pos + $0)) }.joined(separator: " ")
            throw ProfileError.notAProfile("it is not JSON (it starts with bytes \(head))")
        }
        // One pass: the sample columns are parsed where they stand (their errors are kept
        // until format and version have been checked).
        var parsedSamples: Result<[Sample], Error>?
        let members = try s.catching { try $0.objectMembers(samples: &parsedSamples) }

        // Format and version first, so a future version's other changes cannot hide them.
        guard let formatSpan = members["format"] else {
            throw ProfileError.notAProfile("it is JSON, but has no \"format\": \"\(Profile.formatName)\" member")
        }
        let formatRaw = bytes[formatSpan]
        let isString = formatRaw.count >= 2 && formatRaw.first == UInt8(ascii: "\"") && formatRaw.last == UInt8(ascii: "\"")
        let formatText = String(decoding: formatRaw.dropFirst().dropLast(), as: UTF8.self)
        guard isString, formatText == Profile.formatName else {
            let shown = isString ? "\"\(formatText.prefix(60))\"" : "not a string"
            throw ProfileError.notAProfile("its \"format\" is \(shown), not \"\(Profile.formatName)\"")
        }
        guard let versionSpan = members["format_version"] else {
            throw ProfileError.corrupt("missing \"format_version\"")
        }
        var vs = JSONScanner(bytes, range: versionSpan)
        guard let version = vs.integer(as: Int.self), vs.pos == versionSpan.upperBound else {
            throw ProfileError.corrupt("\"format_version\" is not an integer")
        }
        guard version == Profile.currentFormatVersion else {
            throw ProfileError.unsupportedVersion(found: version, supported: Profile.currentFormatVersion)
        }
        guard let samplesSpan = members["samples"] else { throw ProfileError.corrupt("missing \"samples\"") }

        guard let stacksSpan = members["stacks"] else { throw ProfileError.corrupt("missing \"stacks\"") }

        // Everything but the samples and stacks (parsed by hand), their values replaced
        // by null and [].
        var headerBytes = Data(capacity: bytes.count - samplesSpan.count - stacksSpan.count + 8)
        var copied = 0
        for (span, standIn) in [(samplesSpan, "null"), (stacksSpan, "[]")].sorted(by: { $0.0.lowerBound < $1.0.lowerBound }) {
            headerBytes.append(contentsOf: bytes[copied..<span.lowerBound])
            headerBytes.append(contentsOf: Array(standIn.utf8))
            copied = span.upperBound
        }
        headerBytes.append(contentsOf: bytes[copied...])
        let header: ProfileHeader
        do {
            header = try JSONDecoder().decode(ProfileHeader.self, from: headerBytes)
        } catch let DecodingError.keyNotFound(key, context) {
            throw ProfileError.corrupt("missing \"\(key.stringValue)\"" + Self.at(context.codingPath))
        } catch let DecodingError.typeMismatch(_, context) {
            throw ProfileError.corrupt("wrong type" + Self.at(context.codingPath) + " (\(Self.shorten(context.debugDescription)))")
        } catch let DecodingError.valueNotFound(_, context) {
            throw ProfileError.corrupt("missing value" + Self.at(context.codingPath))
        } catch let DecodingError.dataCorrupted(context) {
            if context.codingPath.isEmpty, let path = locateBadValue(members) {
                // Foundation reports a number that does not fit its field (-5 for a UInt64,
                // 1.5 for an Int, 1e400) as "not valid JSON" with no path; find the path.
                throw ProfileError.corrupt("bad value at \(path) (a number out of range for the field, a fraction where an integer belongs, or a bad string)")
            }
            let detail = context.underlyingError.map { oneLine($0) } ?? Self.shorten(context.debugDescription)
            throw ProfileError.corrupt("bad value" + Self.at(context.codingPath) + " (\(detail))")
        } catch {
            throw ProfileError.corrupt(oneLine(error))
        }

        var ss = JSONScanner(bytes, range: stacksSpan)
        let stacks = try ss.catching { try $0.stackTable() }
        var profile = Profile(recording: header.recording, stats: header.stats, processes: header.processes,
                              threads: header.threads, frames: header.frames, stacks: stacks, waits: header.waits)
        profile.formatVersion = header.formatVersion
        var cs = JSONScanner(bytes, range: samplesSpan)
        profile.samples = try cs.catching { scanner in
            if let parsedSamples { return try parsedSamples.get() }
            return try scanner.sampleColumns()
        }
        try profile.validate()
        return profile
    }

    /// Finds the member whose value JSONDecoder refused: decodes each top-level table
    /// alone, then each element, then the element with one member's value neutralized
    /// at a time (see `object`). Error path only.
    func locateBadValue(_ members: [String: Range<Int>]) -> String? {
        let tables: [(String, (Data) throws -> Void, (Range<Int>, String) -> String?)] = [
            ("recording", { _ = try JSONDecoder().decode(RecordingInfo.self, from: $0) }, { object(RecordingInfo.self, $0, $1) }),
            ("stats", { _ = try JSONDecoder().decode(RecordingStats.self, from: $0) }, { object(RecordingStats.self, $0, $1) }),
            ("processes", { _ = try JSONDecoder().decode([ProcessInfo].self, from: $0) }, { array(ProcessInfo.self, $0, $1) }),
            ("threads", { _ = try JSONDecoder().decode([ThreadInfo].self, from: $0) }, { array(ThreadInfo.self, $0, $1) }),
            ("frames", { _ = try JSONDecoder().decode([Frame].self, from: $0) }, { array(Frame.self, $0, $1) }),
            ("waits", { _ = try JSONDecoder().decode([WaitInfo].self, from: $0) }, { array(WaitInfo.self, $0, $1) }),
        ]
        for (name, decode, narrow) in tables {
            guard let span = members[name] else { continue }
            if isCorrupted({ try decode(Data(bytes[span])) }) { return narrow(span, name) ?? name }
        }
        return nil
    }

    private func isCorrupted(_ body: () throws -> Void) -> Bool {
        do { try body() } catch DecodingError.dataCorrupted { return true } catch { return false }
        return false
    }

    private func array<T: Decodable>(_ type: T.Type, _ span: Range<Int>, _ path: String) -> String? {
        var s = JSONScanner(bytes, range: span)
        guard let elements = try? s.arrayElements() else { return nil }
        for (i, e) in elements.enumerated() where isCorrupted({ _ = try JSONDecoder().decode(T.self, from: Data(bytes[e])) }) {
            return object(T.self, e, "\(path)[\(i)]") ?? "\(path)[\(i)]"
        }
        return nil
    }

    /// Replaces each member's value in turn by a harmless one of the same kind (0, "",
    /// [], {}); the first whose replacement cures the failure is the bad one.
    private func object<T: Decodable>(_ type: T.Type, _ span: Range<Int>, _ path: String) -> String? {
        var s = JSONScanner(bytes, range: span)
        guard let members = try? s.objectMembers() else { return nil }
        let ordered = members.sorted { $0.value.lowerBound < $1.value.lowerBound }
        for (name, value) in ordered {
            let neutral: String
            switch bytes[value.lowerBound] {
            case UInt8(ascii: "\""): neutral = "\"\""
            case UInt8(ascii: "["): neutral = "[]"
            case UInt8(ascii: "{"): neutral = "{}"
            case UInt8(ascii: "-"), 0x30...0x39: neutral = "0"
            default: continue
            }
            var patched = Data(bytes[span.lowerBound..<value.lowerBound])
            patched.append(contentsOf: Array(neutral.utf8))
            patched.append(contentsOf: bytes[value.upperBound..<span.upperBound])
            if !isCorrupted({ _ = try JSONDecoder().decode(T.self, from: patched) }) { return "\(path).\(name)" }
        }
        return nil
    }

    static func at(_ path: [CodingKey]) -> String {
        guard !path.isEmpty else { return "" }
        var text = ""
        for key in path {
            if let i = key.intValue { text += "[\(i)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
        }
        return " at \(text)"
    }

    static func shorten(_ s: String) -> String {
        let flat = s.split(whereSeparator: \.isNewline).joined(separator: " ")
        return flat.count > 160 ? String(flat.prefix(160)) + "…" : flat
    }
}

/// A minimal, bounds-checked JSON byte scanner: finds member spans and parses integer
/// arrays. It never recurses (nesting is tracked in an explicit stack), so hostile input
/// cannot overflow the call stack.
private struct JSONScanner {
    enum Failure: Error {
        case truncated
        case malformed(at: Int, String)
    }

    let base: UnsafePointer<UInt8>?
    let all: UnsafeRawBufferPointer
    var pos: Int
    let end: Int
    static let maxDepth = 256

    init(_ bytes: UnsafeRawBufferPointer, range: Range<Int>? = nil) {
        all = bytes
        base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        pos = range?.lowerBound ?? 0
        end = range?.upperBound ?? bytes.count
    }

    @inline(__always) func byte(_ i: Int) -> UInt8 { base![i] }

    /// Runs `body`, turning scanner failures into one-line `ProfileError`s.
    mutating func catching<T>(_ body: (inout JSONScanner) throws -> T) throws -> T {
        do { return try body(&self) } catch let f as Failure {
            switch f {
            case .truncated:
                throw ProfileError.corrupt("the JSON ends early, after \(all.count) bytes (the file is truncated)")
            case .malformed(let at, let what):
                let (line, column) = lineColumn(at)
                throw ProfileError.corrupt("the JSON is malformed at line \(line), column \(column): \(what)")
            }
        }
    }

    func lineColumn(_ offset: Int) -> (Int, Int) {
        var line = 1, column = 1
        for i in 0..<min(offset, all.count) {
            if all[i] == 0x0a { line += 1; column = 1 } else { column += 1 }
        }
        return (line, column)
    }

    mutating func skipBOM() {
        if end - pos >= 3, byte(pos) == 0xef, byte(pos + 1) == 0xbb, byte(pos + 2) == 0xbf { pos += 3 }
    }

    @inline(__always) mutating func skipWhitespace() {
        while pos < end {
            let c = byte(pos)
            if c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09 { pos += 1 } else { return }
        }
    }

    @inline(__always) mutating func peek() throws -> UInt8 {
        guard pos < end else { throw Failure.truncated }
        return byte(pos)
    }

    mutating func expect(_ c: UInt8, _ what: String) throws {
        skipWhitespace()
        guard try peek() == c else { throw Failure.malformed(at: pos, "expected \(what)") }
        pos += 1
    }

    /// At a `"`: skips the string and returns its raw bytes' range (between the quotes).
    mutating func string() throws -> Range<Int> {
        guard try peek() == UInt8(ascii: "\"") else { throw Failure.malformed(at: pos, "expected a string") }
        pos += 1
        let start = pos
        while true {
            let c = try peek()
            if c == UInt8(ascii: "\"") {
                pos += 1
                return start..<(pos - 1)
            }
            if c == UInt8(ascii: "\\") {
                pos += 2
                if pos > end { throw Failure.truncated }
            } else if c < 0x20 {
                throw Failure.malformed(at: pos, "control character in a string")
            } else {
                pos += 1
            }
        }
    }

    /// Skips one JSON value of any kind; returns its span.
    mutating func value() throws -> Range<Int> {
        skipWhitespace()
        let start = pos
        var stack: [UInt8] = []
        while true {
            // A value.
            skipWhitespace()
            let c = try peek()
            switch c {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                guard stack.count < JSONScanner.maxDepth else {
                    throw Failure.malformed(at: pos, "nested more than \(JSONScanner.maxDepth) levels deep")
                }
                stack.append(c)
                pos += 1
                skipWhitespace()
                let close = c == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                if try peek() == close {
                    pos += 1
                    stack.removeLast()
                } else {
                    if c == UInt8(ascii: "{") { try memberName() }
                    continue
                }
            case UInt8(ascii: "\""):
                _ = try string()
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            case UInt8(ascii: "-"), 0x30...0x39:
                try number()
            default:
                throw Failure.malformed(at: pos, "expected a value")
            }
            // After a value: close containers or move to the next element.
            while true {
                guard let top = stack.last else { return start..<pos }
                skipWhitespace()
                let d = try peek()
                if d == UInt8(ascii: ",") {
                    pos += 1
                    if top == UInt8(ascii: "{") { try memberName() }
                    break
                }
                if (top == UInt8(ascii: "{") && d == UInt8(ascii: "}")) || (top == UInt8(ascii: "[") && d == UInt8(ascii: "]")) {
                    pos += 1
                    stack.removeLast()
                    continue
                }
                throw Failure.malformed(at: pos, top == UInt8(ascii: "{") ? "expected ',' or '}'" : "expected ',' or ']'")
            }
        }
    }

    /// `"name" :` inside an object.
    private mutating func memberName() throws {
        skipWhitespace()
        _ = try string()
        try expect(UInt8(ascii: ":"), "':'")
    }

    private mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        for i in 0..<n {
            guard try peek() == word.utf8Start[i] else { throw Failure.malformed(at: pos, "expected a value") }
            pos += 1
        }
    }

    private mutating func number() throws {
        let start = pos
        if byte(pos) == UInt8(ascii: "-") { pos += 1 }
        var digits = 0
        while pos < end {
            let c = byte(pos)
            if (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E")
                || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
                if c >= 0x30 && c <= 0x39 { digits += 1 }
                pos += 1
            } else {
                break
            }
        }
        if pos == end && end == all.count && digits == 0 { throw Failure.truncated }
        guard digits > 0 else { throw Failure.malformed(at: start, "expected a number") }
    }

    /// The members of the object at `pos`, by name, each as its value's span. The whole
    /// document must be that one object (white space may follow).
    mutating func objectMembers() throws -> [String: Range<Int>] {
        var unused: Result<[Sample], Error>?
        return try objectMembers(samples: &unused, parseSamples: false)
    }

    /// Like `objectMembers()`, and parses a member named `samples` as the sample table
    /// on the way, into `samples` (the outcome, success or error).
    mutating func objectMembers(samples: inout Result<[Sample], Error>?, parseSamples: Bool = true) throws -> [String: Range<Int>] {
        try expect(UInt8(ascii: "{"), "'{'")
        var members: [String: Range<Int>] = [:]
        skipWhitespace()
        if try peek() == UInt8(ascii: "}") {
            pos += 1
        } else {
            while true {
                skipWhitespace()
                let nameRange = try string()
                try expect(UInt8(ascii: ":"), "':'")
                let name = String(decoding: UnsafeRawBufferPointer(rebasing: all[nameRange]), as: UTF8.self)
                let span: Range<Int>
                skipWhitespace()
                if parseSamples && name == "samples" && samples == nil {
                    let start = pos
                    do {
                        samples = .success(try sampleColumns())
                        span = start..<pos
                    } catch {
                        samples = .failure(error)
                        pos = start
                        span = try value()
                    }
                } else {
                    span = try value()
                }
                guard members.updateValue(span, forKey: name) == nil else {
                    throw Failure.malformed(at: nameRange.lowerBound, "\"\(name.prefix(40))\" appears twice")
                }
                skipWhitespace()
                let c = try peek()
                pos += 1
                if c == UInt8(ascii: "}") { break }
                guard c == UInt8(ascii: ",") else { throw Failure.malformed(at: pos - 1, "expected ',' or '}'") }
            }
        }
        skipWhitespace()
        guard pos == end else { throw Failure.malformed(at: pos, "unexpected data after the end of the JSON") }
        return members
    }

    /// The spans of the elements of the array at `pos`.
    mutating func arrayElements() throws -> [Range<Int>] {
        try expect(UInt8(ascii: "["), "'['")
        var elements: [Range<Int>] = []
        skipWhitespace()
        if try peek() == UInt8(ascii: "]") {
            pos += 1
            return elements
        }
        while true {
            elements.append(try value())
            skipWhitespace()
            let c = try peek()
            pos += 1
            if c == UInt8(ascii: "]") { return elements }
            guard c == UInt8(ascii: ",") else { throw Failure.malformed(at: pos - 1, "expected ',' or ']'") }
        }
    }

    /// Parses an integer at `pos` that must fit `T`; nil when there is none or it does not fit.
    mutating func integer<T: FixedWidthInteger>(as: T.Type) -> T? {
        switch integerResult(as: T.self) {
        case .value(let v): v
        default: nil
        }
    }

    enum IntegerResult<T> { case value(T), notInteger, outOfRange, truncated }

    @inline(__always) mutating func integerResult<T: FixedWidthInteger>(as: T.Type) -> IntegerResult<T> {
        guard pos < end else { return .truncated }
        var negative = false
        if byte(pos) == UInt8(ascii: "-") {
            negative = true
            pos += 1
            guard pos < end else { return .truncated }
        }
        var magnitude: UInt64 = 0
        var digits = 0
        var overflow = false
        while pos < end {
            let d = byte(pos) &- 0x30
            if d > 9 { break }
            let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(d))
            overflow = overflow || o1 || o2
            magnitude = a
            digits += 1
            pos += 1
        }
        guard digits > 0 else { return .notInteger }
        if pos < end {
            let c = byte(pos)
            if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { return .notInteger }
        }
        if overflow { return .outOfRange }
        if negative {
            guard T.isSigned, magnitude <= UInt64(1) << 63 else { return magnitude == 0 ? .value(0) : .outOfRange }
            let v = magnitude == UInt64(1) << 63 ? Int64.min : -Int64(magnitude)
            guard let t = T(exactly: v) else { return .outOfRange }
            return .value(t)
        }
        guard let t = T(exactly: magnitude) else { return .outOfRange }
        return .value(t)
    }

    /// Parses `[int, int, …]` at `pos` into `[T]`.
    mutating func intArray<T: FixedWidthInteger>(_ label: String, as: T.Type, capacity: Int) throws -> [T] {
        try expect(UInt8(ascii: "["), "'[' to open \(label)")
        var out: [T] = []
        out.reserveCapacity(capacity)
        skipWhitespace()
        if try peek() == UInt8(ascii: "]") {
            pos += 1
            return out
        }
        while true {
            skipWhitespace()
            let at = pos
            switch integerResult(as: T.self) {
            case .value(let v): out.append(v)
            case .truncated: throw Failure.truncated
            case .notInteger:
                if pos >= end && end == all.count { throw Failure.truncated }
                throw Failure.malformed(at: at, "\(label)[\(out.count)] is not an integer")
            case .outOfRange:
                throw Failure.malformed(at: at, "\(label)[\(out.count)] is out of range (\(T.min)…\(T.max))")
            }
            // Fast path for the writer's own layout: no white space around commas.
            guard pos < end else { throw Failure.truncated }
            var c = byte(pos)
            if c != UInt8(ascii: ",") && c != UInt8(ascii: "]") {
                skipWhitespace()
                c = try peek()
            }
            pos += 1
            if c == UInt8(ascii: "]") { return out }
            guard c == UInt8(ascii: ",") else {
                throw Failure.malformed(at: pos - 1, "expected ',' or ']' in \(label)")
            }
        }
    }

    /// Parses the `stacks` array at `pos`: `[{"frames": [int, …], "truncated": bool}, …]`.
    mutating func stackTable() throws -> [Stack] {
        skipWhitespace()
        guard try peek() == UInt8(ascii: "[") else { throw Failure.malformed(at: pos, "\"stacks\" is not an array") }
        pos += 1
        var stacks: [Stack] = []
        skipWhitespace()
        if try peek() == UInt8(ascii: "]") {
            pos += 1
            return stacks
        }
        while true {
            let i = stacks.count
            skipWhitespace()
            guard try peek() == UInt8(ascii: "{") else { throw Failure.malformed(at: pos, "stacks[\(i)] is not an object") }
            pos += 1
            var frames: [Int32]?
            var truncated: Bool?
            skipWhitespace()
            if try peek() == UInt8(ascii: "}") {
                pos += 1
            } else {
                while true {
                    skipWhitespace()
                    let nameRange = try string()
                    try expect(UInt8(ascii: ":"), "':'")
                    skipWhitespace()
                    let name = String(decoding: UnsafeRawBufferPointer(rebasing: all[nameRange]), as: UTF8.self)
                    switch name {
                    case "frames" where frames == nil:
                        frames = try intArray("stacks[\(i)].frames", as: Int32.self, capacity: 0)
                    case "truncated" where truncated == nil:
                        let c = try peek()
                        if c == UInt8(ascii: "t") || c == UInt8(ascii: "f") {
                            _ = try value()  // checks the literal
                            truncated = c == UInt8(ascii: "t")
                        } else {
                            throw Failure.malformed(at: pos, "stacks[\(i)].truncated is not true or false")
                        }
                    case "frames", "truncated":
                        throw Failure.malformed(at: nameRange.lowerBound, "stacks[\(i)].\(name) appears twice")
                    default:
                        _ = try value()
                    }
                    skipWhitespace()
                    let c = try peek()
                    pos += 1
                    if c == UInt8(ascii: "}") { break }
                    guard c == UInt8(ascii: ",") else { throw Failure.malformed(at: pos - 1, "expected ',' or '}' in stacks[\(i)]") }
                }
            }
            guard let frames else { throw ProfileError.corrupt("missing \"frames\" at stacks[\(i)]") }
            guard let truncated else { throw ProfileError.corrupt("missing \"truncated\" at stacks[\(i)]") }
            stacks.append(Stack(frames: frames, truncated: truncated))
            skipWhitespace()
            let c = try peek()
            pos += 1
            if c == UInt8(ascii: "]") { return stacks }
            guard c == UInt8(ascii: ",") else { throw Failure.malformed(at: pos - 1, "expected ',' or ']' in \"stacks\"") }
        }
    }

    /// Parses the `samples` object at `pos` (the whole span) into samples.
    mutating func sampleColumns() throws -> [Sample] {
        skipWhitespace()
        guard try peek() == UInt8(ascii: "{") else { throw Failure.malformed(at: pos, "\"samples\" is not an object") }
        pos += 1
        var t: [UInt64]?, pid: [Int32]?, tid: [Int32]?, stack: [Int32]?, wait: [Int32]?
        var state: [UInt8]?, gil: [UInt8]?
        var capacity = 0
        skipWhitespace()
        if try peek() == UInt8(ascii: "}") {
            pos += 1
        } else {
            while true {
                skipWhitespace()
                let nameRange = try string()
                try expect(UInt8(ascii: ":"), "':'")
                skipWhitespace()
                let name = String(decoding: UnsafeRawBufferPointer(rebasing: all[nameRange]), as: UTF8.self)
                func once<T>(_ existing: [T]?) throws {
                    if existing != nil { throw Failure.malformed(at: nameRange.lowerBound, "samples.\(name) appears twice") }
                }
                switch name {
                case "t": try once(t); t = try intArray("samples.\(name)", as: UInt64.self, capacity: capacity); capacity = t!.count
                case "pid": try once(pid); pid = try intArray("samples.\(name)", as: Int32.self, capacity: capacity); capacity = pid!.count
                case "tid": try once(tid); tid = try intArray("samples.\(name)", as: Int32.self, capacity: capacity); capacity = tid!.count
                case "stack": try once(stack); stack = try intArray("samples.\(name)", as: Int32.self, capacity: capacity); capacity = stack!.count
                case "wait": try once(wait); wait = try intArray("samples.\(name)", as: Int32.self, capacity: capacity); capacity = wait!.count
                case "state": try once(state); state = try intArray("samples.\(name)", as: UInt8.self, capacity: capacity); capacity = state!.count
                case "gil": try once(gil); gil = try intArray("samples.\(name)", as: UInt8.self, capacity: capacity); capacity = gil!.count
                default: _ = try value()  // a column a later writer added: ignored
                }
                skipWhitespace()
                let c = try peek()
                pos += 1
                if c == UInt8(ascii: "}") { break }
                guard c == UInt8(ascii: ",") else { throw Failure.malformed(at: pos - 1, "expected ',' or '}' in \"samples\"") }
            }
        }
        for (name, column) in [("t", t == nil), ("pid", pid == nil), ("tid", tid == nil), ("stack", stack == nil),
                               ("state", state == nil), ("wait", wait == nil), ("gil", gil == nil)] where column {
            throw ProfileError.corrupt("missing sample column \"samples.\(name)\"")
        }
        return try Profile.assembleSamples(t: t!, pid: pid!, tid: tid!, stack: stack!, state: state!, wait: wait!, gil: gil!)
    }
}
