import CZlib
import Foundation

/// gzip compression for profile files and pprof output (a pure transform; no I/O).
///
/// Inputs of any size are fed to zlib in pieces (zlib counts in 32-bit `uInt`), so
/// nothing here traps on a file larger than 4 GiB. `Deflater` compresses a stream
/// chunk by chunk, so a writer never needs the whole uncompressed text in memory.
public enum Gzip {
    /// Why zlib refused the data. `reason` reads after "the gzip data …", in one line.
    public struct Failure: Error, CustomStringConvertible, Equatable {
        /// The zlib return code (`Z_DATA_ERROR`, `Z_BUF_ERROR`, …), or -1 when zlib could
        /// not even be initialized.
        public let code: Int32
        /// A one-line reason: "ends early (the file is truncated)", "is damaged (incorrect data check)".
        public let reason: String

        public init(code: Int32, reason: String? = nil) {
            self.code = code
            self.reason = reason ?? "could not be processed (zlib error \(code))"
        }

        public var description: String { "gzip data \(reason)" }
    }

    /// zlib takes at most `uInt.max` bytes per call; we feed it 1 GiB at a time.
    static let maxPiece = 1 << 30
    static let outChunk = 1 << 18

    /// True when the bytes start with the gzip magic number 1f 8b.
    public static func isGzip(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1f && data[data.startIndex + 1] == 0x8b
    }

    /// Compresses `input` into one gzip member.
    public static func compress(_ input: Data, level: Int32 = 6) throws -> Data {
        let deflater = try Deflater(level: level)
        var output = Data()
        try input.withUnsafeBytes { src in
            try deflater.compress(src, finish: true) { output.append(contentsOf: $0) }
        }
        return output
    }

    /// Decompresses gzip (or zlib) data. Concatenated gzip members are decompressed one
    /// after the other, as `gunzip` does. Throws `Failure` when the data is truncated or
    /// damaged, or when bytes that are not gzip follow the last member.
    public static func decompress(_ input: Data) throws -> Data {
        try input.withUnsafeBytes { src in try decompress(src) }
    }

    /// Decompresses gzip data held in memory; see `decompress(_: Data)`.
    public static func decompress(_ src: UnsafeRawBufferPointer) throws -> Data {
        guard let base = src.baseAddress?.assumingMemoryBound(to: Bytef.self), src.count > 0 else {
            throw Failure(code: Z_BUF_ERROR, reason: "is empty")
        }
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deallocate() }
        guard fc_inflate_init_auto(stream) == Z_OK else { throw Failure(code: -1, reason: "could not be read (zlib failed to start)") }
        defer { inflateEnd(stream) }

        // The gzip trailer's ISIZE (size mod 2^32) is a good first guess of the output size.
        var output = Data()
        if src.count >= 18 {
            let t = src.count - 4
            let isize = Int(src[t]) | Int(src[t + 1]) << 8 | Int(src[t + 2]) << 16 | Int(src[t + 3]) << 24
            // A damaged trailer may claim anything: trust it only up to a plausible ratio.
            output.reserveCapacity(min(isize, src.count.multipliedReportingOverflow(by: 100).partialValue, 1 << 30))
        }
        let buffer = UnsafeMutablePointer<Bytef>.allocate(capacity: outChunk)
        defer { buffer.deallocate() }

