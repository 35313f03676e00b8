import Foundation

/// Finds the separate debug file of a stripped ELF file, the way GDB does:
///
/// 1. by build-id: `<debugdir>/.build-id/<first 2 hex digits>/<rest>.debug` for each debug
///    directory (the file's build-id must match);
/// 2. by `.gnu_debuglink`: `<dir of file>/<name>`, `<dir of file>/.debug/<name>`, then
///    `<debugdir>/<dir of file>/<name>` for each debug directory (the CRC-32 recorded in the
///    link must match the candidate's contents).
///
/// Only candidates that carry a `.symtab` are accepted.
public struct DebugFileLocator: Sendable {
    public let debugDirectories: [String]

    public init(debugDirectories: [String] = ["/usr/lib/debug"]) {
        self.debugDirectories = debugDirectories
    }

    /// The debug file for `file` (read from `path`), or nil when none is installed.
    public func debugFile(for file: ElfFile, path: String) -> ElfFile? {
        if let id = file.buildID, id.count > 2 {
            let prefix = String(id.prefix(2)), rest = String(id.dropFirst(2))
            for dir in debugDirectories {
                let candidate = "\(dir)/.build-id/\(prefix)/\(rest).debug"
                if let debug = try? ElfFile(path: candidate), debug.hasSymtab, debug.buildID == nil || debug.buildID == id {
                    return debug
                }
            }
        }
        if let link = file.debugLink {
            let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
            let dir = (resolved as NSString).deletingLastPathComponent
            var candidates = ["\(dir)/\(link.fileName)", "\(dir)/.debug/\(link.fileName)"]
            candidates += debugDirectories.map { "\($0)\(dir)/\(link.fileName)" }
            for candidate in candidates where candidate != resolved && FileManager.default.fileExists(atPath: candidate) {
                guard let crc = try? CRC32.ofFile(atPath: candidate), crc == link.crc else { continue }
                if let debug = try? ElfFile(path: candidate), debug.hasSymtab { return debug }
            }
        }
        return nil
    }
}

/// CRC-32 (the zlib/ISO-HDLC polynomial, as `.gnu_debuglink` uses).
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var c = ~crc
        table.withUnsafeBufferPointer { t in
            for byte in bytes { c = t[Int((c ^ UInt32(byte)) & 0xff)] ^ (c >> 8) }
        }
        return ~c
    }

    static func ofFile(atPath path: String) throws -> UInt32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ElfError(path: path, message: String(cString: strerror(errno))) }
        defer { close(fd) }
        var crc: UInt32 = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ElfError(path: path, message: String(cString: strerror(errno)))
            }
            if n == 0 { return crc }
            crc = buffer.withUnsafeBytes { update(crc, UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }
}
