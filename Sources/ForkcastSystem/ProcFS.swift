import Foundation
import ForkcastModel

/// Fields of /proc/PID/task/TID/stat that the sampler uses.
public struct TaskStat: Equatable, Sendable {
    /// R, S, D, T, t, Z, X, I …
    public var state: UInt8
    public var comm: String
    public var ppid: Int32
    public var utimeTicks: UInt64
    public var stimeTicks: UInt64
    /// Start time after boot, clock ticks.
    public var startTicks: UInt64
    public var processor: Int32
}

/// /proc/TID/schedstat: time on CPU, time waiting on a run queue, timeslices.
public struct SchedStat: Equatable, Sendable {
    public var runNs: UInt64
    public var waitNs: UInt64
    public var slices: UInt64

    public init(runNs: UInt64, waitNs: UInt64, slices: UInt64) {
        self.runNs = runNs
        self.waitNs = waitNs
        self.slices = slices
    }
}

/// /proc/TID/syscall: what a thread is blocked in.
public enum SyscallState: Equatable, Sendable {
    /// The thread is running (no blocking syscall to report).
    case running
    /// Blocked, but not inside a system call (e.g. a page fault).
    case blockedOutsideSyscall(sp: UInt64, pc: UInt64)
    case inSyscall(number: Int, args: [UInt64], sp: UInt64, pc: UInt64)
}

/// Parsers of /proc text; pure functions, tolerant of odd content (comm names with
/// spaces and parentheses).
public enum ProcParse {
    // Text entry points for tests and one-off reads; the tick path parses bytes
    // directly (ProcBytes.swift) — one implementation either way.
    public static func stat(_ text: Substring) -> TaskStat? { withBytes(text, stat(bytes:)) }
    public static func statState(_ text: Substring) -> UInt8? { withBytes(text, statState(bytes:)) }
    public static func schedstat(_ text: Substring) -> SchedStat? { withBytes(text, schedstat(bytes:)) }
    public static func syscall(_ text: Substring) -> SyscallState? { withBytes(text, syscall(bytes:)) }

    private static func withBytes<R>(_ text: Substring, _ parse: (UnsafeBufferPointer<UInt8>) -> R?) -> R? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer(parse)
    }

    /// "Tgid:\t123" style fields of /proc/PID/status.
    public static func statusField(_ text: String, _ name: String) -> String? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            return line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }
}

/// Open /proc files of one thread, re-read with pread so a tick costs no open/close.
public final class TaskFiles {
    public let pid: Int32
    public let tid: Int32
    private var statFD: Int32
    private var schedFD: Int32
    private var syscallFD: Int32
    private var buffer = [UInt8](repeating: 0, count: 4096)

    public init(pid: Int32, tid: Int32) throws {
        self.pid = pid
        self.tid = tid
        let base = "/proc/\(pid)/task/\(tid)/"
        statFD = open(base + "stat", O_RDONLY | O_CLOEXEC)
        if statFD < 0 { throw SystemError("open \(base)stat", errno) }
        schedFD = open(base + "schedstat", O_RDONLY | O_CLOEXEC)
        syscallFD = open(base + "syscall", O_RDONLY | O_CLOEXEC)
    }

    deinit { close() }

    public func close() {
        for fd in [statFD, schedFD, syscallFD] where fd >= 0 { Glibc.close(fd) }
        statFD = -1
        schedFD = -1
        syscallFD = -1
    }

    private func readBytes<R>(_ fd: Int32, _ parse: (UnsafeBufferPointer<UInt8>) -> R?) -> R? {
        guard fd >= 0 else { return nil }
        return buffer.withUnsafeMutableBufferPointer { buf -> R? in
            let n = pread(fd, buf.baseAddress, buf.count, 0)
            guard n > 0 else { return nil }
            return parse(UnsafeBufferPointer(rebasing: buf[0..<n]))
        }
    }

    public func stat() -> TaskStat? { readBytes(statFD, ProcParse.stat(bytes:)) }
    public func schedstat() -> SchedStat? { readBytes(schedFD, ProcParse.schedstat(bytes:)) }
    public func syscall() -> SyscallState? { readBytes(syscallFD, ProcParse.syscall(bytes:)) }

