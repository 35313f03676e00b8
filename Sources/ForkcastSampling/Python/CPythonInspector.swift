import ForkcastModel

/// Reads one CPython process's interpreter state from outside, with `process_vm_readv`:
/// its thread states, which thread holds the GIL, each thread's Python stack, and the
/// names `threading` gave its threads.
///
/// Use: `detect` once per process (and again after exec); per tick `beginTick()`, then
/// `gilHolderTid()` and `stack(forTid:)` for each thread while it is stopped or blocked.
/// Every read is bounded (frames, string lengths, list lengths, cycles) and any failure
/// throws a `PythonReadError`; nothing here traps on what the target's memory holds.
/// Not thread-safe: one inspector is used from the one sampling thread.
public final class CPythonInspector {
    /// The interpreter's version, "3.11.7" (or "3.11" when only the file name told).
    public let version: String
    public let pid: Int32
    /// What the recorder writes in `ProcessInfo.runtime`: "CPython 3.11.7".
    public var runtimeDescription: String { "CPython \(version)" }
    /// The struct offsets used to read this interpreter.
    public let layout: CPythonLayout
    /// The address of `_PyRuntime` in the target.
    public let runtimeAddress: UInt64

    /// At most this many Python frames per stack; deeper stacks are cut at the root side.
    public static let maxFrames = 512
    /// Strings (names, file names) longer than this many characters are cut.
    public static let maxStringLength = 1024
    /// Bounds on list walks, so a corrupt list cannot keep the reader busy.
    static let maxThreads = 4096
    static let maxInterpreters = 64
    static let maxLineTableBytes = 1 << 20
    static let maxCachedCodes = 20_000

    private let memory: any RemoteMemoryReading
    /// tid → PyThreadState address, from the last `beginTick`.
    private var threadStates: [Int32: UInt64] = [:]
    /// pthread_t (`threading.get_ident()`) → tid.
    var tidByIdent: [UInt64: Int32] = [:]
    private var gilHolder: Int32?
    private var gilHolders: Set<Int32> = []
    private var gilRequesters: Set<Int32> = []
    private var interpreterOfTid: [Int32: Int64] = [:]
    /// Interpreter id → address of the `_gil_runtime_state` it uses.
    private var gilOfInterpreter: [Int64: UInt64] = [:]
    /// Bytes of a `_gil_runtime_state` (interval, last_holder, locked, switch_number,
    /// cond, mutex, switch_cond, switch_mutex: 208 on x86-64 glibc, 3.11–3.15).
    static let gilStateSize: UInt64 = 208
    /// Interpreters seen at the last tick that had any (id, own GIL).
    private var lastInterpreters: [(id: Int64, ownGIL: Bool?)] = []
    /// Whether the GIL is enabled for good: always on default builds; on free-threaded
    /// ones, whether an interpreter's GIL was seen *permanently* enabled (`enabled ==
    /// INT_MAX`: `PYTHON_GIL=1`, or an extension not marked free-threading safe), false
    /// otherwise (nil until read). A transient enable — the GIL taken while an extension
    /// module of unknown safety initialises, at every start-up — does not count.
    private(set) var gilEnabled: Bool?
    /// Whether a GIL was in effect at the last tick (enabled permanently or transiently):
    /// while it is, holders and waiters are read as on a default build.
    private var gilInEffect: Bool
    private var codeCache: [UInt64: CodeInfo] = [:]
    /// Type object address → tp_name, for the few types checked (str, bytes, …).
    private var typeNames: [UInt64: String] = [:]
    /// pthread_t → `threading` name, kept across ticks (idents of live threads are unique).
    var threadNameByIdent: [UInt64: String] = [:]
    /// Idents already looked up and not found in `threading._active` (not started by
    /// `threading`), so they are not looked up every tick.
    var identsWithoutName: Set<UInt64> = []
    /// When (monotonic ns) each ident was first looked up without a name, and how many
    /// times: a thread is in `threading._active` only once `Thread._bootstrap_inner`
    /// registered it, after its thread state exists — and with CPU-bound threads holding
    /// the GIL that can take many switch intervals — so misses are retried for a second
    /// (and at least 5 times) before giving up.
    var nameMisses: [UInt64: (first: UInt64, count: Int)] = [:]
    /// When `threading._active` was last read for idents that had missed before: such
    /// retries are spaced 10 ms apart, whatever the sampling rate.
    var lastNameRetry: UInt64 = 0

