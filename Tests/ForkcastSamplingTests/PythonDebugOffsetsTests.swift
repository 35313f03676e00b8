import ForkcastModel
import XCTest
@testable import ForkcastSampling

/// CPython 3.13+ read through `_Py_DebugOffsets`, on synthetic memory images: builds no
/// interpreter here has (3.14t free-threaded), GIL states that are hard to catch live,
/// subinterpreters, and tables this reader must refuse (a future version, a shape that
/// does not fit).
final class PythonDebugOffsetsTests: XCTestCase {
    /// The shapes match the structs as compiled: positions and sizes from `ptype /o
    /// struct _Py_DebugOffsets` of Debian's 3.13.18, 3.14.10 and 3.15.2 debug symbols.
    func testShapesMatchTheCompiledStructs() {
        let s313 = CPythonDebugOffsets.shape313.positions
        XCTAssertEqual(s313.size, 584)
        XCTAssertEqual(s313.fields["thread_state.native_thread_id"], 200)
        XCTAssertEqual(s313.fields["interpreter_frame.owner"], 264)
        XCTAssertEqual(s313.fields["code_object.co_code_adaptive"], 344)
        XCTAssertEqual(s313.fields["unicode_object.asciiobject_size"], 560)
        let s314 = CPythonDebugOffsets.shape314.positions
        XCTAssertEqual(s314.size, 760)
        XCTAssertEqual(s314.fields["thread_state.native_thread_id"], 224)
        XCTAssertEqual(s314.fields["interpreter_frame.tlbc_index"], 304)
        XCTAssertEqual(s314.fields["code_object.co_code_adaptive"], 384)
        XCTAssertEqual(s314.fields["code_object.co_tlbc"], 392)
        XCTAssertEqual(s314.fields["debugger_support.eval_breaker"], 712)
        let s315 = CPythonDebugOffsets.shape315.positions
        XCTAssertEqual(s315.size, 888)
        XCTAssertEqual(s315.fields["thread_state.holds_gil"], 272)
        XCTAssertEqual(s315.fields["thread_state.gil_requested"], 280)
        XCTAssertEqual(s315.fields["interpreter_frame.owner"], 352)
        XCTAssertEqual(s315.fields["code_object.co_code_adaptive"], 448)
        XCTAssertEqual(s315.fields["unicode_object.compactunicodeobject_size"], 744)
    }

    func testA314FreeThreadedImageWithoutTheGIL() throws {
        let image = SyntheticCPython(shape: CPythonDebugOffsets.shape314, versionHex: 0x030E05F0, freeThreaded: true)
        image.addInterpreter(id: 0, gilEnabled: false, threads: [
            (tid: 101, frames: [.python("spin", line: 12, tlbc: 1), .python("run", line: 20), .shim, .python("<module>", line: 30)]),
            (tid: 102, frames: [.python("spin", line: 12)]),
        ])
        let detection = image.detect()
        let inspector = try XCTUnwrap(detection.inspector, "\(detection)")
        XCTAssertEqual(inspector.version, "3.14.5")
        XCTAssertTrue(inspector.layout.fromDebugOffsets)
        XCTAssertTrue(inspector.layout.freeThreaded)
        try inspector.beginTick()
        XCTAssertEqual(inspector.pythonThreadIds, [101, 102])
        let stack = try XCTUnwrap(try inspector.stack(forTid: 101))
        XCTAssertEqual(stack.map(\.name), ["spin", "run", "<module>"])
        XCTAssertEqual(stack.map(\.line), [12, 20, 30])
        XCTAssertEqual(stack.map(\.file), Array(repeating: "/app/ft.py", count: 3))
        // The shim (owner ≥ 3) marks the frame above it as entered from C; so is the root.
        XCTAssertEqual(stack.map(\.isEntry), [false, true, true])
        // No GIL: neither holder nor waiter.
        XCTAssertNil(inspector.holdsGIL(tid: 101))
        XCTAssertNil(inspector.gilHolderTid())
        XCTAssertEqual(inspector.runtimeInfo, PythonRuntimeInfo(version: "3.14.5", freeThreaded: true, gilEnabled: false,
                                                                interpreters: [PythonInterpreterInfo(id: 0)]))
    }

