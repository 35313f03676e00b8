/// Byte-level parsers of /proc files for the per-tick path: no String, no Foundation, no
/// allocation except the comm name. Parsing with String operations took about half the
/// tracer's CPU (measured with perf in benchmarks/overhead).
struct ProcBytes {
    let b: UnsafeBufferPointer<UInt8>
    var i = 0

    init(_ b: UnsafeBufferPointer<UInt8>, at i: Int = 0) { self.b = b; self.i = i }

    mutating func skipBlanks() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0a || b[i] == 0x09 { i += 1 }
    }

    mutating func skipField() {
        skipBlanks()
        while i < b.count, b[i] != 0x20, b[i] != 0x0a { i += 1 }
    }

    mutating func decimal() -> Int64? {
        skipBlanks()
        var negative = false
        if i < b.count, b[i] == 0x2d { negative = true; i += 1 }
        var v: Int64 = 0
        let start = i
        while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { v = v &* 10 &+ Int64(b[i] &- 0x30); i += 1 }
        guard i > start else { return nil }
        return negative ? 0 &- v : v  // wrapping: "-" and 19+ digits can wrap to Int64.min, whose negation traps
    }

    /// "0x…" hexadecimal, or decimal.
    mutating func number() -> UInt64? {
        skipBlanks()
        guard i + 1 < b.count, b[i] == 0x30, b[i + 1] == 0x78 else { return decimal().map { UInt64(bitPattern: $0) } }
        i += 2
        var v: UInt64 = 0
        let start = i
        while i < b.count {
            let c = b[i]
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x61...0x66: d = c - 0x61 + 10
            case 0x41...0x46: d = c - 0x41 + 10
            default: return i > start ? v : nil
            }
            v = v << 4 | UInt64(d)
            i += 1
        }
        return i > start ? v : nil
    }
}

extension ProcParse {
    public static func stat(bytes b: UnsafeBufferPointer<UInt8>) -> TaskStat? {
        guard let open = b.firstIndex(of: 0x28), let close = b.lastIndex(of: 0x29), open < close, close + 2 < b.count else { return nil }
        let comm = String(decoding: UnsafeBufferPointer(rebasing: b[(open + 1)..<close]), as: UTF8.self)
        var p = ProcBytes(b, at: close + 1)
        p.skipBlanks()
        guard p.i < b.count else { return nil }
        let state = b[p.i]
        p.i += 1
        // Fields numbered as in proc(5): state is 3.
        var values = (ppid: Int64(0), utime: Int64(0), stime: Int64(0), start: Int64(0), cpu: Int64(-1))
        var field = 4
        while field <= 39 {
            switch field {
            case 4: guard let v = p.decimal() else { return nil }; values.ppid = v
            case 14: guard let v = p.decimal() else { return nil }; values.utime = v
            case 15: guard let v = p.decimal() else { return nil }; values.stime = v
            case 22: guard let v = p.decimal() else { return nil }; values.start = v
            case 39: guard let v = p.decimal() else { return nil }; values.cpu = v
            default: p.skipField()
            }
            field += 1
        }
        return TaskStat(state: state, comm: comm, ppid: Int32(truncatingIfNeeded: values.ppid),
                        utimeTicks: UInt64(max(0, values.utime)), stimeTicks: UInt64(max(0, values.stime)),
                        startTicks: UInt64(max(0, values.start)), processor: Int32(truncatingIfNeeded: values.cpu))
    }

    /// The state letter of a stat line: the first non-blank after the last ')' (the name
    /// may itself hold parentheses).
    public static func statState(bytes b: UnsafeBufferPointer<UInt8>) -> UInt8? {
        guard let close = b.lastIndex(of: 0x29) else { return nil }
        var i = close + 1
        while i < b.count, b[i] == 0x20 { i += 1 }
        return i < b.count ? b[i] : nil
    }

    public static func schedstat(bytes b: UnsafeBufferPointer<UInt8>) -> SchedStat? {
        var p = ProcBytes(b)
        guard let run = p.decimal(), let wait = p.decimal() else { return nil }
        let slices = p.decimal() ?? 0
        return SchedStat(runNs: UInt64(max(0, run)), waitNs: UInt64(max(0, wait)), slices: UInt64(max(0, slices)))
    }

    public static func syscall(bytes b: UnsafeBufferPointer<UInt8>) -> SyscallState? {
        var p = ProcBytes(b)
        p.skipBlanks()
        if p.i < b.count, b[p.i] == 0x72 { return .running }  // "running"
        guard let nr = p.decimal() else { return nil }
        if nr == -1 {
            guard let sp = p.number(), let pc = p.number() else { return nil }
            return .blockedOutsideSyscall(sp: sp, pc: pc)
        }
        var args = [UInt64](repeating: 0, count: 6)
        for k in 0..<6 { args[k] = p.number() ?? 0 }
        guard let sp = p.number(), let pc = p.number() else { return nil }
        return .inSyscall(number: Int(nr), args: args, sp: sp, pc: pc)
    }
}
