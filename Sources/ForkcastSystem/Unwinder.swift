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
        /// A blocked unwind stopped because a step needed a register that
        /// /proc/TID/syscall does not give (rbp of a frame-pointer caller): the thread
        /// must be stopped and unwound with all its registers.
        public var needsRegisters: Bool

        public init(pcs: [UInt64], complete: Bool, truncated: Bool, failed: Bool, needsRegisters: Bool = false) {
            self.pcs = pcs
            self.complete = complete
            self.truncated = truncated
            self.failed = failed
            self.needsRegisters = needsRegisters
        }
    }

    /// A thread's user registers read at a ptrace stop (PTRACE_GETREGS), kept to unwind
    /// the same thread later while it is blocked at the same pc and sp.
    public struct Registers: Sendable {
        fileprivate var raw: fc_regs
        public var pc: UInt64 { word(16) }   // user_regs_struct.rip
        public var sp: UInt64 { word(19) }   // user_regs_struct.rsp
        private func word(_ i: Int) -> UInt64 {
            withUnsafeBytes(of: raw) { $0.load(fromByteOffset: i * 8, as: UInt64.self) }
        }
    }

    private var handle: OpaquePointer?
    private var buffer: [UInt64]
    public let maxFrames: Int

    /// `foreignRoot`: the process runs in another root (chroot, container), so its
    /// unwind tables are read only from its memory, never from the files its
    /// /proc/PID/maps names (which here are other files or none).
    public init?(pid: Int32, maxFrames: Int = 256, foreignRoot: Bool = false) {
        guard let h = fc_unwinder_create(pid) else { return nil }
        if foreignRoot { fc_unwinder_memory_tables_only(h) }
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

    /// Unwinds a thread in a ptrace stop and returns the registers it started from.
    public func unwindStoppedKeepingRegisters(tid: Int32) -> (Result, Registers?) {
        var flags: Int32 = 0
        var regs = fc_regs()
        let n = buffer.withUnsafeMutableBufferPointer { fc_unwind_stopped_regs(handle, tid, &regs, $0.baseAddress, Int32(maxFrames), &flags) }
        let r = result(n, flags)
        return (r, flags & Int32(FC_UNWIND_NO_REGS) != 0 ? nil : Registers(raw: regs))
    }

    /// Unwinds a thread blocked in a system call, without stopping it, taking the
    /// registers /proc/TID/syscall does not give from `known` (read at an earlier stop).
    public func unwindBlocked(tid: Int32, pc: UInt64, sp: UInt64, known: Registers) -> Result {
        var flags: Int32 = 0
        var regs = known.raw
        let n = buffer.withUnsafeMutableBufferPointer {
            fc_unwind_blocked_regs(handle, tid, pc, sp, &regs, $0.baseAddress, Int32(maxFrames), &flags)
        }
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
               failed: flags & Int32(FC_UNWIND_ERROR | FC_UNWIND_NO_REGS) != 0,
               needsRegisters: flags & Int32(FC_UNWIND_NEEDS_REGS) != 0)
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