    func testAFreeThreadedBuildWithTheGILReenabledHasAHolder() throws {
        let image = SyntheticCPython(shape: CPythonDebugOffsets.shape314, versionHex: 0x030E05F0, freeThreaded: true)
        image.addInterpreter(id: 0, gilEnabled: true, holderIndex: 1, threads: [
            (tid: 101, frames: [.python("spin", line: 12)]), (tid: 102, frames: [.python("spin", line: 12)]),
        ])
        let inspector = try XCTUnwrap(image.detect().inspector)
        try inspector.beginTick()
        XCTAssertEqual(inspector.holdsGIL(tid: 102), true)
        XCTAssertEqual(inspector.holdsGIL(tid: 101), false)
        XCTAssertEqual(inspector.runtimeInfo.gilEnabled, true)
    }

    /// Every free-threaded start-up enables the GIL transiently while an extension module
    /// of unknown safety initialises: the holder is read while it is in effect, but the
    /// build does not count as running with the GIL.
    func testATransientlyEnabledGILIsReadButNotTheRuntimesGIL() throws {
        let image = SyntheticCPython(shape: CPythonDebugOffsets.shape313, versionHex: 0x030D05F0, freeThreaded: true)
        image.addInterpreter(id: 0, gilEnabled: true, gilTransient: true, holderIndex: 1, threads: [
            (tid: 101, frames: [.python("main", line: 3)]), (tid: 102, frames: [.python("import_ext", line: 7)]),
        ])
        let inspector = try XCTUnwrap(image.detect().inspector)
        try inspector.beginTick()
        XCTAssertEqual(inspector.holdsGIL(tid: 102), true)
        XCTAssertEqual(inspector.holdsGIL(tid: 101), false)
        XCTAssertEqual(inspector.runtimeInfo.gilEnabled, false)
    }

    /// The GIL changes hands between the tick's reading and a thread's sample: the sample
    /// re-reads it (`holdsGILNow`) and so does not call the new holder a non-holder.
    func testTheHolderIsReReadPerSample() throws {
        let image = SyntheticCPython(shape: CPythonDebugOffsets.shape313, versionHex: 0x030D05F0, freeThreaded: false)
        image.addInterpreter(id: 0, gilEnabled: true, holderIndex: 0, threads: [
            (tid: 101, frames: [.python("spin", line: 3)]), (tid: 102, frames: [.python("spin", line: 7)]),
        ])
        let inspector = try XCTUnwrap(image.detect().inspector)
        try inspector.beginTick()
        XCTAssertEqual(inspector.holdsGILNow(tid: 101), true)
        image.handGIL(to: 1)
        XCTAssertEqual(inspector.holdsGIL(tid: 101), true, "the tick's reading")
        XCTAssertEqual(inspector.holdsGILNow(tid: 101), false)
        XCTAssertEqual(inspector.holdsGILNow(tid: 102), true)
    }

    func testA313DefaultBuildAndSubinterpretersWithTheirOwnGIL() throws {
        let image = SyntheticCPython(shape: CPythonDebugOffsets.shape313, versionHex: 0x030D05F0, freeThreaded: false)
        image.addInterpreter(id: 0, gilEnabled: true, holderIndex: 0, threads: [(tid: 201, frames: [.python("main", line: 12)])])
        image.addInterpreter(id: 1, gilEnabled: true, holderIndex: 0, ownGIL: true,
                             threads: [(tid: 202, frames: [.python("work", line: 20)])])
        image.addInterpreter(id: 2, gilEnabled: true, holderIndex: nil, ownGIL: true,
                             threads: [(tid: 203, frames: [.python("work", line: 20)])])
        let inspector = try XCTUnwrap(image.detect().inspector)
        XCTAssertFalse(inspector.layout.freeThreaded)
        try inspector.beginTick()
        XCTAssertEqual(inspector.interpreterId(tid: 201), 0)
        XCTAssertEqual(inspector.interpreterId(tid: 202), 1)
        XCTAssertEqual(inspector.interpreterId(tid: 203), 2)
        // Each interpreter's own GIL: two holders at once, one free GIL.
        XCTAssertEqual(inspector.holdsGIL(tid: 201), true)
        XCTAssertEqual(inspector.holdsGIL(tid: 202), true)
        XCTAssertEqual(inspector.holdsGIL(tid: 203), false)
        XCTAssertEqual(inspector.runtimeInfo.interpreters,
                       [PythonInterpreterInfo(id: 0), PythonInterpreterInfo(id: 1, ownGIL: true), PythonInterpreterInfo(id: 2, ownGIL: true)])
        XCTAssertEqual(try inspector.stack(forTid: 202)?.first?.name, "work")
        // 3.13 has no gil_requested: waiters come from take_gil in the native stack.
        XCTAssertNil(inspector.requestsGIL(tid: 201))
    }

