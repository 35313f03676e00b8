import ForkcastModel
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension Document {
    /// Reads the file at `path` and decodes it as whichever document it is (gzip and kind
    /// detected, see `Document.decode`). Every failure is one `DocumentError` line naming
    /// the path: "PATH: no such file", "PATH: is a directory, …", "PATH: corrupt profile: …".
    public static func load(path: String) throws(DocumentError) -> Document {
        let data: Data
        do { data = try FileBytes.read(path) } catch {
            switch error.errno {
            case .ENOENT: throw DocumentError(name: path, reason: "no such file")
            case .EISDIR: throw DocumentError(name: path, reason: "is a directory, not a profile or experiment file")
            default: throw DocumentError(name: path, reason: "cannot read the file: \(error.message)")
            }
        }
        return try decode(data, name: path)
    }
}

/// Reading a whole input file.
public enum FileBytes {
    /// The bytes of the file at `path`. Throws `.EISDIR` for a directory, the open or read
    /// errno otherwise (EINTR retried).
    public static func read(_ path: String) throws(SystemError) -> Data {
        guard !path.isEmpty else { throw SystemError("open", .ENOENT) }
        let fd = Errno.retryingEINTR { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw SystemError("open \(path)", .current) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SystemError("fstat \(path)", .current) }
        if st.st_mode & S_IFMT == S_IFDIR { throw SystemError("read \(path)", .EISDIR) }
        var data = Data(count: max(Int(st.st_size), 0))
        var filled = 0
        while true {
            if filled == data.count { data.count += max(1 << 16, data.count / 2) }
            let n = Errno.retryingEINTR { data.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, $0.count - filled) } }
            if n < 0 { throw SystemError("read \(path)", .current) }
            if n == 0 { break }
            filled += n
        }
        data.count = filled
        return data
    }
}
