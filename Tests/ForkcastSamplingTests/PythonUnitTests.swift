import ForkcastModel
import ForkcastSystem
import XCTest
@testable import ForkcastSampling

/// The parts of the Python reader that need no process: the line table, merging,
/// state rules, version parsing, and the reader against a fake address space.
final class PythonLineTableTests: XCTestCase {
    /// From a real 3.11 code object (identical on 3.11.2 and 3.11.7): the function in
    /// the comment, its `co_linetable`, and `[p[0] for p in co_positions()]`, one line
    /// per code unit.
    ///
    ///     def f(a, b):              # line 2
    ///         x = a + b
    ///         if x > 10:
    ///             for i in range(x):
    ///                 x -= i
    ///
    ///                 y = [j * 2
    ///                      for j in range(3)]
    ///         return (x,
    ///                 y if x else None)
    func testDecodesA311LocationTableLikeCoPositions() {
        let hex = "8000d80809884189058041d80708883282768076dd1116907191189418f000040924f0000409248841d80c0d901189468841f004011124f000011124dd1a1fa00199289c28f003011124f100011124f40001112488418841e00c0dd81112d00c1c884188419804f003010c1ef00001051e"
        let table = stride(from: 0, to: hex.count, by: 2).map { i -> UInt8 in
            let start = hex.index(hex.startIndex, offsetBy: i)
            return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)!
        }
        let expected = [2, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6,
                        8, 8, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 10, 11, 11, 11, 11, 11, 10, 10]
        let decoded = expected.indices.map { PythonLineTable.line311(table: table, firstLine: 2, codeUnit: $0) }
        XCTAssertEqual(decoded, expected)
        XCTAssertNil(PythonLineTable.line311(table: table, firstLine: 2, codeUnit: expected.count))
    }

    func testLongFormNoLocationAndCorruptTables() {
        // Long form (code 14): line delta +300 (signed varint 600 = 0x58 | 0x40, 0x09),
        // end-line 0, column 1, end column 2; then 2 units with no location (code 15).
        let table: [UInt8] = [0x80 | 14 << 3 | 0, 0x58 | 0x40, 0x09, 0x00, 0x01, 0x02, 0x80 | 15 << 3 | 1]
        XCTAssertEqual(PythonLineTable.line311(table: table, firstLine: 10, codeUnit: 0), 310)
        XCTAssertNil(PythonLineTable.line311(table: table, firstLine: 10, codeUnit: 1))
        XCTAssertNil(PythonLineTable.line311(table: table, firstLine: 10, codeUnit: 2))
        // A byte without the entry marker where an entry should start.
        XCTAssertNil(PythonLineTable.line311(table: [0x01, 0x02], firstLine: 1, codeUnit: 0))
        // A varint that never ends.
        XCTAssertNil(PythonLineTable.line311(table: [0x80 | 13 << 3, 0x40, 0x40], firstLine: 1, codeUnit: 0))
    }
}

final class PythonStackMergerTests: XCTestCase {
    func native(_ name: String) -> Frame { Frame(kind: .native, name: name, module: "/usr/bin/python3.11", offset: 0x10) }
    func py(_ name: String, entry: Bool = false) -> PythonFrame { PythonFrame(name: name, file: "/app/x.py", line: 7, isEntry: entry) }

    func testEachEvalFrameTakesItsOwnGroup() {
        // Python: leaf → root. `callback` was called from C (sorted's key) inside `work`.
        let python = [py("callback"), py("helper", entry: true), py("work"), py("<module>", entry: true)]
        let native = [native("sha256_update"), native("_PyEval_EvalFrameDefault"), native("_PyObject_Call"),
                      native("list_sort_impl"), native("_PyEval_EvalFrameDefault.cold"), native("PyRun_FileExFlags"), native("main")]
        let merged = PythonStackMerger.merge(native: native, python: python)
        XCTAssertEqual(merged.map(\.name), ["sha256_update", "callback", "helper", "_PyObject_Call", "list_sort_impl",
                                            "work", "<module>", "PyRun_FileExFlags", "main"])
        XCTAssertEqual(merged.filter { $0.kind == .python }.count, 4)
        XCTAssertEqual(merged[1].file, "/app/x.py")
        XCTAssertEqual(merged[1].line, 7)
    }

    func testMoreEvalFramesThanGroupsKeepsTheLeafSurplus() {
        let python = [py("work"), py("<module>", entry: true)]
        let native = [native("_PyEval_EvalFrameDefault"), native("x"), native("_PyEval_EvalFrameDefault"), native("main")]
        XCTAssertEqual(PythonStackMerger.merge(native: native, python: python).map(\.name),
                       ["_PyEval_EvalFrameDefault", "x", "work", "<module>", "main"])
    }