    func testA315BuildSaysWhoHoldsAndWhoWantsTheGIL() throws {
        let image = SyntheticCPython(shape: CPythonDebugOffsets.shape315, versionHex: 0x030F02F0, freeThreaded: false)
        image.addInterpreter(id: 0, gilEnabled: true, holderIndex: nil, threads: [
            (tid: 301, frames: [.python("a", line: 12)]), (tid: 302, frames: [.python("b", line: 12)]),
        ], holdsGilFlags: [true, false], requestedFlags: [false, true])
        let inspector = try XCTUnwrap(image.detect().inspector)
        try inspector.beginTick()
        XCTAssertEqual(inspector.holdsGIL(tid: 301), true)
        XCTAssertEqual(inspector.holdsGIL(tid: 302), false)
        XCTAssertEqual(inspector.requestsGIL(tid: 302), true)
        XCTAssertEqual(inspector.requestsGIL(tid: 301), false)
    }

    func testAnUnknownFutureVersionIsOneNoteAndNoFrames() {
        // A 3.16 table: the shape is unknown, so nothing of it is trusted.
        let image = SyntheticCPython(shape: CPythonDebugOffsets.shape315, versionHex: 0x031000F0, freeThreaded: false)
        image.addInterpreter(id: 0, gilEnabled: true, holderIndex: 0, threads: [(tid: 401, frames: [.python("x", line: 1)])])
        guard case .unsupported(let version, let note) = image.detect() else { return XCTFail("read a version it has not seen") }
        XCTAssertEqual(version, "3.16.0")
        XCTAssertEqual(note, "Python frames unavailable for CPython 3.16.0: its _Py_DebugOffsets is a version this reader "
                       + "has not seen (known: 3.13, 3.14, 3.15); native stacks are recorded")
    }

    func testATableThatDoesNotFitItsShapeIsRefused() {
        let image = SyntheticCPython(shape: CPythonDebugOffsets.shape314, versionHex: 0x030E00F0, freeThreaded: false)
        image.addInterpreter(id: 0, gilEnabled: true, holderIndex: 0, threads: [(tid: 501, frames: [.python("x", line: 1)])])
        // A build whose thread-state offsets lie past the thread state's size.
        image.setOffset("thread_state.native_thread_id", 4096)
        guard case .unsupported(_, let note) = image.detect() else { return XCTFail("accepted an implausible table") }
        XCTAssertTrue(note.contains("does not match the known shape"), note)
    }

    func testGarbageInsteadOfACodeObjectIsAnErrorNotAFrame() throws {
        let image = SyntheticCPython(shape: CPythonDebugOffsets.shape314, versionHex: 0x030E05F0, freeThreaded: false)
        image.addInterpreter(id: 0, gilEnabled: true, holderIndex: 0, threads: [(tid: 601, frames: [.python("x", line: 1)])])
        let inspector = try XCTUnwrap(image.detect().inspector)
        try inspector.beginTick()
        image.corruptFirstFrameExecutable()
        XCTAssertThrowsError(try inspector.stack(forTid: 601))
    }
}

/// A fake CPython 3.13+ address space built from a `_Py_DebugOffsets` shape: the table,
/// interpreters, thread states, frames, code objects and strings, all placed at the
/// offsets the table claims. Offsets are chosen per build kind (free-threaded objects
/// have the bigger header) but the reader only ever learns them from the table.
final class SyntheticCPython {
    enum FrameSpec { case python(String, line: Int, tlbc: Int32 = 0), shim }

