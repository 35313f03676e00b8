/// Where CPython keeps what the reader needs, for one build: byte offsets of struct
/// fields, as data. 3.13+ layouts are built from the target's own `_Py_DebugOffsets`
/// (`CPythonLayout(debugOffsets:)`); 3.11 and 3.12 are tables (see docs/python.md).
///
/// The 3.11 values were printed by a C program compiled against the 3.11 headers
/// with `Py_BUILD_CORE` (`offsetof(...)`, see `Tests/Fixtures/python/offsets.c`) and are
/// identical for 3.11.2 (Debian) and 3.11.7 (pyenv); CPython keeps struct layouts
/// stable within a minor version. Fields a version does not have are nil.
public struct CPythonLayout: Sendable, Equatable {
    /// "3.11": the minor version the table describes.
    public var version: String

    // _PyRuntimeState (the exported `_PyRuntime`)
    /// `_PyRuntime.interpreters.head`: newest interpreter first.
    public var runtimeInterpretersHead: UInt64
    /// `_PyRuntime.ceval.gil.last_holder` (`_Py_atomic_address`); 3.11 only (3.12+ keep
    /// a GIL per interpreter, see `interpGilPointer`).
    public var runtimeGilLastHolder: UInt64?
    /// `_PyRuntime.ceval.gil.locked` (`_Py_atomic_int`, 4 bytes; -1 before init); 3.11 only.
    public var runtimeGilLocked: UInt64?
    /// `_PyRuntime.gilstate.tstate_current`: the thread state holding the GIL (NULL
    /// while it is released). nil from 3.12 on (moved to a thread-local).
    public var runtimeTstateCurrent: UInt64?

    // PyInterpreterState
    public var interpNext: UInt64
    public var interpThreadsHead: UInt64
    /// `PyInterpreterState.modules` (`sys.modules`), for thread names.
    public var interpModules: UInt64
    /// `PyInterpreterState.id` (int64; 0 = main). nil for 3.11 (only the main
    /// interpreter is labelled there).
    public var interpId: UInt64? = nil
    /// `PyInterpreterState.ceval.gil` (3.12+): pointer to the GIL this interpreter uses —
    /// its own `_gil`, or the main interpreter's when it shares it.
    public var interpGilPointer: UInt64? = nil
    /// `PyInterpreterState._gil` (3.12+): the interpreter's own GIL storage.
    public var interpOwnGil: UInt64? = nil
    /// Inside a `_gil_runtime_state` (3.12+): `locked` (int), `last_holder`, and on
    /// free-threaded builds `enabled` (int, > 0 while the GIL is enabled).
    public var gilLocked: UInt64? = nil
    public var gilLastHolder: UInt64? = nil
    public var gilEnabled: UInt64? = nil

    // PyThreadState
    public var tstateNext: UInt64
    /// `PyThreadState.cframe` (3.11, 3.12): the `_PyCFrame` of the innermost
    /// `_PyEval_EvalFrameDefault` call. nil when `tstateCurrentFrame` is used instead.
    public var tstateCFrame: UInt64?
    /// `PyThreadState.current_frame` (3.13+), when there is no `_PyCFrame`.
    public var tstateCurrentFrame: UInt64?
    /// `PyThreadState.thread_id`: the `pthread_t` (what `threading.get_ident()` returns).
    public var tstateThreadId: UInt64
    /// `PyThreadState.native_thread_id`: the kernel tid.
    public var tstateNativeThreadId: UInt64
    /// `PyThreadState.holds_gil` / `gil_requested` (int, 3.15+ from the debug offsets).
    public var tstateHoldsGil: UInt64? = nil
    public var tstateGilRequested: UInt64? = nil
    /// How many bytes of a PyThreadState to read to cover every field above.
    public var tstateReadSize: Int

    // _PyCFrame
    public var cframeCurrentFrame: UInt64