    func testMoreGroupsThanEvalFramesGoToTheLeafMostEval() {
        let python = [py("c", entry: true), py("b", entry: true), py("a", entry: true)]
        let native = [native("leaf"), native("_PyEval_EvalFrameDefault"), native("mid"), native("_PyEval_EvalFrameDefault"), native("main")]
        XCTAssertEqual(PythonStackMerger.merge(native: native, python: python).map(\.name),
                       ["leaf", "c", "b", "mid", "a", "main"])
    }

    func testNoEvalFramesAppendsPythonAtTheRoot() {
        let python = [py("b"), py("a", entry: true)]
        XCTAssertEqual(PythonStackMerger.merge(native: [native("futex_wait")], python: python).map(\.name), ["futex_wait", "b", "a"])
        XCTAssertEqual(PythonStackMerger.merge(native: [], python: python).map(\.name), ["b", "a"])
        XCTAssertEqual(PythonStackMerger.merge(native: [native("x")], python: []).map(\.name), ["x"])
    }

    func testEvalFrameNameMatching() {
        XCTAssertTrue(PythonStackMerger.isEvalFrame(native("_PyEval_EvalFrameDefault")))
        XCTAssertTrue(PythonStackMerger.isEvalFrame(native("_PyEval_EvalFrameDefault.lto_priv.0")))
        XCTAssertFalse(PythonStackMerger.isEvalFrame(native("_PyEval_EvalFrameDefaultX")))
        XCTAssertFalse(PythonStackMerger.isEvalFrame(native("_PyEval_EvalFrame")))
    }
}

final class PythonStateRulesTests: XCTestCase {
    func stack(_ names: String...) -> [Frame] { names.map { Frame(kind: .native, name: $0) } }

    func testTakeGilIsGilWait() {
        let frames = stack("futex_abstimed_wait_cancelable", "__pthread_cond_timedwait", "take_gil.lto_priv.0",
                           "PyEval_RestoreThread", "_PyEval_EvalFrameDefault", "main")
        XCTAssertEqual(PythonStateRules.refine(.lockWait, nativeStack: frames), .gilWait)
        XCTAssertEqual(PythonStateRules.refine(.other, nativeStack: stack("syscall", "take_gil")), .gilWait)
        XCTAssertEqual(PythonStateRules.refine(.onCPU, nativeStack: frames), .onCPU)
        XCTAssertEqual(PythonStateRules.refine(.runnable, nativeStack: frames), .runnable)
    }

    func testThreadingLockStaysLockWait() {
        let frames = stack("futex_wait", "__new_sem_wait_slow64", "PyThread_acquire_lock_timed", "acquire_timed",
                           "lock_PyThread_acquire_lock", "_PyEval_EvalFrameDefault", "take_gil")
        XCTAssertEqual(PythonStateRules.refine(.lockWait, nativeStack: frames), .lockWait)
        XCTAssertEqual(PythonStateRules.refine(.other, nativeStack: frames), .lockWait)
        // A plain futex outside both paths is left as it was.
        XCTAssertEqual(PythonStateRules.refine(.lockWait, nativeStack: stack("__lll_lock_wait", "pthread_mutex_lock")), .lockWait)
        XCTAssertEqual(PythonStateRules.refine(.other, nativeStack: stack("sigwait")), .other)
        XCTAssertEqual(PythonStateRules.refine(.sleep, nativeStack: stack("clock_nanosleep", "take_gil")), .sleep)
    }
}

final class PythonDetectionTests: XCTestCase {
    func testVersionParsing() {
        XCTAssertEqual(CPythonInspector.versionString(hex: 0x030B07F0), "3.11.7")
        XCTAssertEqual(CPythonInspector.versionString(hex: 0x030C00C1), "3.12.0rc1")
        XCTAssertNil(CPythonInspector.versionString(hex: 0x020700F0))
        XCTAssertNil(CPythonInspector.versionString(hex: 0xDEADBEEF_030B07F0))
        XCTAssertEqual(CPythonInspector.versionFromFileName("/usr/lib/x86_64-linux-gnu/libpython3.9.so.1.0"), "3.9")
        XCTAssertEqual(CPythonInspector.versionFromFileName("/usr/bin/python3.11d"), "3.11")
        XCTAssertNil(CPythonInspector.versionFromFileName("/usr/bin/python3"))
        XCTAssertNil(CPythonInspector.versionFromFileName("/bin/bash"))
        XCTAssertNotNil(CPythonLayout.forVersion("3.11.2"))
        XCTAssertNil(CPythonLayout.forVersion("3.9.18"))
    }

