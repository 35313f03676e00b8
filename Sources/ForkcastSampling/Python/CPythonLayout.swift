/// Where CPython keeps what the reader needs, for one minor version: byte offsets of
/// struct fields, as data. Adding a version is adding a table (see docs/python.md).
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
    /// `_PyRuntime.ceval.gil.last_holder` (`_Py_atomic_address`).
    public var runtimeGilLastHolder: UInt64
    /// `_PyRuntime.ceval.gil.locked` (`_Py_atomic_int`, 4 bytes; -1 before init).
    public var runtimeGilLocked: UInt64
    /// `_PyRuntime.gilstate.tstate_current`: the thread state holding the GIL (NULL
    /// while it is released). nil from 3.12 on (moved to a thread-local).
    public var runtimeTstateCurrent: UInt64?

    // PyInterpreterState
    public var interpNext: UInt64
    public var interpThreadsHead: UInt64
    /// `PyInterpreterState.modules` (`sys.modules`), for thread names.
    public var interpModules: UInt64

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
    /// The `owner` value of a shim frame owned by the C stack (3.12+): such a frame is
    /// not shown, and marks the frame after it as an entry frame. nil for 3.11.
    public var ownerCStack: UInt8?
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
    /// `PyASCIIObject.state` (a bit field: interned:2, kind:3, compact:1, ascii:1).
    public var unicodeState: UInt64
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

    /// The line-table encodings CPython has used.
    public enum LineTableFormat: Sendable, Equatable {
        /// 3.11+: the "location table" (Objects/locations.md).
        case locationTable311
    }

    /// Every supported minor version.
    public static let all: [CPythonLayout] = [.python311]

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
        ownerCStack: nil,
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
}