    // _PyInterpreterFrame
    public var frameCode: UInt64
    public var framePrevious: UInt64
    public var framePrevInstr: UInt64
    /// `_PyInterpreterFrame.is_entry` (bool, 3.11 only): the outermost frame of one
    /// `_PyEval_EvalFrameDefault` call. nil when entry frames are marked by `owner`.
    public var frameIsEntry: UInt64?
    /// `_PyInterpreterFrame.owner` (char).
    public var frameOwner: UInt64
    /// From this `owner` value up, a frame is a shim the interpreter pushes when C
    /// calls into Python (3.12/3.13 `FRAME_OWNED_BY_CSTACK` = 3; 3.14
    /// `FRAME_OWNED_BY_INTERPRETER` = 3 and `CSTACK` = 4; 3.15 `INTERPRETER` = 3): not
    /// shown, it marks the frame after it as an entry frame. nil for 3.11.
    public var ownerShimMinimum: UInt8?
    /// `_PyInterpreterFrame.tlbc_index` (int32, free-threaded 3.14+): which thread-local
    /// copy of the bytecode `instr_ptr` points into.
    public var frameTlbcIndex: UInt64? = nil
    /// Low bits of `f_executable` that are tags, not address (3.14+ `_PyStackRef`).
    public var frameExecutableTagMask: UInt64 = 0
    /// How many bytes of a frame to read to cover every field above.
    public var frameReadSize: Int

    // PyCodeObject
    public var codeFirstLineNo: UInt64
    public var codeFilename: UInt64
    public var codeName: UInt64
    public var codeQualname: UInt64
    public var codeLinetable: UInt64
    public var codeFirstTraceable: UInt64
    /// `_co_code_adaptive`: the first code unit; `prev_instr` points into it.
    public var codeCodeAdaptive: UInt64
    /// `co_tlbc` (free-threaded 3.14+): `_PyCodeArray *` of per-thread bytecode copies
    /// (`{Py_ssize_t size; char *entries[]}`).
    public var codeTlbc: UInt64? = nil
    /// How the line table is encoded.
    public var lineTableFormat: LineTableFormat

    // Objects
    /// `PyObject.ob_type`.
    public var objectType: UInt64
    /// `PyTypeObject.tp_name` (a `char *`).
    public var typeName: UInt64
    /// `PyVarObject.ob_size`.
    public var varObjectSize: UInt64
    /// `PyBytesObject.ob_sval`.
    public var bytesData: UInt64
    /// `PyASCIIObject.length`.
    public var unicodeLength: UInt64
    /// `PyASCIIObject.state` (a bit field: interned:2, kind:3, compact:1, ascii:1; on
    /// free-threaded 3.14+ `interned` is a whole byte, so the rest moves up 6 bits).
    public var unicodeState: UInt64
    /// How far kind/compact/ascii are moved up in `state` (0, or 6 on free-threaded 3.14+).
    public var unicodeStateShift: UInt32 = 0
    /// Where the characters of a compact ASCII string start (`sizeof(PyASCIIObject)`).
    public var unicodeASCIIData: UInt64
    /// Where the characters of a compact non-ASCII string start
    /// (`sizeof(PyCompactUnicodeObject)`).
    public var unicodeCompactData: UInt64

    // Dicts, modules, ints (thread names only)
    public var dictUsed: UInt64
    public var dictKeys: UInt64
    public var dictValues: UInt64
    public var dictKeysLog2Size: UInt64
    public var dictKeysLog2IndexBytes: UInt64
    public var dictKeysKind: UInt64
    public var dictKeysNEntries: UInt64
    public var dictKeysIndices: UInt64
    /// `PyHeapTypeObject.ht_cached_keys`: the shared keys of instances' split dicts.
    public var heapTypeCachedKeys: UInt64
    /// Offset, *before* an object, of its managed `__dict__` pointer (3.11: -3 words).
    public var managedDictBefore: UInt64
    /// Offset, *before* an object, of its inline values pointer (3.11: -4 words).
    public var managedValuesBefore: UInt64
    /// `PyModuleObject.md_dict`.
    public var moduleDict: UInt64
    /// `PyLongObject.ob_digit` (30-bit digits; the count is `ob_size`).
    public var longDigits: UInt64
    /// `PyLongObject.long_value.lv_tag` (3.12+: digit count << 3 | sign); nil when the
    /// count is `ob_size` (3.11).
    public var longTag: UInt64? = nil
    /// `PyTypeObject.tp_flags`, for `Py_TPFLAGS_INLINE_VALUES` (3.13+: an instance's
    /// attribute values follow the object, at `tp_basicsize`); nil before 3.13.
    public var typeFlags: UInt64? = nil
    /// 3.12: one word at `managedDictBefore` holds either the managed `__dict__` or, with
    /// its low bit set, the inline values' address − 1 (`PyDictOrValues`); 3.11 has two
    /// words (dict, values), 3.13+ inline values after the object.
    public var managedDictOrValues: Bool = false