    /// What the reader keeps of a code object, with the pointers it was decoded from so
    /// that a freed and reused address is noticed.
    private struct CodeInfo {
        var key: [UInt64]
        var name: String
        var file: String
        var firstLine: Int
        var lineTable: [UInt8]
    }

    /// An inspector for a known interpreter. `detect` finds these arguments.
    public init(pid: Int32, version: String, layout: CPythonLayout, runtimeAddress: UInt64,
                memory: any RemoteMemoryReading) {
        self.pid = pid
        self.version = version
        self.layout = layout
        self.runtimeAddress = runtimeAddress
        self.memory = memory
        self.gilEnabled = layout.freeThreaded ? nil : true
        self.gilInEffect = !layout.freeThreaded
    }

    // MARK: - Per tick

    /// Reads the interpreters' thread lists (tid → thread state), the GIL's holder (and,
    /// where the build says, who asks for it), and whether the GIL is enabled. Before the
    /// interpreter is initialised (or after it is finalised) there are no threads and no
    /// holder; that is not an error.
    public func beginTick() throws(PythonReadError) {
        threadStates.removeAll(keepingCapacity: true)
        tidByIdent.removeAll(keepingCapacity: true)
        interpreterOfTid.removeAll(keepingCapacity: true)
        gilRequesters.removeAll(keepingCapacity: true)
        gilOfInterpreter.removeAll(keepingCapacity: true)
        gilHolder = nil

        let l = layout
        let runtimeEnd = [l.runtimeInterpretersHead + 8, (l.runtimeGilLastHolder ?? 0) + 8, (l.runtimeGilLocked ?? 0) + 4,
                          (l.runtimeTstateCurrent ?? 0) + 8].max()!
        let runtime = try read(runtimeAddress, Int(runtimeEnd))
        var interp = runtime.u64(l.runtimeInterpretersHead)
        var seenInterps = Set<UInt64>()
        var seenStates = Set<UInt64>()
        var holderStates = Set<UInt64>()
        var framedTids = Set<Int32>()
        var interpreters: [(id: Int64, ownGIL: Bool?)] = []
        var anyGILPermanent: Bool?
        var anyGILInEffect = false
        while interp != 0 {
            guard seenInterps.insert(interp).inserted, seenInterps.count <= Self.maxInterpreters else {
                throw .inconsistent("interpreter list loops or is too long")
            }
            let id: Int64 = try l.interpId.map { offset throws(PythonReadError) in
                Int64(bitPattern: try pointer(interp + offset))
            } ?? 0
            guard id >= 0, id < 1 << 40 else { throw .inconsistent("interpreter id \(id)") }
            var ownGIL: Bool?
            if let gil = try readGIL(ofInterpreter: interp, id: id) {
                ownGIL = gil.own
                anyGILPermanent = (anyGILPermanent ?? false) || gil.permanent
                anyGILInEffect = anyGILInEffect || gil.enabled
                if let holder = gil.holder { holderStates.insert(holder) }
            }
            interpreters.append((id, ownGIL))
            try readThreadStates(ofInterpreter: interp, id: id, seen: &seenStates, framed: &framedTids, holders: &holderStates)
            interp = try pointer(interp + l.interpNext)
        }
        lastInterpreters = interpreters.sorted { $0.id < $1.id }
        if l.interpGilPointer != nil, !interpreters.isEmpty {
            if let permanent = anyGILPermanent { gilEnabled = (gilEnabled ?? false) || permanent }
            gilInEffect = anyGILInEffect || !l.freeThreaded
        }

        // 3.11: one GIL in the runtime. `locked` is 1 while held; the holder is
        // `tstate_current` once the taking thread has installed itself, `last_holder` in
        // the short window before.
        if let lockedOffset = l.runtimeGilLocked, runtime.i32(lockedOffset) == 1 {
            var holder = l.runtimeTstateCurrent.map { runtime.u64($0) } ?? 0
            if holder == 0, let last = l.runtimeGilLastHolder { holder = runtime.u64(last) }
            if holder != 0 { holderStates.insert(holder) }
        }
        // The holder's tid; with several GILs (subinterpreters with their own) the
        // recorder asks per thread, so keep every holder.
        gilHolders = Set(threadStates.compactMap { holderStates.contains($0.value) ? $0.key : nil })
        gilHolder = gilHolders.count == 1 ? gilHolders.first : gilHolders.min()
    }

