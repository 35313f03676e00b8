import Foundation

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
struct ProfileReader {
    let bytes: UnsafeRawBufferPointer

    func read() throws -> Profile {
        var s = JSONScanner(bytes)
        s.skipBOM()
        s.skipWhitespace()
        try Self.checkTopLevelIsAnObject(s)
        // One pass: the sample columns are parsed where they stand (their errors are kept
        // until format and version have been checked).
        var parsedSamples: Result<SampleColumns, Error>?
        let members = try s.catching { try $0.objectMembers(samples: &parsedSamples) }
        // Format and version first, so a future version's other changes cannot hide them.
        let version = try formatVersion(members)
        guard let samplesSpan = members["samples"] else { throw ProfileError.corrupt("missing \"samples\"") }
        guard let stacksSpan = members["stacks"] else { throw ProfileError.corrupt("missing \"stacks\"") }

        let header = try decodeHeader(members, samples: samplesSpan, stacks: stacksSpan)
        if version >= 2 && header.mappings == nil { throw ProfileError.corrupt("missing \"mappings\"") }

        var ss = JSONScanner(bytes, range: stacksSpan)
        let stacks = try ss.catching { try $0.stackTable() }
        var profile = Profile(recording: header.recording, stats: header.stats, processes: header.processes,
                              threads: header.threads, frames: header.frames, mappings: header.mappings ?? [],
                              stacks: stacks, waits: header.waits)
        var cs = JSONScanner(bytes, range: samplesSpan)
        let columns = try cs.catching { scanner in
            if let parsedSamples { return try parsedSamples.get() }
            return try scanner.sampleColumns()
        }
        profile.samples = try Profile.assembleSamples(columns, version: version, threads: profile.threads)
        try profile.resolveFrameModules()
        // Version 1: find each sample's thread row and give frames mapping rows.
        profile.normalize()
        try profile.validate()
        return profile
    }

    /// One line on what the file is when its top level is not a JSON object.
    static func checkTopLevelIsAnObject(_ s: JSONScanner) throws {
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
    }

    /// The format version, once "format" says this is a Forkcast profile and the version is
    /// one this reader reads.
    func formatVersion(_ members: [String: Range<Int>]) throws -> Int {
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
        guard Profile.readableFormatVersions.contains(version) else {
            throw ProfileError.unsupportedVersion(found: version, supported: Profile.currentFormatVersion)
        }
        return version
    }

    /// Everything but the samples and stacks, decoded by JSONDecoder from the bytes with
    /// those two values replaced by null and []; its errors as one line with the path.
    func decodeHeader(_ members: [String: Range<Int>], samples samplesSpan: Range<Int>, stacks stacksSpan: Range<Int>) throws -> ProfileHeader {
        var headerBytes = Data(capacity: bytes.count - samplesSpan.count - stacksSpan.count + 8)
        var copied = 0
        for (span, standIn) in [(samplesSpan, "null"), (stacksSpan, "[]")].sorted(by: { $0.0.lowerBound < $1.0.lowerBound }) {
            headerBytes.append(contentsOf: bytes[copied..<span.lowerBound])
            headerBytes.append(contentsOf: Array(standIn.utf8))
            copied = span.upperBound
        }
        headerBytes.append(contentsOf: bytes[copied...])
        do {
            return try JSONDecoder().decode(ProfileHeader.self, from: headerBytes)
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
            ("mappings", { _ = try JSONDecoder().decode([MappingInfo].self, from: $0) }, { array(MappingInfo.self, $0, $1) }),
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

/// Everything but the samples and stacks (which are read by hand): what JSONDecoder reads.
struct ProfileHeader: Decodable {
    var format: String
    var formatVersion: Int
    var recording: RecordingInfo
    var stats: RecordingStats
    var processes: [ProcessInfo]
    var threads: [ThreadInfo]
    var frames: [Frame]
    /// Required from version 2 on (checked by the reader); version 1 has none.
    var mappings: [MappingInfo]?
    var waits: [WaitInfo]

    enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", recording, stats, processes, threads, frames, mappings, waits
    }
}

// MARK: - The profile's own tables, parsed by hand

extension JSONScanner {
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
            try members(" in stacks[\(i)]") { scanner, name, nameRange in
                switch name {
                case "frames" where frames == nil:
                    frames = try scanner.intArray("stacks[\(i)].frames", as: Int32.self, capacity: 0)
                case "truncated" where truncated == nil:
                    let c = try scanner.peek()
                    if c == UInt8(ascii: "t") || c == UInt8(ascii: "f") {
                        _ = try scanner.value()  // checks the literal
                        truncated = c == UInt8(ascii: "t")
                    } else {
                        throw Failure.malformed(at: scanner.pos, "stacks[\(i)].truncated is not true or false")
                    }
                case "frames", "truncated":
                    throw Failure.malformed(at: nameRange.lowerBound, "stacks[\(i)].\(name) appears twice")
                default:
                    _ = try scanner.value()
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

    /// Parses the `samples` object at `pos` (the whole span) into its columns; which
    /// columns a version needs is checked when they are zipped (`Profile.assembleSamples`).
    mutating func sampleColumns() throws -> SampleColumns {
        skipWhitespace()
        guard try peek() == UInt8(ascii: "{") else { throw Failure.malformed(at: pos, "\"samples\" is not an object") }
        pos += 1
        var t: [UInt64]?, pid: [Int32]?, tid: [Int32]?, thread: [Int32]?, stack: [Int32]?, wait: [Int32]?
        var state: [UInt8]?, gil: [UInt8]?
        var capacity = 0
        try members(" in \"samples\"") { scanner, name, nameRange in
            func column<T: FixedWidthInteger>(_ existing: [T]?) throws -> [T] {
                if existing != nil { throw Failure.malformed(at: nameRange.lowerBound, "samples.\(name) appears twice") }
                let values = try scanner.intArray("samples.\(name)", as: T.self, capacity: capacity)
                capacity = values.count
                return values
            }
            switch name {
            case "t": t = try column(t)
            case "pid": pid = try column(pid)
            case "tid": tid = try column(tid)
            case "thread": thread = try column(thread)
            case "stack": stack = try column(stack)
            case "wait": wait = try column(wait)
            case "state": state = try column(state)
            case "gil": gil = try column(gil)
            default: _ = try scanner.value()  // a column a later writer added: ignored
            }
        }
        for (name, missing) in [("t", t == nil), ("stack", stack == nil), ("state", state == nil), ("wait", wait == nil),
                                ("gil", gil == nil)] where missing {
            throw ProfileError.corrupt("missing sample column \"samples.\(name)\"")
        }
        return SampleColumns(t: t!, pid: pid, tid: tid, thread: thread, stack: stack!, state: state!, wait: wait!, gil: gil!)
    }
}