    /// The line-table encodings CPython has used.
    public enum LineTableFormat: Sendable, Equatable {
        /// 3.11+: the "location table" (Objects/locations.md).
        case locationTable311
    }

    /// A free-threaded build (`Py_GIL_DISABLED`).
    public var freeThreaded: Bool = false
    /// Built from the target's `_Py_DebugOffsets` rather than a table.
    public var fromDebugOffsets: Bool = false

    /// Every minor version with a table (3.13+ need none: they describe themselves).
    public static let all: [CPythonLayout] = [.python311, .python312]

    /// The table for a version string "3.11" or "3.11.7", nil when unsupported.
    public static func forVersion(_ version: String) -> CPythonLayout? {
        let parts = version.split(separator: ".")
        guard parts.count >= 2 else { return nil }
        let minor = "\(parts[0]).\(parts[1])"
        return all.first { $0.version == minor }
    }

    /// CPython 3.11 on x86-64 (release builds; `Py_DEBUG` builds differ and are refused
    /// by the sanity checks of the first tick).
    public static let python311 = CPythonLayout(
        version: "3.11",
        runtimeInterpretersHead: 40,
        runtimeGilLastHolder: 368,
        runtimeGilLocked: 376,
        runtimeTstateCurrent: 576,
        interpNext: 0,
        interpThreadsHead: 16,
        interpModules: 888,
        tstateNext: 8,
        tstateCFrame: 56,
        tstateCurrentFrame: nil,
        tstateThreadId: 152,
        tstateNativeThreadId: 160,
        tstateReadSize: 168,
        cframeCurrentFrame: 8,
        frameCode: 32,
        framePrevious: 48,
        framePrevInstr: 56,
        frameIsEntry: 68,
        frameOwner: 69,
        ownerShimMinimum: nil,
        frameReadSize: 70,
        codeFirstLineNo: 72,
        codeFilename: 112,
        codeName: 120,
        codeQualname: 128,
        codeLinetable: 136,
        codeFirstTraceable: 168,
        codeCodeAdaptive: 184,
        lineTableFormat: .locationTable311,
        objectType: 8,
        typeName: 24,
        varObjectSize: 16,
        bytesData: 32,
        unicodeLength: 16,
        unicodeState: 32,
        unicodeASCIIData: 48,
        unicodeCompactData: 72,
        dictUsed: 16,
        dictKeys: 32,
        dictValues: 40,
        dictKeysLog2Size: 8,
        dictKeysLog2IndexBytes: 9,
        dictKeysKind: 10,
        dictKeysNEntries: 24,
        dictKeysIndices: 32,
        heapTypeCachedKeys: 872,
        managedDictBefore: 24,
        managedValuesBefore: 32,
        moduleDict: 16,
        longDigits: 24
    )

