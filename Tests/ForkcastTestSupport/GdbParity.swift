import Foundation
import ForkcastModel

/// Compares Forkcast's stacks with gdb's for live processes, frame by frame.
///
/// gdb and Forkcast cannot both ptrace a process at once, so `check` first records the
/// processes with a short `forkcast record --pid` (they must be blocked and unchanging:
/// idle servers, programs waiting on purpose), then runs
/// `gdb -batch -p PID` with a small Python script that walks `thread apply all bt`'s
/// frames (`set backtrace past-main on`, so both go to `_start`/`clone3`), and compares
/// each thread's last recorded stack with gdb's.
///
/// What counts as equal (and why):
/// - Frames gdb makes up from DWARF rather than finds on the stack are dropped:
///   **inlined** frames (`gdb.INLINE_FRAME`; Forkcast names the out-of-line function a
///   pc is in, from the symbol table — the frame gdb shows right after the inlined ones)
///   and **tail-call** frames (`gdb.TAILCALL_FRAME`, rebuilt from call-site info: a
///   function that ended in a `jmp` has no frame left to unwind).
/// - CPython's interpreter loop: Forkcast replaces each `_PyEval_EvalFrameDefault` frame
///   by the Python frames it runs, so both sides drop their eval frames (and Forkcast
///   its Python frames) before comparing.
/// - Two frames are equal when they are the **same address** — same module file name
///   and same file virtual address (gdb's pc converted with the process's maps and the
///   ELF program headers; Forkcast's `offset`) — or, failing that, when their names agree
///   after `normalize`: compiler clone suffixes dropped (`.lto_priv.0`, `.isra.0`,
///   `.constprop.0`, `.part.0`, `.cold`, `[clone …]`), symbol versions
///   (`@@GLIBC_2.3.2`), C++ parameter lists, and glibc's alias prefixes (`__GI_`,
///   `__libc_`, leading underscores). Comparing addresses first makes aliases
///   (`__libc_start_main` / `__libc_start_main_impl`) and unnamed frames (gdb `??`,
///   Forkcast `module+0x…`) exact instead of guessed.
/// - Equal to the root: same frames, Forkcast's stack not truncated, and gdb's last frame
///   the outermost (`FRAME_UNWIND_OUTERMOST`). A thread gdb itself cannot unwind to the
///   root is counted apart (`gdbTruncated`), not as Forkcast's failure.
public enum GdbParity {
    public struct GdbFrame: Equatable {
        public var name: String
        /// `normal`, `inline`, `tailcall`, `sigtramp`, …
        public var kind: String
        public var pc: UInt64
        /// The mapped file holding pc (from /proc/PID/maps) and pc's file virtual address.
        public var module: String = ""
        public var offset: UInt64?
        public var synthetic: Bool { kind == "inline" || kind == "tailcall" }
    }

    public struct GdbThread {
        public var tid: Int32
        public var frames: [GdbFrame]
        /// gdb reached the outermost frame.
        public var complete: Bool
        public var stopReason: String
    }

    public enum Verdict: String {
        case equal, differs, forkcastTruncated, gdbTruncated, notRecorded
    }

    public struct ThreadComparison: CustomStringConvertible {
        public var pid: Int32
        public var tid: Int32
        public var forkcast: [String]
        public var gdb: [String]
        public var verdict: Verdict
        public var description: String {
            "\(pid)/\(tid) \(verdict.rawValue)\n    forkcast: \(forkcast.joined(separator: " ← "))\n    gdb:      \(gdb.joined(separator: " ← "))"
        }
    }

    public struct Report: CustomStringConvertible {
        public var program: String
        public var threads: [ThreadComparison]
        /// Threads gdb unwound to the root (the denominator).
        public var compared: Int { threads.filter { $0.verdict != .gdbTruncated && $0.verdict != .notRecorded }.count }
        public var equal: Int { threads.filter { $0.verdict == .equal }.count }
        public var share: Double { compared == 0 ? 0 : Double(equal) / Double(compared) }
        public var description: String {
            let counts = Dictionary(grouping: threads, by: \.verdict).map { "\($0.key.rawValue) \($0.value.count)" }.sorted()
            return "\(program): \(equal)/\(compared) stacks equal to gdb's to the root (\(String(format: "%.1f", share * 100))%; \(counts.joined(separator: ", ")))"
        }
        public var mismatches: [ThreadComparison] { threads.filter { $0.verdict != .equal } }
    }