    let memory = FakeMemory()
    let shape: CPythonDebugOffsets.Shape
    let freeThreaded: Bool
    let runtime: UInt64 = 0x100000
    var values: [String: UInt64] = [:]
    var versionHex: UInt64
    private var next: UInt64 = 0x200000
    private var interpreters: [UInt64] = []
    private var statesOfInterpreter: [[UInt64]] = []
    private var firstFrame: UInt64?
    private var strType: UInt64 = 0, bytesType: UInt64 = 0, codeType: UInt64 = 0

    init(shape: CPythonDebugOffsets.Shape, versionHex: UInt64, freeThreaded: Bool) {
        self.shape = shape
        self.versionHex = versionHex
        self.freeThreaded = freeThreaded
        let h: UInt64 = freeThreaded ? 16 : 0  // ob_tid, ob_flags/mutex/gc bits, ob_ref_local/shared
        values = [
            "runtime_state.size": 4096, "runtime_state.interpreters_head": 2048,
            "interpreter_state.size": 8192, "interpreter_state.id": 16, "interpreter_state.next": 0,
            "interpreter_state.threads_head": 72, "interpreter_state.threads_main": 80,
            "interpreter_state.imports_modules": 900, "interpreter_state.ceval_gil": 1200,
            // Free-threaded: `int enabled` first in the GIL, so the rest moves by 8; its
            // debug offset is inside the GIL struct (0), not inside the interpreter.
            "interpreter_state.gil_runtime_state": 2000, "interpreter_state.gil_runtime_state_locked": 2016 + h / 2,
            "interpreter_state.gil_runtime_state_holder": 2008 + h / 2,
            "interpreter_state.gil_runtime_state_enabled": 0,
            "thread_state.size": 1024, "thread_state.prev": 0, "thread_state.next": 8, "thread_state.interp": 16,
            "thread_state.current_frame": 72, "thread_state.thread_id": 152, "thread_state.native_thread_id": 160,
            "thread_state.holds_gil": 36, "thread_state.gil_requested": 40,
            "interpreter_frame.size": 80, "interpreter_frame.previous": 8, "interpreter_frame.executable": 0,
            "interpreter_frame.instr_ptr": 56, "interpreter_frame.localsplus": 80,
            "interpreter_frame.owner": 74, "interpreter_frame.stackpointer": 64, "interpreter_frame.tlbc_index": 76,
            "code_object.size": 256, "code_object.filename": 112 + h, "code_object.name": 120 + h,
            "code_object.qualname": 128 + h, "code_object.linetable": 136 + h, "code_object.firstlineno": 68 + h,
            "code_object.co_code_adaptive": 200 + h, "code_object.co_tlbc": 184 + h,
            "pyobject.size": 16 + h, "pyobject.ob_type": 8 + h,
            "type_object.size": 416, "type_object.tp_name": 24 + h,
            "bytes_object.size": 40 + h, "bytes_object.ob_size": 16 + h, "bytes_object.ob_sval": 32 + h,
            "unicode_object.size": 80 + h, "unicode_object.state": 32 + h, "unicode_object.length": 16 + h,
            "unicode_object.asciiobject_size": 40 + h, "unicode_object.compactunicodeobject_size": 56 + h,
            "dict_object.size": 48 + h, "dict_object.ma_keys": 32, "dict_object.ma_values": 40,
            "long_object.size": 32 + h, "long_object.ob_digit": 24 + h,
        ]
        strType = alloc(512)
        bytesType = alloc(512)
        codeType = alloc(512)
        for (type, name) in [(strType, "str"), (bytesType, "bytes"), (codeType, "code")] {
            let nameAddress = alloc(16)
            memory.write(nameAddress, Array(name.utf8) + [UInt8](repeating: 0, count: 16 - name.utf8.count))
            memory.write(type + values["type_object.tp_name"]!, u64: nameAddress)
        }
    }

    func setOffset(_ name: String, _ value: UInt64) { values[name] = value }

