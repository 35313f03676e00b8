import Foundation

// Thread rows and mapping rows (format version 2): resolving samples to their thread row
// and frames to their mapping row, for profiles built in memory with only (pid, tid) and
// module paths, and for version 1 files, which had nothing else.

extension Profile {
    /// The profile as the writer writes it and the reader returns it: every sample refers
    /// to its thread row (`Sample.thread`), and every frame with a `module` to a mapping
    /// row (`Frame.mapping`; a row with only the file is added where none matches).
    /// Already-resolved rows are kept. Cheap when there is nothing to resolve.
    public func normalized() -> Profile {
        var copy = self
        copy.normalize()
        return copy
    }

    /// Resolves in place what `normalized()` resolves.
    public mutating func normalize() {
        if frames.contains(where: { $0.mapping == nil && $0.module != nil }) {
            var byFile: [String: Int32] = [:]
            for (i, m) in mappings.enumerated() where byFile[m.file] == nil { byFile[m.file] = Int32(i) }
            for i in frames.indices where frames[i].mapping == nil {
                guard let module = frames[i].module else { continue }
                if let row = byFile[module] {
                    frames[i].mapping = row
                } else {
                    let row = Int32(mappings.count)
                    mappings.append(MappingInfo(file: module))
                    byFile[module] = row
                    frames[i].mapping = row
                }
            }
        }
        if samples.contains(where: { $0.thread < 0 }) {
            let rows = ThreadRows(threads)
            samples.withUnsafeMutableBufferPointer { all in
                for i in all.indices where all[i].thread < 0 {
                    all[i].thread = rows.row(pid: all[i].pid, tid: all[i].tid, at: all[i].timeNs) ?? -1
                }
            }
        }
    }
}

/// Finds a sample's thread row from its (pid, tid) and time. A thread id the kernel
/// reused has several rows: the one alive at the sample's time is chosen (the latest to
/// start, when lifetimes touch), else the first.
struct ThreadRows {
    private var single: [UInt64: Int32] = [:]
    private var several: [UInt64: [Int32]] = [:]
    private let threads: [ThreadInfo]

    init(_ threads: [ThreadInfo]) {
        self.threads = threads
        single.reserveCapacity(threads.count)
        for (i, t) in threads.enumerated() {
            let key = ThreadRows.key(t.pid, t.tid)
            if let first = single[key] {
                several[key, default: [first]].append(Int32(i))
            } else {
                single[key] = Int32(i)
            }
        }
    }

    static func key(_ pid: Int32, _ tid: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: pid)) << 32 | UInt64(UInt32(bitPattern: tid))
    }

    func row(pid: Int32, tid: Int32, at timeNs: UInt64) -> Int32? {
        let key = ThreadRows.key(pid, tid)
        guard let first = single[key] else { return nil }
        guard let rows = several[key] else { return first }
        var best: Int32?
        for r in rows {
            let t = threads[Int(r)]
            guard t.startNs <= timeNs, timeNs <= (t.endNs ?? UInt64.max) else { continue }
            if let b = best, threads[Int(b)].startNs > t.startNs { continue }
            best = r
        }
        return best ?? first
    }
}