    /// What an interpreter's GIL said at this tick.
    struct GILReading {
        /// Whether it is the interpreter's own GIL (nil: the layout cannot tell).
        var own: Bool?
        var enabled: Bool
        /// Enabled for good (not transiently, while an extension module initialises).
        var permanent: Bool
        /// The thread state holding it, when it is enabled and held.
        var holder: UInt64?
    }

    /// 3.12+: each interpreter points at the GIL it uses (its own, or the main one's).
    /// Nil when the layout has no such pointer or it is not set yet.
    private func readGIL(ofInterpreter interp: UInt64, id: Int64) throws(PythonReadError) -> GILReading? {
        let l = layout
        guard let gilPointerOffset = l.interpGilPointer, let lockedOffset = l.gilLocked, let holderOffset = l.gilLastHolder else {
            return nil
        }
        let gil = try pointer(interp + gilPointerOffset)
        guard gil != 0 else { return nil }
        gilOfInterpreter[id] = gil
        var reading = GILReading(own: l.interpOwnGil.map { gil == interp + $0 }, enabled: true, permanent: true)
        let state = try read(gil, Int(max(lockedOffset + 4, holderOffset + 8, (l.gilEnabled ?? 0) + 4)))
        if let enabledOffset = l.gilEnabled {
            let raw = state.i32(enabledOffset)
            reading.enabled = raw > 0
            reading.permanent = raw == Int32.max
        }
        if reading.enabled, state.i32(lockedOffset) == 1 {
            let holder = state.u64(holderOffset)
            if holder != 0 { reading.holder = holder }
        }
        return reading
    }

    /// Walks one interpreter's thread states: tid → state, the thread idents, who holds
    /// (3.15: `holds_gil`) or asks for the GIL.
    private func readThreadStates(ofInterpreter interp: UInt64, id: Int64, seen seenStates: inout Set<UInt64>,
                                  framed framedTids: inout Set<Int32>, holders holderStates: inout Set<UInt64>) throws(PythonReadError) {
        let l = layout
        var tstate = try pointer(interp + l.interpThreadsHead)
        while tstate != 0 {
            guard seenStates.insert(tstate).inserted, seenStates.count <= Self.maxThreads else {
                throw .inconsistent("thread-state list loops or is too long")
            }
            let state = try read(tstate, l.tstateReadSize)
            let tid = state.u64(l.tstateNativeThreadId)
            // A thread state created but not yet bound to a thread has tid 0.
            if tid > 0, tid < UInt64(Int32.max) {
                let t = Int32(tid)
                // A thread that runs code of several interpreters has a state in
                // each (an InterpreterPoolExecutor worker: the main interpreter's
                // thread calling into its subinterpreter). The list is newest
                // interpreter first, and the newer one is the one entered, so the
                // first state with a frame is the one it runs now.
                let hasFrame = l.tstateCurrentFrame.map { state.u64($0) != 0 } ?? true
                if threadStates[t] == nil || (hasFrame && !(framedTids.contains(t))) {
                    if hasFrame { framedTids.insert(t) }
                    threadStates[t] = tstate
                    interpreterOfTid[t] = id
                }
                tidByIdent[state.u64(l.tstateThreadId)] = t
                if let offset = l.tstateHoldsGil, state.i32(offset) != 0 { holderStates.insert(tstate) }
                if let offset = l.tstateGilRequested, state.i32(offset) != 0 { gilRequesters.insert(t) }
            }
            tstate = state.u64(l.tstateNext)
        }
    }

    /// The tid of the thread holding the GIL at the last `beginTick`, nil when the GIL
    /// was free (or held by a thread state not bound to a known thread). With
    /// subinterpreters that have their own GIL, the lowest of the holders: use
    /// `holdsGIL(tid:)` to ask about one thread.
    public func gilHolderTid() -> Int32? { gilHolder }

    /// Whether the thread held a GIL (its interpreter's) at the last `beginTick`; nil
    /// when the process runs without a GIL (free-threaded build with the GIL disabled).
    public func holdsGIL(tid: Int32) -> Bool? {
        guard gilInEffect else { return nil }
        return gilHolders.contains(tid)
    }