    /// Whether gdb is installed (tests skip without it).
    public static var gdbPath: String? {
        ["/usr/bin/gdb", "/usr/local/bin/gdb"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Records `root` and its process tree with `forkcast record --pid`, then compares
    /// every thread of each of `processes` (default: the root) — its last recorded stack
    /// with gdb's. The processes must stay blocked meanwhile.
    public static func check(program: String, root: Int32, processes: [Int32]? = nil, seconds: Double = 2) throws -> Report {
        guard let gdb = gdbPath else { throw Fixtures.Failure(description: "gdb is not installed (apt-get install gdb)") }
        let forkcast = try Fixtures.forkcastBinary()
        let out = Fixtures.scratch.appendingPathComponent("gdb-parity-\(root).profile.json").path
        let r = try Fixtures.run("/usr/bin/timeout", ["-s", "INT", "-k", "10", "\(Int(seconds) + 60)", forkcast, "record", "--pid", "\(root)",
                                                      "--duration", "\(seconds)", "-q", "-o", out])
        guard r.status == 0 else {
            throw Fixtures.Failure(description: "forkcast record --pid \(root) failed (\(r.status)): \(r.stderr)")
        }
        let profile = try Profile.decode(Data(contentsOf: URL(fileURLWithPath: out)))
        let recorded = lastStacks(profile)
        var comparisons: [ThreadComparison] = []
        for pid in processes ?? [root] {
            for thread in try gdbStacks(gdb: gdb, pid: pid) {
                comparisons.append(compare(pid: pid, gdb: thread, forkcast: recorded[thread.tid]))
            }
        }
        return Report(program: program, threads: comparisons)
    }

    /// Every thread's most recent stack in a profile (native frames only, leaf first).
    public static func lastStacks(_ profile: Profile) -> [Int32: (frames: [Frame], truncated: Bool)] {
        var last: [Int32: (UInt64, Int32)] = [:]
        for s in profile.samples where s.stack >= 0 {
            if let prev = last[s.tid], prev.0 > s.timeNs { continue }
            last[s.tid] = (s.timeNs, s.stack)
        }
        return last.mapValues { _, index in
            let stack = profile.stacks[Int(index)]
            let frames = stack.frames.map { profile.frames[Int($0)] }.filter { $0.kind == .native }
            return (frames, stack.truncated)
        }
    }

    static let script = """
    import gdb
    gdb.execute("set backtrace past-main on")
    gdb.execute("set backtrace past-entry on")
    gdb.execute("set backtrace limit 512")
    for inf in gdb.inferiors():
        for th in inf.threads():
            th.switch()
            f = gdb.newest_frame()
            last = f
            while f is not None:
                last = f
                t = f.type()
                kind = {gdb.INLINE_FRAME: "inline", gdb.TAILCALL_FRAME: "tailcall", gdb.SIGTRAMP_FRAME: "sigtramp",
                        gdb.NORMAL_FRAME: "normal"}.get(t, "other")
                print("FCFRAME\\t%d\\t%s\\t%x\\t%s" % (th.ptid[1], kind, f.pc(), f.name() or "??"))
                try:
                    f = f.older()
                except gdb.error:
                    break
            reason = last.unwind_stop_reason()
            print("FCEND\\t%d\\t%d\\t%s" % (th.ptid[1], 1 if reason == gdb.FRAME_UNWIND_OUTERMOST else 0, gdb.frame_stop_reason_string(reason)))
    """

    /// gdb's view of every thread of `pid`.
    public static func gdbStacks(gdb: String, pid: Int32) throws -> [GdbThread] {
        let scriptURL = Fixtures.scratch.appendingPathComponent("gdb-parity.py")
        try script.write(to: scriptURL, atomically: true, encoding: .utf8)
        let r = try Fixtures.run("/usr/bin/timeout", ["-k", "5", "120", gdb, "-nx", "-batch", "-p", "\(pid)",
                                                      "-iex", "set debuginfod enabled off", "-iex", "set auto-load safe-path /",
                                                      "-x", scriptURL.path])
        var locator = AddressLocator(pid: pid)
        var threads: [Int32: GdbThread] = [:]
        var order: [Int32] = []
        for line in r.stdout.split(separator: "\n") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if f.first == "FCFRAME", f.count >= 5, let tid = Int32(f[1]), let pc = UInt64(f[3], radix: 16) {
                if threads[tid] == nil { threads[tid] = GdbThread(tid: tid, frames: [], complete: false, stopReason: ""); order.append(tid) }
                var frame = GdbFrame(name: f[4...].joined(separator: "\t"), kind: f[2], pc: pc)
                if let (module, offset) = locator?.locate(pc) {
                    frame.module = module
                    frame.offset = offset
                }
                threads[tid]?.frames.append(frame)
            } else if f.first == "FCEND", f.count >= 4, let tid = Int32(f[1]) {
                threads[tid]?.complete = f[2] == "1"
                threads[tid]?.stopReason = f[3]
            }
        }
        if order.isEmpty {
            throw Fixtures.Failure(description: "gdb -p \(pid) printed no frames (\(r.status)): \(r.stderr.suffix(800))")
        }
        return order.compactMap { threads[$0] }
    }

    static func isEval(_ name: String) -> Bool { normalize(name) == "PyEval_EvalFrameDefault" }

    static func compare(pid: Int32, gdb: GdbThread, forkcast: (frames: [Frame], truncated: Bool)?) -> ThreadComparison {
        let gdbFrames = gdb.frames.filter { !$0.synthetic && !isEval($0.name) }
        let gdbNames = gdbFrames.map { f in
            f.kind == "sigtramp" ? "<signal handler called>" : f.name == "??" ? "??@\(baseName(f.module))+0x\(String(f.offset ?? f.pc, radix: 16))" : f.name
        }
        guard let forkcast else {
            return ThreadComparison(pid: pid, tid: gdb.tid, forkcast: [], gdb: gdbNames, verdict: .notRecorded)
        }
        let frames = forkcast.frames.filter { $0.kind == .native && !isEval($0.name) }
        let mine = frames.map(\.name)
        var verdict: Verdict
        if !gdb.complete {
            verdict = .gdbTruncated
        } else if forkcast.truncated {
            verdict = .forkcastTruncated
        } else if frames.count == gdbFrames.count && zip(frames, gdbFrames).allSatisfy(framesMatch) {
            verdict = .equal
        } else {
            verdict = .differs
        }
        return ThreadComparison(pid: pid, tid: gdb.tid, forkcast: mine, gdb: gdbNames, verdict: verdict)
    }

    static func framesMatch(_ mine: Frame, _ theirs: GdbFrame) -> Bool {
        if let offset = theirs.offset, let myOffset = mine.offset, offset == myOffset,
           baseName(mine.module ?? "") == baseName(theirs.module) {
            return true
        }
        guard mine.symbolized, theirs.name != "??" else { return false }
        return normalize(mine.name) == normalize(theirs.name)
    }

    static func baseName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    /// Converts addresses of a live process to (mapped file, file virtual address), the
    /// way Forkcast's frames say where they are.
    struct AddressLocator {
        struct Mapping { var start, end, offset: UInt64; var path: String }
        struct Segment { var vaddr, fileOffset, fileSize: UInt64 }
        let pid: Int32
        let mappings: [Mapping]
        var segments: [String: [Segment]] = [:]

        init?(pid: Int32) {
            // Read to EOF: /proc files report size 0, and a sized read stops after a page.
            guard let handle = FileHandle(forReadingAtPath: "/proc/\(pid)/maps") else { return nil }
            let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
            try? handle.close()
            self.pid = pid
            mappings = text.split(separator: "\n").compactMap { line in
                // start-end perms offset dev inode, then the path after any padding.
                var parts: [Substring] = []
                var rest = Substring(line)
                while parts.count < 5 {
                    rest = rest.drop { $0 == " " }
                    guard !rest.isEmpty else { break }
                    let end = rest.firstIndex(of: " ") ?? rest.endIndex
                    parts.append(rest[..<end])
                    rest = rest[end...]
                }
                parts.append(rest)
                guard parts.count >= 5 else { return nil }
                let range = parts[0].split(separator: "-")
                guard range.count == 2, let start = UInt64(range[0], radix: 16), let end = UInt64(range[1], radix: 16),
                      let offset = UInt64(parts[2], radix: 16) else { return nil }
                var path = parts.count > 5 ? parts[5].trimmingCharacters(in: .whitespaces) : ""
                if path.hasSuffix(" (deleted)") { path = String(path.dropLast(10)) }
                return Mapping(start: start, end: end, offset: offset, path: path)
            }
        }

        mutating func locate(_ pc: UInt64) -> (String, UInt64)? {
            guard let m = mappings.first(where: { $0.start <= pc && pc < $0.end }), !m.path.isEmpty else { return nil }
            let fileOffset = pc - m.start + m.offset
            if m.path.hasPrefix("[") { return (m.path, fileOffset) }
            if segments[m.path] == nil { segments[m.path] = Self.loadSegments("/proc/\(pid)/root\(m.path)") }
            guard let seg = segments[m.path]?.first(where: { $0.fileOffset <= fileOffset && fileOffset < $0.fileOffset + max($0.fileSize, 1) })
            else { return (m.path, fileOffset) }
            return (m.path, fileOffset - seg.fileOffset + seg.vaddr)
        }

        /// PT_LOAD segments of an ELF64 file (empty when it is not one).
        static func loadSegments(_ path: String) -> [Segment] {
            guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
            defer { try? handle.close() }
            let head = [UInt8](handle.readData(ofLength: 65536))
            guard head.count >= 64, head.starts(with: [0x7f, 0x45, 0x4c, 0x46]), head[4] == 2 else { return [] }
            func u64(_ at: Int) -> UInt64 { (0..<8).reduce(UInt64(0)) { $0 | UInt64(head[at + $1]) << (8 * UInt64($1)) } }
            func u16(_ at: Int) -> Int { Int(head[at]) | Int(head[at + 1]) << 8 }
            let phoff = Int(u64(32)), phentsize = u16(54), phnum = u16(56)
            var result: [Segment] = []
            for i in 0..<phnum {
                let at = phoff + i * phentsize
                guard at + 56 <= head.count else { break }
                let type = UInt32(head[at]) | UInt32(head[at + 1]) << 8 | UInt32(head[at + 2]) << 16 | UInt32(head[at + 3]) << 24
                if type == 1 { result.append(Segment(vaddr: u64(at + 16), fileOffset: u64(at + 8), fileSize: u64(at + 32))) }
            }
            return result
        }
    }

    /// A function name with what differs between symbol tables and debug info removed.
    public static func normalize(_ name: String) -> String {
        var s = name
        if let at = s.firstIndex(of: "@") { s = String(s[..<at]) }
        if let clone = s.range(of: " [clone") { s = String(s[..<clone.lowerBound]) }
        // C++ parameter list: cut at the first "(" that is not part of "operator()".
        var searchFrom = s.startIndex
        while let paren = s[searchFrom...].firstIndex(of: "(") {
            if s[..<paren].hasSuffix("operator") { searchFrom = s.index(paren, offsetBy: 2, limitedBy: s.endIndex) ?? s.endIndex; continue }
            s = String(s[..<paren])
            break
        }
        for suffix in [".lto_priv", ".isra", ".constprop", ".part", ".cold", ".localalias", ".llvm"] {
            while let r = s.range(of: suffix) {
                var end = r.upperBound
                while end < s.endIndex, s[end] == "." || s[end].isNumber { end = s.index(after: end) }
                s.removeSubrange(r.lowerBound..<end)
            }
        }
        while true {
            let before = s
            if s.hasPrefix("__GI_") { s.removeFirst(5) }
            while s.hasPrefix("_") && s.count > 1 && !s.hasPrefix("_Z") { s.removeFirst() }
            if s.hasPrefix("libc_") && s.count > 5 { s.removeFirst(5) }
            if s == before { break }
        }
        return s
    }
}
