import CForkcastSys
import Glibc

/// The remote unwinder of one process (one address space). Not thread-safe: used only
/// from the tracer thread.
public final class Unwinder {
    public struct Result {
        /// Program counters, leaf first.
        public var pcs: [UInt64]
        public var complete: Bool
        public var truncated: Bool
        public var failed: Bool

        public init(pcs: [UInt64], complete: Bool, truncated: Bool, failed: Bool) {
            self.pcs = pcs
            self.complete = complete
            self.truncated = truncated
            self.failed = failed
        }
    }

    private var handle: OpaquePointer?
    private var buffer: [UInt64]
    public let maxFrames: Int

    public init?(pid: Int32, maxFrames: Int = 256) {
        guard let h = fc_unwinder_create(pid) else { return nil }
        handle = h
        self.maxFrames = maxFrames
        buffer = [UInt64](repeating: 0, count: maxFrames)
    }

    deinit { fc_unwinder_destroy(handle) }

    /// Drops cached unwind info (after exec, or when mappings changed).
    public func flush() { fc_unwinder_flush(handle) }

    /// Unwinds a thread in a ptrace stop.
    public func unwindStopped(tid: Int32) -> Result {
        var flags: Int32 = 0
        let n = buffer.withUnsafeMutableBufferPointer { fc_unwind_stopped(handle, tid, $0.baseAddress, Int32(maxFrames), &flags) }
        return result(n, flags)
    }

    /// Unwinds a thread blocked in a system call, without stopping it.
    public func unwindBlocked(tid: Int32, pc: UInt64, sp: UInt64) -> Result {
        var flags: Int32 = 0
        let n = buffer.withUnsafeMutableBufferPointer { fc_unwind_blocked(handle, tid, pc, sp, $0.baseAddress, Int32(maxFrames), &flags) }
        return result(n, flags)
    }

    private func result(_ n: Int32, _ flags: Int32) -> Result {
        Result(pcs: Array(buffer[0..<Int(max(0, n))]),
               complete: flags & Int32(FC_UNWIND_COMPLETE) != 0,
               truncated: flags & Int32(FC_UNWIND_TRUNCATED) != 0,
               failed: flags & Int32(FC_UNWIND_ERROR | FC_UNWIND_NO_REGS) != 0)
    }
}

/// Launching a program stopped before its first instruction, for PTRACE_SEIZE.
public enum Launcher {
    /// Forks a child that stops itself; returns its pid and a descriptor that reports a
    /// failed exec (`execError(fd)`).
    public static func spawnStopped(executable: String, arguments: [String], environment: [String],
                                    workingDirectory: String? = nil, standardOutput: Int32 = -1,
                                    standardError: Int32 = -1) throws -> (pid: Int32, execErrorFD: Int32) {
        var fd: Int32 = -1
        let pid = withCStrings(arguments) { argv in
            withCStrings(environment) { envp in
                if let workingDirectory {
                    return fc_spawn_stopped(executable, argv, envp, workingDirectory, standardOutput, standardError, &fd)
                }
                return fc_spawn_stopped(executable, argv, envp, nil, standardOutput, standardError, &fd)
            }
        }
        if pid < 0 { throw SystemError("fork", negated: pid) }
        return (pid, fd)
    }

    /// The errno of a failed exec, or nil once exec succeeded (blocks until one of the two).
    public static func execError(_ fd: Int32) -> SystemError? {
        let e = fc_read_exec_error(fd)
        return e == 0 ? nil : SystemError("exec", e)
    }

    public static func kill(_ pid: Int32, _ signal: Int32) -> Bool { fc_kill(pid, signal) == 0 }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for p in pointers { free(p) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

/// Reads another process's memory with process_vm_readv.
public enum RemoteMemory {
    public static func read(pid: Int32, address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var r: Int64
        repeat {
            r = fc_read_memory(pid, address, buffer.baseAddress, UInt64(buffer.count))
        } while r == -Int64(EINTR)
        if r < 0 { throw SystemError("process_vm_readv(\(pid), 0x\(String(address, radix: 16)))", Int32(-r)) }
        return Int(r)
    }
}
