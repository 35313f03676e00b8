import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writing an output file so that a reader never sees half of it and a crash never leaves
/// a truncated one: the bytes go to a temporary file in the same directory, which is
/// fsynced and renamed over the target, and the directory is fsynced so the rename itself
/// survives a power cut. A failed write leaves any old file at the path untouched and no
/// temporary behind. Writing through a symlink replaces the file it points to.
///
/// Every file forkcast writes (profiles, analyses, experiment results and their profiles,
/// reports, exports, generated Python) goes through here.
public enum AtomicFile {
    /// Why a file could not be written: the path, the errno and, for the common cases, a
    /// hint ("the directory 'out' does not exist").
    public struct WriteError: Error, CustomStringConvertible, Equatable, Sendable {
        public var path: String
        public var errno: Errno
        public var hint: String?

        public init(path: String, errno: Errno, hint: String? = nil) {
            self.path = path
            self.errno = errno
            self.hint = hint
        }

        /// The reason without the path: "No such file or directory (the directory 'out'
        /// does not exist)".
        public var reason: String { hint.map { "\(errno.message) (\($0))" } ?? errno.message }
        public var description: String { "cannot write '\(path)': \(reason)" }
    }

    /// Writes `data` to `path`, replacing any file there.
    public static func write(_ data: Data, to path: String, permissions: mode_t = 0o644) throws(WriteError) {
        do {
            try write(to: path, permissions: permissions) { sink in
                try data.withUnsafeBytes { try sink($0) }
            }
        } catch let error as WriteError {
            throw error
        } catch {
            fatalError("unreachable: the body only throws WriteError")
        }
    }

    /// Writes `string` as UTF-8.
    public static func write(_ string: String, to path: String, permissions: mode_t = 0o644) throws(WriteError) {
        try write(Data(string.utf8), to: path, permissions: permissions)
    }

    /// Streams a file: `body` calls `sink` with each chunk. An error thrown by `body`
    /// (e.g. the encoder's) removes the temporary file and is rethrown unchanged; an OS
    /// failure throws `WriteError`.
    public static func write(to path: String, permissions: mode_t = 0o644,
                             _ body: (_ sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        guard !path.isEmpty else { throw WriteError(path: path, errno: .ENOENT, hint: "the path is empty") }
        let target = resolvedTarget(path)
        let dir = (target as NSString).deletingLastPathComponent
        let dirPath = dir.isEmpty ? "." : dir
        let temp = (dir.isEmpty ? "" : dir + "/") + ".\((target as NSString).lastPathComponent).\(getpid()).tmp"
        var st = stat()
        if stat(target, &st) == 0, st.st_mode & S_IFMT == S_IFDIR { throw WriteError(path: path, errno: .EISDIR) }
        let fd = Errno.retryingEINTR { open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, permissions) }
        guard fd >= 0 else { throw failure(path, .current, directory: dirPath) }
        var isOpen = true
        do {
            try body { chunk in try writeAll(fd, chunk, path: path) }
            if fsync(fd) != 0, Glibc.errno != Glibc.EINVAL { throw WriteError(path: path, errno: .current) }
            isOpen = false
            if close(fd) != 0 { throw WriteError(path: path, errno: .current) }
            if rename(temp, target) != 0 { throw WriteError(path: path, errno: .current) }
        } catch {
            if isOpen { _ = close(fd) }
            unlink(temp)
            throw error
        }
        syncDirectory(dirPath)
    }

    /// Checks, without writing anything at `path`, that a file can be written there: the
    /// directory exists, is a directory and accepts new files, and `path` is not a
    /// directory. Does not create directories.
    public static func checkWritable(_ path: String) throws(WriteError) {
        guard !path.isEmpty else { throw WriteError(path: path, errno: .ENOENT, hint: "the path is empty") }
        let target = resolvedTarget(path)
        var st = stat()
        if stat(target, &st) == 0 {
            if st.st_mode & S_IFMT == S_IFDIR { throw WriteError(path: path, errno: .EISDIR) }
        } else if Glibc.errno != Glibc.ENOENT {
            throw WriteError(path: path, errno: .current)
        }
        let dir = (target as NSString).deletingLastPathComponent
        let dirPath = dir.isEmpty ? "." : dir
        guard stat(dirPath, &st) == 0 else { throw failure(path, .current, directory: dirPath) }
        guard st.st_mode & S_IFMT == S_IFDIR else {
            throw WriteError(path: path, errno: .ENOTDIR, hint: "'\(dirPath)' is not a directory")
        }
        // Creating a file is the only reliable test (root ignores modes; read-only mounts).
        let probe = dirPath + "/.forkcast-write-test.\(getpid())"
        let fd = Errno.retryingEINTR { open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
        guard fd >= 0 else { throw failure(path, .current, directory: dirPath) }
        close(fd)
        unlink(probe)
    }

    // MARK: - Helpers

    private static func failure(_ path: String, _ errno: Errno, directory: String) -> WriteError {
        switch errno {
        case .ENOENT: WriteError(path: path, errno: errno, hint: "the directory '\(directory)' does not exist")
        case .EACCES: WriteError(path: path, errno: errno, hint: "the directory '\(directory)' is not writable")
        case .ENOTDIR: WriteError(path: path, errno: errno, hint: "'\(directory)' is not a directory")
        default: WriteError(path: path, errno: errno)
        }
    }

    /// Writing through a symlink replaces the file it points to, not the link.
    private static func resolvedTarget(_ path: String) -> String {
        var st = stat()
        guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFLNK, let real = realpath(path, nil) else { return path }
        defer { free(real) }
        return String(cString: real)
    }

    private static func writeAll(_ fd: Int32, _ chunk: UnsafeRawBufferPointer, path: String) throws(WriteError) {
        guard let base = chunk.baseAddress else { return }
        var done = 0
        while done < chunk.count {
            let n = Errno.retryingEINTR { Glibc.write(fd, base + done, chunk.count - done) }
            if n < 0 { throw WriteError(path: path, errno: .current) }
            done += n
        }
    }

    /// fsync of the directory, so the rename is on disk; file systems that cannot
    /// (EINVAL) are fine.
    private static func syncDirectory(_ dir: String) {
        let fd = Errno.retryingEINTR { open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}