    private func alloc(_ size: Int) -> UInt64 {
        let address = next
        next += UInt64((size + 15) / 16 * 16) + 64
        memory.write(address, [UInt8](repeating: 0, count: size))
        return address
    }

    private func v(_ name: String) -> UInt64 { values[name]! }

    private func object(_ size: Int, type: UInt64) -> UInt64 {
        let address = alloc(size)
        memory.write(address + v("pyobject.ob_type"), u64: type)
        return address
    }

    private func string(_ text: String) -> UInt64 {
        let address = object(Int(v("unicode_object.asciiobject_size")) + text.utf8.count + 1, type: strType)
        memory.write(address + v("unicode_object.length"), u64: UInt64(text.utf8.count))
        // ascii, compact, kind 1 — above a whole `interned` byte on free-threaded 3.14+.
        let state: UInt32 = 0b0110_0100 << (freeThreaded && shape.minor >= "3.14" ? 6 : 0)
        memory.write(address + v("unicode_object.state"), (0..<4).map { UInt8(truncatingIfNeeded: state >> (8 * $0)) })
        memory.write(address + v("unicode_object.asciiobject_size"), Array(text.utf8))
        return address
    }

    /// A code object whose line table maps every code unit past the first to `line`
    /// (first line `line - 1`): one entry of 8 units, one-line form with delta +1.
    private func code(_ name: String, line: Int) -> UInt64 {
        let table = object(Int(v("bytes_object.ob_sval")) + 8, type: bytesType)
        memory.write(table + v("bytes_object.ob_size"), u64: 3)
        memory.write(table + v("bytes_object.ob_sval"), [0x80 | 11 << 3 | 7, 0x00, 0x00])
        let code = object(Int(v("code_object.co_code_adaptive")) + 16, type: codeType)
        let nameString = string(name)
        memory.write(code + v("code_object.name"), u64: nameString)
        memory.write(code + v("code_object.qualname"), u64: nameString)
        memory.write(code + v("code_object.filename"), u64: string("/app/ft.py"))
        memory.write(code + v("code_object.linetable"), u64: table)
        memory.write(code + v("code_object.firstlineno"), [UInt8(line - 1), 0, 0, 0])
        return code
    }

