// TEMPORARY: replaced by ProcMaps.swift and Symbols/ when the symbolizer branch lands.
import ForkcastModel
import Foundation

public struct MemoryMapping: Sendable, Equatable, Hashable {
    public var start: UInt64, end: UInt64, offset: UInt64
    public var permissions: String
    public var inode: UInt64
    public var path: String
}

public enum ProcMaps {
    public static func parse(_ text: String) -> [MemoryMapping] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard f.count >= 5 else { return nil }
            let r = f[0].split(separator: "-")
            guard r.count == 2, let s = UInt64(r[0], radix: 16), let e = UInt64(r[1], radix: 16) else { return nil }
            return MemoryMapping(start: s, end: e, offset: UInt64(f[2], radix: 16) ?? 0, permissions: String(f[1]),
                                 inode: UInt64(f[4]) ?? 0, path: f.count > 5 ? f[5].trimmingCharacters(in: .whitespaces) : "")
        }
    }
    public static func read(pid: Int32) throws -> [MemoryMapping] {
        guard let text = ProcFS.readText("/proc/\(pid)/maps") else { throw SystemError("open maps", ESRCH) }
        return parse(text)
    }
}

public struct AddressSpaceMap: Sendable {
    let sorted: [MemoryMapping]
    public init(_ mappings: [MemoryMapping]) { sorted = mappings.sorted { $0.start < $1.start } }
    public func mapping(containing address: UInt64) -> MemoryMapping? {
        sorted.last { $0.start <= address && address < $0.end }
    }
}

public final class Symbolizer {
    public init(debugDirectories: [String] = ["/usr/lib/debug"]) {}
    public func frame(for address: UInt64, in map: AddressSpaceMap, isReturnAddress: Bool) -> Frame {
        guard let m = map.mapping(containing: address) else {
            return Frame(kind: .native, name: "[unknown]+0x" + String(address, radix: 16), symbolized: false)
        }
        let off = address - m.start + m.offset
        let base = (m.path as NSString).lastPathComponent
        return Frame(kind: .native, name: "\(base)+0x\(String(off, radix: 16))", module: m.path, offset: off, symbolized: false)
    }
}
