import CZlib
import Foundation

/// gzip compression for profile files and pprof output (a pure transform; no I/O).
public enum Gzip {
    public struct Failure: Error, CustomStringConvertible {
        public let code: Int32
        public var description: String { "zlib error \(code)" }
    }

    public static func isGzip(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1f && data[data.startIndex + 1] == 0x8b
    }

    public static func compress(_ input: Data, level: Int32 = 6) throws -> Data {
        var stream = z_stream()
        guard fc_deflate_init_gzip(&stream, level) == Z_OK else { throw Failure(code: -1) }
        defer { deflateEnd(&stream) }
        var output = Data(count: Int(deflateBound(&stream, UInt(input.count))) + 64)
        let produced: Int = try input.withUnsafeBytes { (src: UnsafeRawBufferPointer) in
            try output.withUnsafeMutableBytes { (dst: UnsafeMutableRawBufferPointer) in
                stream.next_in = UnsafeMutablePointer(mutating: src.bindMemory(to: Bytef.self).baseAddress)
                stream.avail_in = uInt(src.count)
                stream.next_out = dst.bindMemory(to: Bytef.self).baseAddress
                stream.avail_out = uInt(dst.count)
                let r = deflate(&stream, Z_FINISH)
                guard r == Z_STREAM_END else { throw Failure(code: r) }
                return dst.count - Int(stream.avail_out)
            }
        }
        output.count = produced
        return output
    }

    public static func decompress(_ input: Data) throws -> Data {
        var stream = z_stream()
        guard fc_inflate_init_auto(&stream) == Z_OK else { throw Failure(code: -1) }
        defer { inflateEnd(&stream) }
        var output = Data()
        let chunk = 1 << 16
        var buffer = [UInt8](repeating: 0, count: chunk)
        try input.withUnsafeBytes { (src: UnsafeRawBufferPointer) in
            stream.next_in = UnsafeMutablePointer(mutating: src.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(src.count)
            while true {
                let r: Int32 = buffer.withUnsafeMutableBytes { dst in
                    stream.next_out = dst.bindMemory(to: Bytef.self).baseAddress
                    stream.avail_out = uInt(chunk)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                output.append(contentsOf: buffer[0..<(chunk - Int(stream.avail_out))])
                if r == Z_STREAM_END { break }
                if r != Z_OK { throw Failure(code: r) }
                if stream.avail_in == 0 && stream.avail_out != 0 { throw Failure(code: Z_BUF_ERROR) }
            }
        }
        return output
    }
}