    /// `gilEnabled` on a free-threaded image: permanently (`enabled == INT_MAX`), or with
    /// `gilTransient` by one transient request (`enabled == 1`: an extension initialising).
    func addInterpreter(id: Int64, gilEnabled: Bool, gilTransient: Bool = false, holderIndex: Int? = nil, ownGIL: Bool = false,
                        threads: [(tid: Int32, frames: [FrameSpec])],
                        holdsGilFlags: [Bool] = [], requestedFlags: [Bool] = []) {
        let interp = alloc(Int(v("interpreter_state.size")))
        memory.write(interp + v("interpreter_state.id"), u64: UInt64(id))
        // The main interpreter, and any with its own GIL, point at their own `_gil`;
        // the others at the main interpreter's.
        let gil = id == 0 || ownGIL ? interp + v("interpreter_state.gil_runtime_state")
            : interpreters.first! + v("interpreter_state.gil_runtime_state")
        memory.write(interp + v("interpreter_state.ceval_gil"), u64: gil)
        var states: [UInt64] = []
        for (index, thread) in threads.enumerated() {
            let tstate = alloc(Int(v("thread_state.size")))
            memory.write(tstate + v("thread_state.native_thread_id"), u64: UInt64(thread.tid))
            memory.write(tstate + v("thread_state.thread_id"), u64: 0x7f00_0000_0000 + UInt64(thread.tid))
            if index < holdsGilFlags.count, holdsGilFlags[index] { memory.write(tstate + v("thread_state.holds_gil"), [1, 0, 0, 0]) }
            if index < requestedFlags.count, requestedFlags[index] { memory.write(tstate + v("thread_state.gil_requested"), [1, 0, 0, 0]) }
            var previous: UInt64 = 0
            for spec in thread.frames.reversed() {
                let frame = alloc(Int(v("interpreter_frame.size")))
                memory.write(frame + v("interpreter_frame.previous"), u64: previous)
                switch spec {
                case .shim:
                    memory.write(frame + v("interpreter_frame.owner"), [3])
                case .python(let name, let line, let tlbc):
                    let code = self.code(name, line: line)
                    // 3.14 stack references carry a tag in the low bit.
                    let tag: UInt64 = shape.minor >= "3.14" ? 1 : 0
                    memory.write(frame + v("interpreter_frame.executable"), u64: code | tag)
                    var bytecode = code + v("code_object.co_code_adaptive")
                    if tlbc > 0 {
                        // This thread runs its own copy of the bytecode: co_tlbc->entries[tlbc].
                        let copy = alloc(64)
                        let array = alloc(8 + 8 * (Int(tlbc) + 1))
                        memory.write(array, u64: UInt64(tlbc) + 1)
                        memory.write(array + 8 + UInt64(tlbc) * 8, u64: copy)
                        memory.write(code + v("code_object.co_tlbc"), u64: array)
                        memory.write(frame + v("interpreter_frame.tlbc_index"), [UInt8(tlbc), 0, 0, 0])
                        bytecode = copy
                    }
                    memory.write(frame + v("interpreter_frame.instr_ptr"), u64: bytecode + 4)
                }
                previous = frame
            }
            memory.write(tstate + v("thread_state.current_frame"), u64: previous)
            if firstFrame == nil { firstFrame = previous }
            states.append(tstate)
        }
        for (state, following) in zip(states, states.dropFirst() + [0]) {
            memory.write(state + v("thread_state.next"), u64: following)
        }
        memory.write(interp + v("interpreter_state.threads_head"), u64: states.first ?? 0)
        if id == 0 || ownGIL {
            let gilState = interp + v("interpreter_state.gil_runtime_state")
            if let holderIndex {
                memory.write(interp + v("interpreter_state.gil_runtime_state_locked"), [1, 0, 0, 0])
                memory.write(interp + v("interpreter_state.gil_runtime_state_holder"), u64: states[holderIndex])
            }
            if freeThreaded {
                memory.write(gilState + v("interpreter_state.gil_runtime_state_enabled"), gilTransient ? [1, 0, 0, 0] : gilEnabled ? [0xFF, 0xFF, 0xFF, 0x7F] : [0, 0, 0, 0])
            }
        }
        // Newest interpreter first, as CPython links them.
        memory.write(interp + v("interpreter_state.next"), u64: interpreters.last ?? 0)
        interpreters.append(interp)
        statesOfInterpreter.append(states)
    }

    /// The GIL of interpreter `interpreter` (its own) changes hands to its thread `index`.
    func handGIL(interpreter: Int = 0, to index: Int) {
        let interp = interpreters[interpreter]
        memory.write(interp + v("interpreter_state.gil_runtime_state_locked"), [1, 0, 0, 0])
        memory.write(interp + v("interpreter_state.gil_runtime_state_holder"), u64: statesOfInterpreter[interpreter][index])
    }

    func corruptFirstFrameExecutable() {
        guard let frame = firstFrame else { return }
        memory.write(frame + v("interpreter_frame.executable"), u64: 0xdead_0000)
    }

    /// Writes the table and the runtime, then runs detection as the recorder does.
    func detect() -> CPythonDetection {
        let (positions, size) = shape.positions
        var table = [UInt8](repeating: 0, count: size)
        func put(_ at: Int, _ value: UInt64) { for i in 0..<8 { table[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) } }
        table.replaceSubrange(0..<8, with: CPythonDebugOffsets.cookie)
        put(8, versionHex)
        put(16, freeThreaded ? 1 : 0)
        for (name, position) in positions { put(position, values[name] ?? 0) }
        memory.write(runtime, table + [UInt8](repeating: 0, count: 4096))
        memory.write(runtime + v("runtime_state.interpreters_head"), u64: interpreters.last ?? 0)
        let maps = [PythonMapping(start: 0x400000, end: 0x401000, offset: 0, path: "/usr/bin/python3")]
        return CPythonInspector.detect(pid: 1, maps: maps, symbolAddress: { _, name in
            name == "_PyRuntime" ? self.runtime : nil
        }, memory: memory)
    }
}