    /// Whether the thread holds its interpreter's GIL *now*, re-read from the GIL's state
    /// (and 3.15's `holds_gil`) while the thread is stopped or blocked — it cannot take or
    /// drop the GIL then. The tick's reading (`holdsGIL`) can be milliseconds old by the
    /// time a thread stops on a loaded machine, long enough for the GIL to change hands
    /// (every 5 ms under contention). Falls back to the tick's reading when the re-read
    /// fails; nil when the process runs without a GIL.
    public func holdsGILNow(tid: Int32) -> Bool? {
        guard gilInEffect, let tstate = threadStates[tid] else { return holdsGIL(tid: tid) }
        let l = layout
        do {
            if let id = interpreterOfTid[tid], let gil = gilOfInterpreter[id],
               let lockedOffset = l.gilLocked, let holderOffset = l.gilLastHolder {
                let state = try read(gil, Int(max(lockedOffset + 4, holderOffset + 8)))
                var holds = state.i32(lockedOffset) == 1 && state.u64(holderOffset) == tstate
                if !holds, let flag = l.tstateHoldsGil { holds = try read(tstate + flag, 4).i32(0) != 0 }
                return holds
            }
            if let lockedOffset = l.runtimeGilLocked {
                // 3.11: one GIL in the runtime; the holder as in beginTick.
                let end = [lockedOffset + 4, (l.runtimeTstateCurrent ?? 0) + 8, (l.runtimeGilLastHolder ?? 0) + 8].max()!
                let runtime = try read(runtimeAddress, Int(end))
                guard runtime.i32(lockedOffset) == 1 else { return false }
                var holder = l.runtimeTstateCurrent.map { runtime.u64($0) } ?? 0
                if holder == 0, let last = l.runtimeGilLastHolder { holder = runtime.u64(last) }
                return holder == tstate
            }
        } catch {}
        return holdsGIL(tid: tid)
    }

    /// Whether the thread had asked for the GIL (`gil_requested`, 3.15+); nil when the
    /// build does not say (the recorder then looks for `take_gil` in the native stack).
    public func requestsGIL(tid: Int32) -> Bool? {
        guard layout.tstateGilRequested != nil, gilInEffect else { return nil }
        return gilRequesters.contains(tid)
    }

    /// The bytes of the GIL the thread's interpreter uses: a thread blocked on a futex
    /// in there waits for the GIL (its condition variable or mutex), whatever the
    /// native stack's symbols say. nil when unknown or when the GIL is disabled.
    public func gilAddressRange(tid: Int32) -> Range<UInt64>? {
        guard gilInEffect else { return nil }
        let gil: UInt64?
        if let id = interpreterOfTid[tid], let address = gilOfInterpreter[id] {
            gil = address
        } else if let lastHolder = layout.runtimeGilLastHolder {
            gil = runtimeAddress + lastHolder - 8  // 3.11: _PyRuntime.ceval.gil, `interval` first
        } else {
            gil = nil
        }
        return gil.map { $0..<($0 + Self.gilStateSize) }
    }

    /// The interpreter id whose thread state the thread had at the last `beginTick`.
    public func interpreterId(tid: Int32) -> Int64? { interpreterOfTid[tid] }

    /// What the profile records of this runtime: version, build, GIL, interpreters.
    public var runtimeInfo: PythonRuntimeInfo {
        PythonRuntimeInfo(version: version, freeThreaded: layout.freeThreaded, gilEnabled: gilEnabled,
                          interpreters: lastInterpreters.isEmpty ? nil
                              : lastInterpreters.map { PythonInterpreterInfo(id: $0.id, ownGIL: $0.id == 0 ? nil : $0.ownGIL) })
    }

    /// The tids that had a Python thread state at the last `beginTick`.
    public var pythonThreadIds: [Int32] { threadStates.keys.sorted() }

