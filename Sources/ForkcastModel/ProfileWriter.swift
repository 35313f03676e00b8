import Foundation

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
    ///
    /// Always writes the current format version (2): the profile is `normalized()` first,
    /// so samples are written by thread row and frames by mapping row.
    public func write(gzip: Bool, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try validate()
        try normalized().writeNormalized(gzip: gzip, to: sink)
    }

    private func writeNormalized(gzip: Bool, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        // Every sample has its thread row now, unless its thread is missing (validate()
        // has ruled that out) — checked again so a bad row can never be written.
        if let i = samples.firstIndex(where: { $0.thread < 0 }) {
            throw ProfileError.invalid("sample \(i) is of thread \(samples[i].tid) in process \(samples[i].pid), which is not in the thread table")
        }
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
        // A frame's module is its mapping row's file: written once, in `mappings`.
        let framesJSON = try json(fileFrames), mappingsJSON = try json(mappings), processesJSON = try json(processes), recordingJSON = try json(recording)
        let statsJSON = try json(stats), threadsJSON = try json(threads), waitsJSON = try json(waits)

        let deflater: Gzip.Deflater? = try gzip ? Gzip.Deflater(level: Profile.gzipLevel) : nil
        let chunk = Profile.writeChunkBytes
        // Hands on at most `chunk` bytes at a time (a table can be bigger than a chunk).
        func emit(_ bytes: UnsafeRawBufferPointer) throws {
            var start = 0
            while start < bytes.count {
                let piece = UnsafeRawBufferPointer(rebasing: bytes[start..<min(bytes.count, start + chunk)])
                if let deflater { try deflater.compress(piece, finish: false, output: sink) } else { try sink(piece) }
                start += piece.count
            }
        }
        var w = JSONWriter(capacity: chunk + 64)
        w.raw("{\"format\":\"")
        w.raw(text: Profile.formatName)
        w.raw("\",\"format_version\":")
        w.int(Profile.currentFormatVersion)
        w.raw(",\"frames\":")
        w.raw(framesJSON)
        w.raw(",\"mappings\":")
        w.raw(mappingsJSON)
        w.raw(",\"processes\":")
        w.raw(processesJSON)
        w.raw(",\"recording\":")
        w.raw(recordingJSON)
        try w.drain(over: chunk, to: emit)
        w.raw(",\"stacks\":[")
        for (i, stack) in stacks.enumerated() {
            w.raw(i == 0 ? "{\"frames\":" : ",{\"frames\":")
            w.intArray(stack.frames)
            w.raw(stack.truncated ? ",\"truncated\":true}" : ",\"truncated\":false}")
            try w.drain(over: chunk, to: emit)
        }
        w.raw("],\"stats\":")
        w.raw(statsJSON)
        w.raw(",\"threads\":")
        w.raw(threadsJSON)
        w.raw(",\"waits\":")
        w.raw(waitsJSON)
        w.raw(",\"samples\":{")
        // validate() keeps every time ≤ Int64.max, so it converts exactly.
        try column(&w, "\"t\":[", chunk, emit) { Int64($0.timeNs) }
        try column(&w, ",\"thread\":[", chunk, emit) { Int64($0.thread) }
        try column(&w, ",\"stack\":[", chunk, emit) { Int64($0.stack) }
        try column(&w, ",\"state\":[", chunk, emit) { Int64($0.state.code) }
        try column(&w, ",\"wait\":[", chunk, emit) { Int64($0.wait) }
        try column(&w, ",\"gil\":[", chunk, emit) { Int64(Profile.gilCode($0.holdsGIL)) }
        w.raw("}}\n")
        try w.flush(to: emit)
        if let deflater { try deflater.compress(UnsafeRawBufferPointer(start: nil, count: 0), finish: true, output: sink) }
    }

    /// Bytes the writer collects before handing them on (to the sink or the deflater).
    static let writeChunkBytes = 1 << 18

    /// Writes `opening` (`"name":[` with its leading comma), one value per sample, and
    /// `]`; hands the bytes on whenever a chunk is full.
    @inline(__always)
    private func column(_ w: inout JSONWriter, _ opening: StaticString, _ chunk: Int,
                        _ emit: (UnsafeRawBufferPointer) throws -> Void, _ value: (Sample) -> Int64) throws {
        w.raw(opening)
        try samples.withUnsafeBufferPointer { all in
            for i in all.indices {
                if i > 0 { w.byte(UInt8(ascii: ",")) }
                w.int64(value(all[i]))
                if i & 1023 == 1023 { try w.drain(over: chunk, to: emit) }
            }
        }
        w.raw("]")
        try w.drain(over: chunk, to: emit)
    }
}
