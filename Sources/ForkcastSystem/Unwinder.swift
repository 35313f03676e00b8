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