    /// CPython 3.12 on x86-64 (release builds). No `_Py_DebugOffsets` before 3.13: the
    /// values were read from the DWARF of pyenv's 3.12.1 `libpython3.12.so.1.0` with gdb
    /// (`print &((struct _is *)0)->threads.head` …, the expressions are in
    /// docs/python.md) and checked against its headers: per-interpreter GIL
    /// (`ceval.gil` → `_gil_runtime_state`), `cframe → current_frame`, `prev_instr`,
    /// shim frames owned by `FRAME_OWNED_BY_CSTACK` (3), no `tstate_current` (a
    /// thread-local since 3.12), `PyDictOrValues` 3 words before an object.
    public static let python312 = CPythonLayout(
        version: "3.12",
        runtimeInterpretersHead: 40,
        runtimeGilLastHolder: nil,
        runtimeGilLocked: nil,
        runtimeTstateCurrent: nil,
        interpNext: 0,
        interpThreadsHead: 72,
        interpModules: 944,
        interpId: 8,
        interpGilPointer: 384,
        interpOwnGil: 1040,
        gilLocked: 16,
        gilLastHolder: 8,
        gilEnabled: nil,
        tstateNext: 8,
        tstateCFrame: 56,
        tstateCurrentFrame: nil,
        tstateThreadId: 136,
        tstateNativeThreadId: 144,
        tstateReadSize: 152,
        cframeCurrentFrame: 0,
        frameCode: 0,
        framePrevious: 8,
        framePrevInstr: 56,
        frameIsEntry: nil,
        frameOwner: 70,
        ownerShimMinimum: 3,
        frameReadSize: 71,
        codeFirstLineNo: 68,
        codeFilename: 112,
        codeName: 120,
        codeQualname: 128,
        codeLinetable: 136,
        codeFirstTraceable: 176,
        codeCodeAdaptive: 192,
        lineTableFormat: .locationTable311,
        objectType: 8,
        typeName: 24,
        varObjectSize: 16,
        bytesData: 32,
        unicodeLength: 16,
        unicodeState: 32,
        unicodeASCIIData: 40,
        unicodeCompactData: 56,
        dictUsed: 16,
        dictKeys: 32,
        dictValues: 40,
        dictKeysLog2Size: 8,
        dictKeysLog2IndexBytes: 9,
        dictKeysKind: 10,
        dictKeysNEntries: 24,
        dictKeysIndices: 32,
        heapTypeCachedKeys: 880,
        managedDictBefore: 24,
        managedValuesBefore: 24,
        moduleDict: 16,
        longDigits: 24,
        longTag: 16,
        managedDictOrValues: true
    )
}