    func testUnsupportedVersionIsOneClearNote() {
        let maps = [PythonMapping(start: 0x400000, end: 0x401000, offset: 0, path: "/usr/bin/python3.9"),
                    PythonMapping(start: 0x7f0000000000, end: 0x7f0000100000, offset: 0, path: "/usr/lib/libpython3.9.so.1.0")]
        var asked: [String] = []
        let detection = CPythonInspector.detect(pid: 1, maps: maps, symbolAddress: { path, name in
            asked.append("\(path):\(name)")
            return path.hasSuffix(".so.1.0") && name == "_PyRuntime" ? 0x7f0000001000 : nil
        }, memory: FakeMemory())
        guard case .unsupported(let version, let note) = detection else { return XCTFail("\(detection)") }
        XCTAssertEqual(version, "3.9")
        XCTAssertTrue(note.hasPrefix("Python frames unavailable for CPython 3.9:"), note)
        XCTAssertEqual(asked.first, "/usr/lib/libpython3.9.so.1.0:_PyRuntime")
    }

    func testNotPython() {
        let maps = [PythonMapping(start: 0x400000, end: 0x401000, offset: 0, path: "/bin/bash")]
        let detection = CPythonInspector.detect(pid: 1, maps: maps, symbolAddress: { _, _ in nil }, memory: FakeMemory())
        guard case .notCPython = detection else { return XCTFail("\(detection)") }
    }

    func testRuntimeSymbolIsFoundInDebiansStrippedBuild() throws {
        let path = PythonInterpreters.debian
        try PythonInterpreters.require(path)
        // Non-PIE: the load bias is 0, so the run-time address is the ELF value.
        let map = AddressSpaceMap([MemoryMapping(start: 0x400000, end: 0x41f000, offset: 0, permissions: "r--p", path: path)])
        let lookup = PythonSampling.symbolAddress(Symbolizer(), map)
        XCTAssertEqual(lookup(path, "_PyRuntime"), 0xa56220)
        XCTAssertNil(lookup(path, "no_such_symbol_anywhere"))
    }
}

/// A sparse fake address space: regions written by the test, everything else unmapped.
final class FakeMemory: RemoteMemoryReading, @unchecked Sendable {
    private var regions: [(UInt64, [UInt8])] = []
    var reads = 0

    func write(_ address: UInt64, _ bytes: [UInt8]) { regions.append((address, bytes)) }
    func write(_ address: UInt64, u64 value: UInt64) { write(address, (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }) }

    func read(address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(RemoteMemoryError) {
        reads += 1
        for i in 0..<buffer.count {
            let a = address + UInt64(i)
            guard let region = regions.last(where: { a >= $0.0 && a < $0.0 + UInt64($0.1.count) }) else {
                throw .badAddress(address: address, length: buffer.count)
            }
            buffer[i] = region.1[Int(a - region.0)]
        }
    }
}

final class PythonFakeMemoryTests: XCTestCase {
    let l = CPythonLayout.python311

