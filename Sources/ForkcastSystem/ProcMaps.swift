import Foundation

/// One line of `/proc/PID/maps`: a range of the address space and what backs it.
public struct MemoryMapping: Sendable, Equatable, Hashable {
    /// First address of the range.
    public var start: UInt64
    /// One past the last address of the range.
    public var end: UInt64
    /// Offset in the backing file of the byte mapped at `start`.
    public var offset: UInt64
    /// The four permission characters, e.g. `r-xp`.
    public var permissions: String
    /// The backing file's inode; 0 for anonymous and special mappings.
    public var inode: UInt64
    /// The backing file's path without the kernel's ` (deleted)` suffix; "" for anonymous
    /// memory; special mappings keep their bracketed names (`[vdso]`, `[stack]`, `[heap]`).
    public var path: String
    /// True when the kernel marked the file ` (deleted)` (replaced or removed since it was
    /// mapped): the file at `path`, if any, is not the one that is mapped.
    public var isDeleted: Bool

    public init(start: UInt64, end: UInt64, offset: UInt64 = 0, permissions: String = "r-xp",
                inode: UInt64 = 0, path: String, isDeleted: Bool = false) {
        self.start = start
        self.end = end
        self.offset = offset
        self.permissions = permissions
        self.inode = inode
        self.path = path
        self.isDeleted = isDeleted
    }

    /// True when the range may hold code (`x` permission).
    public var isExecutable: Bool { permissions.utf8.dropFirst(2).first == UInt8(ascii: "x") }
    /// True for kernel-provided pseudo mappings such as `[vdso]`, `[stack]`, `[heap]`.
    public var isSpecial: Bool { path.hasPrefix("[") }
    /// True when a regular file backs the range (neither anonymous nor special).
    public var isFileBacked: Bool { !path.isEmpty && !isSpecial }
    public func contains(_ address: UInt64) -> Bool { address >= start && address < end }
}

/// Reading and parsing `/proc/PID/maps`.
public enum ProcMaps {
    /// A failure to read a process's maps; `code` is the errno (ENOENT or ESRCH for a process
    /// that does not exist or has exited, EACCES/EPERM when not permitted).
    public struct ReadError: Error, CustomStringConvertible, Equatable, Sendable {
        public let path: String
        public let code: Int32
        public init(path: String, code: Int32) {
            self.path = path
            self.code = code
        }
        public var isNoSuchProcess: Bool { code == ESRCH || code == ENOENT }
        public var description: String { "cannot read \(path): \(String(cString: strerror(code)))" }
    }

    /// Reads the current maps of `pid`. Throws `ReadError` (with the errno) when the process
    /// does not exist or cannot be read. A zombie yields an empty list.
    public static func read(pid: Int32) throws -> [MemoryMapping] {
        let path = "/proc/\(pid)/maps"
        return parse(try readProcFile(path))
    }

    /// Reads a whole /proc file (their reported size is 0, so read until EOF). EINTR is retried.
    static func readProcFile(_ path: String) throws -> String {
        var fd: Int32
        repeat { fd = open(path, O_RDONLY | O_CLOEXEC) } while fd < 0 && errno == EINTR
        if fd < 0 { throw ReadError(path: path, code: errno) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadError(path: path, code: errno)
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses the text of a maps file. Tolerant: malformed lines are skipped; paths may
    /// contain spaces; a trailing ` (deleted)` is removed from the path and noted in
    /// `isDeleted`.
    public static func parse(_ text: String) -> [MemoryMapping] {
        var result: [MemoryMapping] = []
        for line in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            if let mapping = parseLine(line) { result.append(mapping) }
        }
        return result
    }

    private static let space = UInt8(ascii: " ")

    /// `start-end perms offset dev inode [spaces path]`
    static func parseLine(_ line: Substring.UTF8View) -> MemoryMapping? {
        var rest = line[...]
        func field() -> Substring.UTF8View? {
            while rest.first == space { rest = rest.dropFirst() }
            guard let idx = rest.firstIndex(of: space) ?? (rest.isEmpty ? nil : rest.endIndex) else { return nil }
            let f = rest[rest.startIndex..<idx]
            rest = rest[idx...]
            return f
        }
        guard let range = field(), let perms = field(), let offsetField = field(),
              let dev = field(), let inodeField = field() else { return nil }
        guard let dash = range.firstIndex(of: UInt8(ascii: "-")),
              let start = hex(range[range.startIndex..<dash]),
              let end = hex(range[range.index(after: dash)...]), end >= start,
              perms.count == 4, let offset = hex(offsetField),
              dev.contains(UInt8(ascii: ":")),
              let inode = UInt64(Substring(inodeField)) else { return nil }
        while rest.first == space { rest = rest.dropFirst() }
        var path = String(Substring(rest))
        // The kernel writes a newline in a path as the four characters `\012` (the only
        // character it escapes there); turn it back so the file can be opened.
        // (Checked on the bytes first: Foundation's String.contains was 7% of the tracer's
        // CPU when a shell script forked hundreds of processes.)
        if rest.contains(UInt8(ascii: "\\")), path.contains("\\012") { path = path.replacingOccurrences(of: "\\012", with: "\n") }
        var deleted = false
        if path.hasSuffix(" (deleted)") {
            path.removeLast(" (deleted)".count)
            deleted = true
        }
        return MemoryMapping(start: start, end: end, offset: offset, permissions: String(Substring(perms)),
                             inode: inode, path: path, isDeleted: deleted)
    }

    private static func hex(_ s: Substring.UTF8View) -> UInt64? {
        guard !s.isEmpty, s.count <= 16 else { return nil }
        var value: UInt64 = 0
        for c in s {
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt64(digit)
        }
        return value
    }
}

/// A process's mappings sorted by address, for finding the mapping of an address in
/// O(log n). Overlapping input (which the kernel never produces) keeps the first of each
/// overlapping pair.
public struct AddressSpaceMap: Sendable, Equatable {
    public let mappings: [MemoryMapping]

    public init(_ mappings: [MemoryMapping]) {
        var sorted = mappings.filter { $0.end > $0.start }.sorted { $0.start < $1.start }
        var kept: [MemoryMapping] = []
        kept.reserveCapacity(sorted.count)
        for m in sorted where kept.last.map({ m.start >= $0.end }) ?? true { kept.append(m) }
        sorted = kept
        self.mappings = sorted
    }

    /// The mapping whose range holds `address`, or nil.
    public func mapping(containing address: UInt64) -> MemoryMapping? {
        index(containing: address).map { mappings[$0] }
    }

    /// The index in `mappings` of the mapping holding `address`, or nil.
    public func index(containing address: UInt64) -> Int? {
        var low = 0, high = mappings.count  // first index with start > address
        while low < high {
            let mid = (low + high) / 2
            if mappings[mid].start <= address { low = mid + 1 } else { high = mid }
        }
        guard low > 0, address < mappings[low - 1].end else { return nil }
        return low - 1
    }

    /// All mappings of the file at `path`, in address order.
    public func mappings(ofFile path: String) -> [MemoryMapping] { mappings.filter { $0.path == path } }
}