    /// /proc/TID/syscall parsed, with the line as read: kept so that a later tick can
    /// check the thread still sleeps in the same call (`syscallLineIs`).
    public func syscallWithLine() -> (state: SyscallState, line: [UInt8])? {
        readBytes(syscallFD) { b in ProcParse.syscall(bytes: b).map { ($0, Array(b)) } }
    }

    /// Whether /proc/TID/syscall reads exactly `line` now, byte for byte, without parsing.
    /// The kernel prints the call only while the thread is off CPU and not runnable (a
    /// woken thread reads "running"), so a match means the thread sleeps, now, in the
    /// same system call with the same arguments, stack pointer and pc. (One read, about
    /// 40 % cheaper in the kernel than /proc/TID/stat's ~50 numbers: benchmarks/rate/.)
    public func syscallLineIs(_ line: [UInt8]) -> Bool {
        guard syscallFD >= 0, !line.isEmpty else { return false }
        return buffer.withUnsafeMutableBytes { buf -> Bool in
            let n = pread(syscallFD, buf.baseAddress, buf.count, 0)
            guard n == line.count else { return false }
            return line.withUnsafeBytes { memcmp($0.baseAddress!, buf.baseAddress!, n) == 0 }  // both non-empty
        }
    }
}

/// Reads of /proc that are not on the per-tick path.
public enum ProcFS {
    public static func readText(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var data = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            data.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: data, as: UTF8.self)
    }

    public static func exists(pid: Int32) -> Bool {
        access("/proc/\(pid)", F_OK) == 0
    }

    /// argv from /proc/PID/cmdline (NUL-separated).
    public static func commandLine(pid: Int32) -> [String] {
        guard let text = readText("/proc/\(pid)/cmdline") else { return [] }
        return text.split(separator: "\0", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
    }

    public static func readLink(_ path: String) -> String? {
        var buf = [CChar](repeating: 0, count: 4097)
        let n = readlink(path, &buf, 4096)
        guard n >= 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func executable(pid: Int32) -> String {
        readLink("/proc/\(pid)/exe") ?? ""
    }

    public static func threadIDs(pid: Int32) -> [Int32] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { return [] }
        return names.compactMap { Int32($0) }.sorted()
    }

    public static func allPIDs() -> [Int32] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return names.compactMap { Int32($0) }
    }

    /// (tgid, ppid) of a thread, from /proc/TID/status.
    public static func ids(tid: Int32) -> (tgid: Int32, ppid: Int32)? {
        guard let text = readText("/proc/\(tid)/status"),
              let tgid = ProcParse.statusField(text, "Tgid").flatMap({ Int32($0) }),
              let ppid = ProcParse.statusField(text, "PPid").flatMap({ Int32($0) }) else { return nil }
        return (tgid, ppid)
    }

    public static func threadName(pid: Int32, tid: Int32) -> String? {
        readText("/proc/\(pid)/task/\(tid)/comm")?.trimmingCharacters(in: .newlines)
    }

    public static var onlineCores: Int {
        let n = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        return n > 0 ? n : 1
    }

    public static var kernelRelease: String {
        readText("/proc/sys/kernel/osrelease")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }

    public static var hostname: String {
        readText("/proc/sys/kernel/hostname")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }

    /// ptrace_scope (Yama), or nil when Yama is absent.
    public static var ptraceScope: Int? {
        readText("/proc/sys/kernel/yama/ptrace_scope").flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}

/// Describes file descriptors: their kind and, where the kernel reveals it, the peer
/// address or path. Socket peers are looked up in /proc/PID/net/{tcp,tcp6,udp,udp6,unix}
/// once per socket inode; a TCP socket in the LISTEN state (0A) or a unix socket with
/// `__SO_ACCEPTCON` is a listening socket. Event sources (`anon_inode:[eventfd]`,
/// `[signalfd]`, `[timerfd]`, `[eventpoll]`) get their own kinds: a wait on them is a wait
/// for events, not for data.
public final class FDDescriber {
    private var socketPeers: [UInt64: (text: String, listening: Bool)] = [:]

    public init() {}

    public func describe(pid: Int32, fd: Int32) -> (kind: FDKind, target: String?) {
        guard fd >= 0, let link = ProcFS.readLink("/proc/\(pid)/fd/\(fd)") else { return (.other, nil) }
        return classify(link: link, pid: pid)
    }

