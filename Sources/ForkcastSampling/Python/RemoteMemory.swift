import ForkcastSystem
#if canImport(Glibc)
import Glibc
#endif

/// Why a read of another process's memory failed.
public enum RemoteMemoryError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The process is gone (`ESRCH`).
    case noSuchProcess(pid: Int32)
    /// Not allowed to read it (`EPERM`): another user, or ptrace_scope forbids it.
    case permissionDenied(pid: Int32)
    /// The address range is not mapped in the target (`EFAULT`), or only partly.
    case badAddress(address: UInt64, length: Int)
    /// Any other errno from `process_vm_readv`.
    case failed(errno: Int32, address: UInt64, length: Int)

    public var description: String {
        switch self {
        case .noSuchProcess(let pid): "process \(pid) is gone"
        case .permissionDenied(let pid): "not permitted to read the memory of process \(pid)"
        case .badAddress(let address, let length):
            "address 0x\(String(address, radix: 16)) (\(length) bytes) is not mapped"
        case .failed(let errno, let address, let length):
            "reading \(length) bytes at 0x\(String(address, radix: 16)) failed (errno \(errno))"
        }
    }
}

/// Reads bytes out of another process. The one seam between the Python reader and the
/// OS, so tests can put a fake address space behind the reader.
public protocol RemoteMemoryReading: Sendable {
    /// Fills `buffer` with the `buffer.count` bytes at `address`; a short read is an error.
    func read(address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(RemoteMemoryError)
}

extension RemoteMemoryReading {
    /// `count` bytes at `address`.
    public func bytes(at address: UInt64, count: Int) throws(RemoteMemoryError) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: count)
        var failure: RemoteMemoryError?
        result.withUnsafeMutableBytes { buffer in
            do throws(RemoteMemoryError) { try read(address: address, into: buffer) } catch { failure = error }
        }
        if let failure { throw failure }
        return result
    }

    /// One little-endian value of a fixed-width integer type at `address`.
    public func value<T: FixedWidthInteger>(_: T.Type, at address: UInt64) throws(RemoteMemoryError) -> T {
        var value: T = 0
        var failure: RemoteMemoryError?
        withUnsafeMutableBytes(of: &value) { buffer in
            do throws(RemoteMemoryError) { try read(address: address, into: buffer) } catch { failure = error }
        }
        if let failure { throw failure }
        return T(littleEndian: value)
    }

    /// A pointer-sized value at `address`.
    public func pointer(at address: UInt64) throws(RemoteMemoryError) -> UInt64 {
        try value(UInt64.self, at: address)
    }
}

/// `process_vm_readv` of one process (through ForkcastSystem's `RemoteMemory`). Needs the same uid as the
/// target (or CAP_SYS_PTRACE) and a ptrace_scope that allows it; no ptrace stop needed.
public struct ProcessMemory: RemoteMemoryReading {
    public let pid: Int32

    public init(pid: Int32) {
        self.pid = pid
    }

    public func read(address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(RemoteMemoryError) {
        guard buffer.count > 0 else { return }
        guard let base = buffer.baseAddress else { return }
        // Address 0 and the first page are never mapped in a Python process; failing
        // here saves a system call on the most common bad pointer.
        guard address >= 4096 else { throw .badAddress(address: address, length: buffer.count) }
        _ = base
        let read: Int
        do {
            read = try RemoteMemory.read(pid: pid, address: address, into: buffer)
        } catch let error as SystemError {
            switch error.code {
            case ESRCH: throw .noSuchProcess(pid: pid)
            case EPERM: throw .permissionDenied(pid: pid)
            case EFAULT: throw .badAddress(address: address, length: buffer.count)
            case let errno: throw .failed(errno: errno, address: address, length: buffer.count)
            }
        } catch {
            throw .failed(errno: EIO, address: address, length: buffer.count)
        }
        if read != buffer.count { throw .badAddress(address: address, length: buffer.count) }
    }
}