extension CPythonLayout {
    /// The layout of a 3.13+ build, from its own `_Py_DebugOffsets`. Throws when a field
    /// the reader needs is missing (a shape without it).
    public init(debugOffsets d: CPythonDebugOffsets) throws(CPythonDebugOffsets.Failure) {
        func need(_ name: String) throws(CPythonDebugOffsets.Failure) -> UInt64 {
            guard let value = d[name] else { throw .implausible("no \(name)") }
            return value
        }
        let hex = d.versionHex
        let minor = Int((hex >> 16) & 0xFF)
        version = "3.\(minor)"
        freeThreaded = d.freeThreaded
        fromDebugOffsets = true
        runtimeInterpretersHead = try need("runtime_state.interpreters_head")
        runtimeGilLastHolder = nil
        runtimeGilLocked = nil
        runtimeTstateCurrent = nil
        interpNext = try need("interpreter_state.next")
        interpThreadsHead = try need("interpreter_state.threads_head")
        interpModules = try need("interpreter_state.imports_modules")
        interpId = try need("interpreter_state.id")
        interpGilPointer = try need("interpreter_state.ceval_gil")
        let gil = try need("interpreter_state.gil_runtime_state")
        interpOwnGil = gil
        let locked = try need("interpreter_state.gil_runtime_state_locked")
        let holder = try need("interpreter_state.gil_runtime_state_holder")
        guard locked >= gil, holder >= gil else { throw .implausible("GIL fields before the GIL") }
        gilLocked = locked - gil
        gilLastHolder = holder - gil
        // Unlike its neighbours, `gil_runtime_state_enabled` is an offset inside
        // `struct _gil_runtime_state` (where `enabled` is the first field: 0), and it is 0
        // on default builds, which have no such field.
        if d.freeThreaded, let enabled = d["interpreter_state.gil_runtime_state_enabled"], enabled < 64 {
            gilEnabled = enabled
        }
        tstateNext = try need("thread_state.next")
        tstateCFrame = nil
        tstateCurrentFrame = try need("thread_state.current_frame")
        tstateThreadId = try need("thread_state.thread_id")
        tstateNativeThreadId = try need("thread_state.native_thread_id")
        tstateHoldsGil = d["thread_state.holds_gil"].flatMap { $0 > 0 ? $0 : nil }
        tstateGilRequested = d["thread_state.gil_requested"].flatMap { $0 > 0 ? $0 : nil }
        let tstateFields = [tstateNext, tstateCurrentFrame!, tstateThreadId, tstateNativeThreadId].map { $0 + 8 }
            + [tstateHoldsGil, tstateGilRequested].compactMap { $0.map { $0 + 4 } }
        tstateReadSize = Int(tstateFields.max()!)
        cframeCurrentFrame = 0
        frameCode = try need("interpreter_frame.executable")
        framePrevious = try need("interpreter_frame.previous")
        framePrevInstr = try need("interpreter_frame.instr_ptr")
        frameIsEntry = nil
        frameOwner = try need("interpreter_frame.owner")
        ownerShimMinimum = 3
        if d.freeThreaded, let tlbc = d["interpreter_frame.tlbc_index"], tlbc > 0,
           let codeTlbc = d["code_object.co_tlbc"], codeTlbc > 0 {
            frameTlbcIndex = tlbc
            self.codeTlbc = codeTlbc
        }
        // 3.14 made f_executable a _PyStackRef: its low bits are tags (deferred
        // reference counting, tagged ints). Objects are at least 8-byte aligned.
        frameExecutableTagMask = minor >= 14 ? 7 : 0
        frameReadSize = Int([frameCode + 8, framePrevious + 8, framePrevInstr + 8, frameOwner + 1,
                             (frameTlbcIndex ?? 0) + 4].max()!)
        codeFirstLineNo = try need("code_object.firstlineno")
        codeFilename = try need("code_object.filename")
        codeName = try need("code_object.name")
        codeQualname = try need("code_object.qualname")
        codeLinetable = try need("code_object.linetable")
        codeFirstTraceable = 0
        codeCodeAdaptive = try need("code_object.co_code_adaptive")
        lineTableFormat = .locationTable311
        objectType = try need("pyobject.ob_type")
        typeName = try need("type_object.tp_name")
        varObjectSize = try need("bytes_object.ob_size")
        bytesData = try need("bytes_object.ob_sval")
        unicodeLength = try need("unicode_object.length")
        unicodeState = try need("unicode_object.state")
        // 3.14t made `interned` a whole byte (atomic access); 3.13t kept the bit field.
        unicodeStateShift = d.freeThreaded && minor >= 14 ? 6 : 0
        unicodeASCIIData = try need("unicode_object.asciiobject_size")
        // PyCompactUnicodeObject = PyASCIIObject + utf8_length + utf8.
        unicodeCompactData = d["unicode_object.compactunicodeobject_size"] ?? (unicodeASCIIData + 16)
        dictUsed = varObjectSize
        dictKeys = try need("dict_object.ma_keys")
        dictValues = try need("dict_object.ma_values")
        // PyDictKeysObject: refcnt, log2_size, log2_index_bytes, kind, (mutex,) version,
        // usable, nentries, indices — the same offsets on 3.11–3.15, both builds.
        dictKeysLog2Size = 8
        dictKeysLog2IndexBytes = 9
        dictKeysKind = 10
        dictKeysNEntries = 24
        dictKeysIndices = 32
        // `PyHeapTypeObject.ht_cached_keys`: 3.15 publishes it; 3.13 and 3.14 have it at
        // 880 (ptype of Debian's builds), 16 bytes further on free-threaded builds
        // whose object header is 16 bytes bigger.
        heapTypeCachedKeys = d["heap_type_object.ht_cached_keys"] ?? (880 + (d.freeThreaded ? 16 : 0))
        managedDictBefore = 24
        managedValuesBefore = 0
        moduleDict = objectType + 8
        longDigits = try need("long_object.ob_digit")
        longTag = d["long_object.lv_tag"]
        typeFlags = d["type_object.tp_flags"]
    }
}