    /// The Python stack of one thread, **leaf first**; nil when the thread has no Python
    /// thread state (not a Python thread, or it has exited), empty when it is a Python
    /// thread not running Python code right now.
    public func stack(forTid tid: Int32) throws(PythonReadError) -> [PythonFrame]? {
        guard let tstate = threadStates[tid] else { return nil }
        let l = layout
        let state = try read(tstate, l.tstateReadSize)
        // The state may have been freed and reused since beginTick.
        guard state.u64(l.tstateNativeThreadId) == UInt64(tid) else { return nil }

        var frameAddress: UInt64
        if let cframeOffset = l.tstateCFrame {
            let cframe = state.u64(cframeOffset)
            guard cframe != 0 else { return [] }
            frameAddress = try pointer(cframe + l.cframeCurrentFrame)
        } else if let currentOffset = l.tstateCurrentFrame {
            frameAddress = state.u64(currentOffset)
        } else {
            return []
        }

        var frames: [PythonFrame] = []
        var seen = Set<UInt64>()
        while frameAddress != 0, frames.count < Self.maxFrames {
            guard seen.insert(frameAddress).inserted else {
                throw .inconsistent("frame chain loops at 0x\(String(frameAddress, radix: 16))")
            }
            let frame = try read(frameAddress, l.frameReadSize)
            let previous = frame.u64(l.framePrevious)
            let owner = frame.u8(l.frameOwner)
            if let shim = l.ownerShimMinimum, owner >= shim {
                // A shim pushed where C called into Python (3.12+): the Python frame
                // below it was entered from C.
                if let last = frames.indices.last { frames[last].isEntry = true }
                frameAddress = previous
                continue
            }
            let codeAddress = frame.u64(l.frameCode) & ~l.frameExecutableTagMask
            let code = try codeInfo(at: codeAddress)
            let instr = frame.u64(l.framePrevInstr)
            var codeStart = codeAddress &+ l.codeCodeAdaptive
            if let tlbcOffset = l.frameTlbcIndex, let copy = try threadLocalBytecode(code: codeAddress, index: frame.i32(tlbcOffset)) {
                codeStart = copy
            }
            var line = code.firstLine
            if instr >= codeStart {
                let unit = Int(truncatingIfNeeded: (instr &- codeStart) / 2)
                switch l.lineTableFormat {
                case .locationTable311:
                    line = PythonLineTable.line311(table: code.lineTable, firstLine: code.firstLine, codeUnit: unit)
                        ?? code.firstLine
                }
            }
            let isEntry = l.frameIsEntry.map { frame.u8($0) != 0 } ?? false
            frames.append(PythonFrame(name: code.name, file: code.file, line: line, isEntry: isEntry))
            frameAddress = previous
        }
        // 3.12+: the root frame is entered from C even without a shim after it.
        if l.ownerShimMinimum != nil, let last = frames.indices.last { frames[last].isEntry = true }
        return frames
    }

    /// Free-threaded 3.14+: the start of the thread-local copy `index` of a code
    /// object's bytecode (`co_tlbc->entries[index]`); nil for copy 0 (the code object's
    /// own `_co_code_adaptive`) or when the array does not have it.
    private func threadLocalBytecode(code: UInt64, index: Int32) throws(PythonReadError) -> UInt64? {
        guard index > 0, let tlbcOffset = layout.codeTlbc else { return nil }
        let array = try pointer(code + tlbcOffset)
        guard array != 0 else { return nil }
        let size = Int64(bitPattern: try pointer(array))
        guard size > Int64(index), size < 1 << 20 else { return nil }
        let entry = try pointer(array + 8 + UInt64(index) * 8)
        return entry == 0 ? nil : entry
    }

    // MARK: - Reading objects

    private func codeInfo(at address: UInt64) throws(PythonReadError) -> CodeInfo {
        let l = layout
        let headerEnd = Int(max(l.codeQualname, l.codeLinetable, l.codeFilename, l.codeName) + 8)
        let header = try read(address, headerEnd)
        let key = [header.u64(l.codeFilename), header.u64(l.codeQualname), header.u64(l.codeLinetable),
                   UInt64(bitPattern: Int64(header.i32(l.codeFirstLineNo)))]
        if let cached = codeCache[address], cached.key == key { return cached }
        if codeCache.count >= Self.maxCachedCodes { codeCache.removeAll(keepingCapacity: true) }
        // 3.13+ frames point at "executables" that are not always code objects.
        if l.fromDebugOffsets, try typeName(ofObject: address) != "code" {
            throw .inconsistent("frame executable at 0x\(String(address, radix: 16)) is not a code object")
        }
        let firstLine = Int(header.i32(l.codeFirstLineNo))
        guard firstLine >= 0 else { throw .inconsistent("code object at 0x\(String(address, radix: 16)) has line \(firstLine)") }
        var info = CodeInfo(
            key: key,
            name: try string(at: key[1]),
            file: try string(at: key[0]),
            firstLine: firstLine,
            lineTable: try bytesObject(at: key[2], limit: Self.maxLineTableBytes))
        if info.name.isEmpty { info.name = try string(at: header.u64(l.codeName)) }
        codeCache[address] = info
        return info
    }