        var consumed = 0
        var sawEnd = false
        while true {
            if stream.pointee.avail_in == 0 && consumed < src.count {
                let piece = min(maxPiece, src.count - consumed)
                stream.pointee.next_in = UnsafeMutablePointer(mutating: base + consumed)
                stream.pointee.avail_in = uInt(piece)
                consumed += piece
            }
            stream.pointee.next_out = buffer
            stream.pointee.avail_out = uInt(outChunk)
            let r = inflate(stream, Z_NO_FLUSH)
            let produced = outChunk - Int(stream.pointee.avail_out)
            if produced > 0 { output.append(buffer, count: produced) }
            switch r {
            case Z_STREAM_END:
                sawEnd = true
                let rest = Int(stream.pointee.avail_in) + (src.count - consumed)
                if rest == 0 { return output }
                // Another gzip member may follow (as `cat a.gz b.gz` makes); anything else is an error.
                let at = src.count - rest
                guard rest >= 2, src[at] == 0x1f, src[at + 1] == 0x8b else {
                    if src[at...].allSatisfy({ $0 == 0 }) { return output }  // padding from some tools
                    throw Failure(code: Z_DATA_ERROR, reason: "is followed by \(rest) bytes that are not gzip")
                }
                guard inflateReset(stream) == Z_OK else { throw Failure(code: Z_STREAM_ERROR) }
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                // No progress possible: the input ran out before the stream's end.
                if stream.pointee.avail_in == 0 && consumed == src.count {
                    throw Failure(code: r, reason: sawEnd ? "ends in the middle of a second gzip member (the file is truncated)"
                                                         : "ends early (the file is truncated)")
                }
                throw Failure(code: r)
            case Z_DATA_ERROR:
                let msg = stream.pointee.msg.map { String(cString: $0) } ?? "invalid data"
                throw Failure(code: r, reason: "is damaged (\(msg))")
            case Z_MEM_ERROR:
                throw Failure(code: r, reason: "could not be decompressed (out of memory)")
            default:
                throw Failure(code: r)
            }
        }
    }

    /// Streaming gzip compression: feed chunks, receive compressed chunks. One instance
    /// makes one gzip member; call `compress(_:finish: true, …)` exactly once, last.
    public final class Deflater {
        private let stream: UnsafeMutablePointer<z_stream>
        private let buffer: UnsafeMutablePointer<Bytef>
        private var finished = false

        public init(level: Int32 = 6) throws {
            stream = .allocate(capacity: 1)
            stream.initialize(to: z_stream())
            buffer = .allocate(capacity: Gzip.outChunk)
            guard fc_deflate_init_gzip(stream, level) == Z_OK else {
                stream.deallocate()
                buffer.deallocate()
                throw Failure(code: -1, reason: "could not be written (zlib failed to start)")
            }
        }

        deinit {
            deflateEnd(stream)
            stream.deallocate()
            buffer.deallocate()
        }

        /// Compresses `input`, handing each compressed piece to `output` as it is made.
        /// With `finish: true` the gzip trailer is written too.
        public func compress(_ input: UnsafeRawBufferPointer, finish: Bool,
                             output: (UnsafeRawBufferPointer) throws -> Void) throws {
            precondition(!finished, "Gzip.Deflater used after finish")
            var offset = 0
            let base = input.baseAddress?.assumingMemoryBound(to: Bytef.self)
            repeat {
                let piece = min(Gzip.maxPiece, input.count - offset)
                let last = offset + piece == input.count
                stream.pointee.next_in = base.map { UnsafeMutablePointer(mutating: $0 + offset) }
                stream.pointee.avail_in = uInt(piece)
                offset += piece
                let flush = finish && last ? Z_FINISH : Z_NO_FLUSH
                while true {
                    stream.pointee.next_out = buffer
                    stream.pointee.avail_out = uInt(Gzip.outChunk)
                    let r = deflate(stream, flush)
                    guard r == Z_OK || r == Z_STREAM_END || r == Z_BUF_ERROR else { throw Failure(code: r) }
                    let produced = Gzip.outChunk - Int(stream.pointee.avail_out)
                    if produced > 0 { try output(UnsafeRawBufferPointer(start: buffer, count: produced)) }
                    if flush == Z_FINISH {
                        if r == Z_STREAM_END { break }
                    } else if stream.pointee.avail_in == 0 && stream.pointee.avail_out != 0 {
                        break
                    }
                }
            } while offset < input.count
            if finish { finished = true }
        }
    }
}