    public func classify(link: String, pid: Int32) -> (kind: FDKind, target: String?) {
        if link.hasPrefix("socket:[") {
            let inode = UInt64(link.dropFirst(8).dropLast()) ?? 0
            guard let p = peer(pid: pid, inode: inode) else { return (.socket, link) }
            return (p.listening ? .listeningSocket : .socket, p.text)
        }
        if link.hasPrefix("pipe:[") { return (.pipe, link) }
        if let kind = Self.anonInodeKinds[link] { return (kind, link) }
        if link.hasPrefix("/dev/pts/") || link.hasPrefix("/dev/tty") || link == "/dev/console" { return (.tty, link) }
        if link.hasPrefix("/") { return (.file, link) }
        return (.other, link)
    }

    static let anonInodeKinds: [String: FDKind] = [
        "anon_inode:[eventfd]": .eventfd, "anon_inode:[signalfd]": .signalfd, "anon_inode:[timerfd]": .timerfd,
        "anon_inode:[eventpoll]": .epoll,
    ]

    private func peer(pid: Int32, inode: UInt64) -> (text: String, listening: Bool)? {
        if let known = socketPeers[inode] { return known }
        for (file, family) in [("tcp", 4), ("tcp6", 6), ("udp", 4), ("udp6", 6)] {
            guard let text = ProcFS.readText("/proc/\(pid)/net/\(file)") else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let f = line.split(separator: " ", omittingEmptySubsequences: true)
                guard f.count > 9, UInt64(f[9]) == inode else { continue }
                let local = Self.address(f[1], family: family) ?? "?"
                let remote = Self.address(f[2], family: family) ?? "?"
                let proto = file.hasPrefix("tcp") ? "tcp" : "udp"
                // State 0A is TCP_LISTEN.
                let listening = proto == "tcp" && f[3] == "0A"
                let text = listening || (remote.hasSuffix(":0") && (remote.hasPrefix("0.0.0.0") || remote.hasPrefix("[::]")))
                    ? "\(proto) listening on \(local)" : "\(proto) \(local) -> \(remote)"
                socketPeers[inode] = (text, listening)
                return (text, listening)
            }
        }
        if let text = ProcFS.readText("/proc/\(pid)/net/unix") {
            for line in text.split(separator: "\n").dropFirst() {
                let f = line.split(separator: " ", omittingEmptySubsequences: true)
                guard f.count > 6, UInt64(f[6]) == inode else { continue }
                // Flags (hex) with __SO_ACCEPTCON (0x10000): a listening socket.
                let listening = (UInt32(f[3], radix: 16) ?? 0) & 0x10000 != 0
                let result = (f.count > 7 ? "unix \(f[7])" : "unix socket") + (listening ? " (listening)" : "")
                socketPeers[inode] = (result, listening)
                return (result, listening)
            }
        }
        return nil
    }

    /// "0100007F:1F90" → "127.0.0.1:8080"; IPv6 as "[::1]:8080".
    public static func address(_ field: Substring, family: Int) -> String? {
        let parts = field.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1], radix: 16) else { return nil }
        let hex = Array(parts[0].utf8)
        if family == 4, hex.count == 8, let v = UInt32(String(parts[0]), radix: 16) {
            return "\(v & 0xff).\((v >> 8) & 0xff).\((v >> 16) & 0xff).\(v >> 24):\(port)"
        }
        guard hex.count == 32 else { return nil }
        // Four little-endian 32-bit words.
        var bytes: [UInt8] = []
        for w in 0..<4 {
            let start = parts[0].index(parts[0].startIndex, offsetBy: w * 8)
            let end = parts[0].index(start, offsetBy: 8)
            guard let v = UInt32(parts[0][start..<end], radix: 16) else { return nil }
            bytes += [UInt8(v & 0xff), UInt8((v >> 8) & 0xff), UInt8((v >> 16) & 0xff), UInt8(v >> 24)]
        }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
            return "\(bytes[12]).\(bytes[13]).\(bytes[14]).\(bytes[15]):\(port)"
        }
        var groups: [String] = []
        for i in stride(from: 0, to: 16, by: 2) { groups.append(String(UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1]), radix: 16)) }
        let text = groups.joined(separator: ":").replacingOccurrences(of: "0:0:0:0:0:0:0:1", with: "::1")
            .replacingOccurrences(of: "0:0:0:0:0:0:0:0", with: "::")
        return "[\(text)]:\(port)"
    }
}
