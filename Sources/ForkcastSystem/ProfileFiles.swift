import ForkcastModel
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why a profile file could not be read or written: one line naming the path and the
/// reason, e.g. `cannot write profile to 'out/p.json': No such file or directory (the
/// directory 'out' does not exist)`.
public struct ProfileFileError: Error, CustomStringConvertible, Equatable {
    public enum Operation: String, Sendable { case read, write }
    public var operation: Operation
    public var path: String
    /// The reason, without the path: an OS error text, or a `ProfileError` description.
    public var reason: String
    /// The OS error number, when the OS refused.
    public var errno: Int32?
    /// The format error, when the bytes were read but are not a valid profile.
    public var profileError: ProfileError?

    public init(_ operation: Operation, path: String, reason: String, errno: Int32? = nil, profileError: ProfileError? = nil) {
        self.operation = operation
        self.path = path
        self.reason = reason
        self.errno = errno
        self.profileError = profileError
    }

    public var description: String {
        switch operation {
        case .read: "cannot read profile '\(path)': \(reason)"
        case .write: "cannot write profile to '\(path)': \(reason)"
        }
    }
}

/// Reading and writing profile files: the I/O around `Profile.decode(_:)` and
/// `Profile.write(gzip:to:)`. A name ending in `.gz` is written gzip-compressed; reading
/// detects gzip by content. Writes are atomic (a temporary file in the same directory,
/// renamed over the target), so an interrupted write never leaves half a profile.
public enum ProfileFiles {
    /// Reads and validates the profile at `path`.
    public static func read(path: String) throws -> Profile {
        let data = try readAll(path)
        do { return try Profile.decode(data) } catch let error as ProfileError {
            throw ProfileFileError(.read, path: path, reason: error.description, profileError: error)
        }
    }

    /// Writes `profile` to `path` (gzip when the name ends in `.gz`), replacing any file
    /// there, through `AtomicFile`. Validates first: an invalid profile is not written.
    public static func write(_ profile: Profile, to path: String) throws {
        try checkWritable(path: path)
        do {
            try AtomicFile.write(to: path) { sink in try profile.write(gzip: path.hasSuffix(".gz"), to: sink) }
        } catch let error as ProfileError {
            throw ProfileFileError(.write, path: path, reason: error.description, profileError: error)
        } catch let error as AtomicFile.WriteError {
            throw ProfileFileError(.write, path: path, reason: error.reason, errno: error.errno.rawValue)
        }
    }

    /// Checks, without writing anything at `path`, that a profile can be written there:
    /// the directory exists, is a directory and accepts new files, and `path` is not a
    /// directory. `forkcast record` calls this before it starts the target, so a bad `-o`
    /// is reported before any work is done. Does not create directories.
    public static func checkWritable(path: String) throws {
        do { try AtomicFile.checkWritable(path) } catch {
            throw ProfileFileError(.write, path: path, reason: error.reason, errno: error.errno.rawValue)
        }
    }

    // MARK: - Helpers

    private static func readAll(_ path: String) throws -> Data {
        guard !path.isEmpty else { throw ProfileFileError(.read, path: path, reason: "the path is empty") }
        let fd = try retrying { open(path, O_RDONLY | O_CLOEXEC) }.orThrow(.read, path)
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw osError(.read, path, Glibc.errno) }
        if st.st_mode & S_IFMT == S_IFDIR { throw osError(.read, path, EISDIR) }
        var data = Data(count: max(Int(st.st_size), 0))
        var filled = 0
        while true {
            if filled == data.count { data.count += max(1 << 16, data.count / 2) }
            let n = data.withUnsafeMutableBytes { raw in
                Glibc.read(fd, raw.baseAddress! + filled, raw.count - filled)
            }
            if n < 0 {
                if Glibc.errno == EINTR { continue }
                throw osError(.read, path, Glibc.errno)
            }
            if n == 0 { break }
            filled += n
        }
        data.count = filled
        return data
    }

    private static func retrying(_ call: () -> Int32) -> Int32 {
        while true {
            let r = call()
            if r >= 0 || Glibc.errno != EINTR { return r }
        }
    }

    static func osError(_ op: ProfileFileError.Operation, _ path: String, _ code: Int32, hint: String? = nil) -> ProfileFileError {
        let text = String(cString: strerror(code))
        return ProfileFileError(op, path: path, reason: hint.map { "\(text) (\($0))" } ?? text, errno: code)
    }
}

private extension Int32 {
    /// A file descriptor, or the error that kept it from being opened.
    func orThrow(_ op: ProfileFileError.Operation, _ path: String) throws -> Int32 {
        guard self >= 0 else {
            let e = Glibc.errno
            var hint: String?
            if e == ENOENT, op == .write {
                let dir = (path as NSString).deletingLastPathComponent
                hint = "the directory '\(dir.isEmpty ? "." : dir)' does not exist"
            }
            throw ProfileFiles.osError(op, path, e, hint: hint)
        }
        return self
    }
}