    /// The `tp_name` of the object's type, cached per type object.
    func typeName(ofObject object: UInt64) throws(PythonReadError) -> String {
        let type = try pointer(object + layout.objectType)
        if let name = typeNames[type] { return name }
        let namePointer = try pointer(type + layout.typeName)
        let raw = try read(namePointer, 16)  // enough for the type names checked
        let name = String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        if typeNames.count > 256 { typeNames.removeAll() }
        typeNames[type] = name
        return name
    }

    /// A `str` object's text (compact strings only, which is every string the reader
    /// looks at), cut at `maxStringLength` characters.
    func string(at address: UInt64) throws(PythonReadError) -> String {
        let l = layout
        let header = try read(address, Int(max(l.unicodeASCIIData, l.unicodeState + 4)))
        guard try typeName(ofObject: address) == "str" else {
            throw .inconsistent("object at 0x\(String(address, radix: 16)) is not a str")
        }
        let length = Int(bitPattern: UInt(header.u64(l.unicodeLength)))
        guard length >= 0, length < 1 << 31 else { throw .inconsistent("str length \(length)") }
        let state = header.u32(l.unicodeState) >> l.unicodeStateShift
        let kind = Int((state >> 2) & 7)
        let compact = (state >> 5) & 1 == 1
        let ascii = (state >> 6) & 1 == 1
        guard compact, [1, 2, 4].contains(kind) else {
            throw .inconsistent("str at 0x\(String(address, radix: 16)) is not compact")
        }
        let count = min(length, Self.maxStringLength)
        if count == 0 { return "" }
        let data = address + (ascii ? l.unicodeASCIIData : l.unicodeCompactData)
        let raw = try read(data, count * kind)
        switch kind {
        case 1:
            return ascii ? String(decoding: raw, as: UTF8.self)
                : String(String.UnicodeScalarView(raw.map { Unicode.Scalar($0) }))
        case 2:
            let units = stride(from: 0, to: raw.count, by: 2).map { UInt16(raw[$0]) | UInt16(raw[$0 + 1]) << 8 }
            return String(decoding: units, as: UTF16.self)
        default:
            var scalars = String.UnicodeScalarView()
            for i in stride(from: 0, to: raw.count, by: 4) {
                let value = UInt32(raw[i]) | UInt32(raw[i + 1]) << 8 | UInt32(raw[i + 2]) << 16 | UInt32(raw[i + 3]) << 24
                scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
            }
            return String(scalars)
        }
    }

    /// A `bytes` object's contents, refused above `limit` bytes.
    private func bytesObject(at address: UInt64, limit: Int) throws(PythonReadError) -> [UInt8] {
        let l = layout
        guard try typeName(ofObject: address) == "bytes" else {
            throw .inconsistent("object at 0x\(String(address, radix: 16)) is not bytes")
        }
        let size = Int(bitPattern: UInt(try pointer(address + l.varObjectSize)))
        guard size >= 0, size <= limit else { throw .inconsistent("bytes of size \(size)") }
        return size == 0 ? [] : try read(address + l.bytesData, size)
    }

    func read(_ address: UInt64, _ count: Int) throws(PythonReadError) -> [UInt8] {
        do { return try memory.bytes(at: address, count: count) } catch { throw .memory(error) }
    }

    func pointer(_ address: UInt64) throws(PythonReadError) -> UInt64 {
        do { return try memory.pointer(at: address) } catch { throw .memory(error) }
    }
}

extension Array where Element == UInt8 {
    /// Little-endian reads from a buffer read out of the target; offsets come from the
    /// layout table and are always inside the buffer read for them.
    func u64(_ offset: UInt64) -> UInt64 {
        let o = Int(offset)
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(self[o + i]) << (8 * UInt64(i)) }
        return value
    }

    func i32(_ offset: UInt64) -> Int32 {
        let o = Int(offset)
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(self[o + i]) << (8 * UInt32(i)) }
        return Int32(bitPattern: value)
    }

    func u32(_ offset: UInt64) -> UInt32 { UInt32(bitPattern: i32(offset)) }

    func u8(_ offset: UInt64) -> UInt8 { self[Int(offset)] }
}