    /// A minimal 3.11 interpreter: one thread (tid 42) whose frame chain is given.
    func makeInterpreter(frames: [UInt64], previous: [UInt64], gilLocked: Int32 = 1) -> (FakeMemory, CPythonInspector) {
        let m = FakeMemory()
        let runtime: UInt64 = 0x10000, interp: UInt64 = 0x20000, tstate: UInt64 = 0x30000, cframe: UInt64 = 0x40000
        m.write(runtime, [UInt8](repeating: 0, count: 600))
        m.write(runtime + l.runtimeInterpretersHead, u64: interp)
        m.write(runtime + l.runtimeGilLocked!, (0..<4).map { UInt8(truncatingIfNeeded: gilLocked >> (8 * $0)) })
        m.write(runtime + l.runtimeTstateCurrent!, u64: tstate)
        m.write(interp, [UInt8](repeating: 0, count: 1000))
        m.write(interp + l.interpThreadsHead, u64: tstate)
        m.write(tstate, [UInt8](repeating: 0, count: 200))
        m.write(tstate + l.tstateCFrame!, u64: cframe)
        m.write(tstate + l.tstateNativeThreadId, u64: 42)
        m.write(tstate + l.tstateThreadId, u64: 0x7f00_0000_1000)
        m.write(cframe, [UInt8](repeating: 0, count: 24))
        m.write(cframe + l.cframeCurrentFrame, u64: frames.first ?? 0)
        // Types, strings, a code object.
        let strType: UInt64 = 0x50000, bytesType: UInt64 = 0x50100
        m.write(strType + l.typeName, u64: 0x50200); m.write(0x50200, Array("str\0\0\0\0\0\0\0\0\0\0\0\0\0".utf8))
        m.write(bytesType + l.typeName, u64: 0x50300); m.write(0x50300, Array("bytes\0\0\0\0\0\0\0\0\0\0\0".utf8))
        func str(_ at: UInt64, _ text: String) {
            m.write(at, [UInt8](repeating: 0, count: 48))
            m.write(at + l.objectType, u64: strType)
            m.write(at + l.unicodeLength, u64: UInt64(text.utf8.count))
            m.write(at + l.unicodeState, [0b0110_0100])  // ascii, compact, kind 1
            m.write(at + l.unicodeASCIIData, Array(text.utf8))
        }
        str(0x60000, "spin"); str(0x60100, "/app/x.py")
        let lineTable: UInt64 = 0x60200
        m.write(lineTable, [UInt8](repeating: 0, count: 32))
        m.write(lineTable + l.objectType, u64: bytesType)
        m.write(lineTable + l.varObjectSize, u64: 2)
        m.write(lineTable + l.bytesData, [0x80 | 11 << 3 | 3, 0x00])  // 4 units, line +1
        let code: UInt64 = 0x70000
        m.write(code, [UInt8](repeating: 0, count: 200))
        m.write(code + l.codeFirstLineNo, [9, 0, 0, 0])
        m.write(code + l.codeFilename, u64: 0x60100)
        m.write(code + l.codeName, u64: 0x60000)
        m.write(code + l.codeQualname, u64: 0x60000)
        m.write(code + l.codeLinetable, u64: lineTable)
        for (frame, prev) in zip(frames, previous) {
            m.write(frame, [UInt8](repeating: 0, count: 72))
            m.write(frame + l.frameCode, u64: code)
            m.write(frame + l.framePrevious, u64: prev)
            m.write(frame + l.framePrevInstr, u64: code + l.codeCodeAdaptive + 2)
            m.write(frame + l.frameIsEntry!, [prev == 0 ? 1 : 0])
        }
        return (m, CPythonInspector(pid: 1, version: "3.11.7", layout: l, runtimeAddress: runtime, memory: m))
    }

    func testReadsAFakeStack() throws {
        let (_, inspector) = makeInterpreter(frames: [0x80000, 0x80100], previous: [0x80100, 0])
        try inspector.beginTick()
        XCTAssertEqual(inspector.gilHolderTid(), 42)
        XCTAssertEqual(inspector.pythonThreadIds, [42])
        let stack = try XCTUnwrap(try inspector.stack(forTid: 42))
        XCTAssertEqual(stack, [PythonFrame(name: "spin", file: "/app/x.py", line: 10, isEntry: false),
                               PythonFrame(name: "spin", file: "/app/x.py", line: 10, isEntry: true)])
        XCTAssertNil(try inspector.stack(forTid: 7))
    }

    func testFrameCycleIsAnErrorNotAHang() throws {
        let (_, inspector) = makeInterpreter(frames: [0x80000, 0x80100], previous: [0x80100, 0x80000])
        try inspector.beginTick()
        XCTAssertThrowsError(try inspector.stack(forTid: 42)) { error in
            guard case .inconsistent = error as? PythonReadError else { return XCTFail("\(error)") }
        }
    }

    func testDanglingPointerIsAMemoryError() throws {
        let (m, inspector) = makeInterpreter(frames: [0x80000], previous: [0x99990000])
        try inspector.beginTick()
        XCTAssertThrowsError(try inspector.stack(forTid: 42)) { error in
            XCTAssertEqual(error as? PythonReadError, .memory(.badAddress(address: 0x99990000, length: l.frameReadSize)))
        }
        // A code object whose name is not a str (here: the line table's bytes).
        m.write(0x70000 + l.codeQualname, u64: 0x60200)
        XCTAssertThrowsError(try inspector.stack(forTid: 42))
    }

    func testFreeGilHasNoHolder() throws {
        let (_, inspector) = makeInterpreter(frames: [0x80000], previous: [0], gilLocked: 0)
        try inspector.beginTick()
        XCTAssertNil(inspector.gilHolderTid())
    }
}
