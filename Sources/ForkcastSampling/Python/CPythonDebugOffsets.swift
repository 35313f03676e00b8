/// `_Py_DebugOffsets`: the self-describing table CPython 3.13+ puts at the start of
/// `_PyRuntime` for out-of-process readers (cookie `xdebugpy`, `PY_VERSION_HEX`, the
/// `free_threaded` flag, then the offsets of the fields a reader needs). Reading it from
/// the target gives the layout of *that* build — a new patch release or a distribution's
/// own build needs no new table.
///
/// What is kept per minor version is only the shape of `_Py_DebugOffsets` itself: which
/// `uint64_t` fields each section has, in declaration order (from
/// Include/internal/pycore_debug_offsets.h, checked against `ptype /o` of Debian's
/// 3.13.18, 3.14.10 and 3.15.2 debug symbols). A version whose shape is not known here
/// is refused with a note, never guessed: a wrong shape would read garbage frames.
public struct CPythonDebugOffsets: Sendable, Equatable {
    /// The values, by "section.field" name.
    public var values: [String: UInt64]
    /// `PY_VERSION_HEX` of the build.
    public var versionHex: UInt64
    /// True for a free-threaded (`--disable-gil`) build.
    public var freeThreaded: Bool

    public subscript(_ name: String) -> UInt64? { values[name] }

    /// "xdebugpy".
    public static let cookie: [UInt8] = Array("xdebugpy".utf8)

    /// The fields of one version's `_Py_DebugOffsets` after cookie, version and
    /// free_threaded, in order; each a `uint64_t`.
    public struct Shape: Sendable {
        /// "3.13".
        public var minor: String
        public var sections: [(String, [String])]

        /// Byte position of each "section.field" inside the struct, and its size.
        public var positions: (fields: [String: Int], size: Int) {
            var fields: [String: Int] = [:]
            var position = 24  // cookie[8], version, free_threaded
            for (section, names) in sections {
                for name in names {
                    fields["\(section).\(name)"] = position
                    position += 8
                }
            }
            return (fields, position)
        }
    }

    /// The shapes this reader knows. 3.13 → 3.14 added fields in the middle of sections
    /// (threads_main, tlbc, stackpointer, …) and new sections; 3.15 did again (holds_gil,
    /// gil_requested, heap types). Each minor version is its own entry.
    public static let shapes: [Shape] = [shape313, shape314, shape315]

    static let shape313 = Shape(minor: "3.13", sections: [
        ("runtime_state", ["size", "finalizing", "interpreters_head"]),
        ("interpreter_state", ["size", "id", "next", "threads_head", "gc", "imports_modules", "sysdict", "builtins",
                               "ceval_gil", "gil_runtime_state", "gil_runtime_state_enabled",
                               "gil_runtime_state_locked", "gil_runtime_state_holder"]),
        ("thread_state", ["size", "prev", "next", "interp", "current_frame", "thread_id", "native_thread_id",
                          "datastack_chunk", "status"]),
        ("interpreter_frame", ["size", "previous", "executable", "instr_ptr", "localsplus", "owner"]),
        ("code_object", ["size", "filename", "name", "qualname", "linetable", "firstlineno", "argcount",
                         "localsplusnames", "localspluskinds", "co_code_adaptive"]),
        ("pyobject", ["size", "ob_type"]),
        ("type_object", ["size", "tp_name", "tp_repr", "tp_flags"]),
        ("tuple_object", ["size", "ob_item", "ob_size"]),
        ("list_object", ["size", "ob_item", "ob_size"]),
        ("dict_object", ["size", "ma_keys", "ma_values"]),
        ("float_object", ["size", "ob_fval"]),
        ("long_object", ["size", "lv_tag", "ob_digit"]),
        ("bytes_object", ["size", "ob_size", "ob_sval"]),
        ("unicode_object", ["size", "state", "length", "asciiobject_size"]),
        ("gc", ["size", "collecting"]),
    ])

    static let shape314 = Shape(minor: "3.14", sections: [
        ("runtime_state", ["size", "finalizing", "interpreters_head"]),
        ("interpreter_state", ["size", "id", "next", "threads_head", "threads_main", "gc", "imports_modules",
                               "sysdict", "builtins", "ceval_gil", "gil_runtime_state", "gil_runtime_state_enabled",
                               "gil_runtime_state_locked", "gil_runtime_state_holder", "code_object_generation",
                               "tlbc_generation"]),
        ("thread_state", ["size", "prev", "next", "interp", "current_frame", "thread_id", "native_thread_id",
                          "datastack_chunk", "status"]),
        ("interpreter_frame", ["size", "previous", "executable", "instr_ptr", "localsplus", "owner",
                               "stackpointer", "tlbc_index"]),
        ("code_object", ["size", "filename", "name", "qualname", "linetable", "firstlineno", "argcount",
                         "localsplusnames", "localspluskinds", "co_code_adaptive", "co_tlbc"]),
        ("pyobject", ["size", "ob_type"]),
        ("type_object", ["size", "tp_name", "tp_repr", "tp_flags"]),
        ("tuple_object", ["size", "ob_item", "ob_size"]),
        ("list_object", ["size", "ob_item", "ob_size"]),
        ("set_object", ["size", "used", "table", "mask"]),
        ("dict_object", ["size", "ma_keys", "ma_values"]),
        ("float_object", ["size", "ob_fval"]),
        ("long_object", ["size", "lv_tag", "ob_digit"]),
        ("bytes_object", ["size", "ob_size", "ob_sval"]),
        ("unicode_object", ["size", "state", "length", "asciiobject_size"]),
        ("gc", ["size", "collecting"]),
        ("gen_object", ["size", "gi_name", "gi_iframe", "gi_frame_state"]),
        ("llist_node", ["next", "prev"]),
        ("debugger_support", ["eval_breaker", "remote_debugger_support", "remote_debugging_enabled",
                              "debugger_pending_call", "debugger_script_path", "debugger_script_path_size"]),
    ])

    static let shape315 = Shape(minor: "3.15", sections: [
        ("runtime_state", ["size", "finalizing", "interpreters_head"]),
        ("interpreter_state", ["size", "id", "next", "threads_head", "threads_main", "gc", "imports_modules",
                               "sysdict", "builtins", "ceval_gil", "gil_runtime_state", "gil_runtime_state_enabled",
                               "gil_runtime_state_locked", "gil_runtime_state_holder", "code_object_generation",
                               "tlbc_generation"]),
        ("thread_state", ["size", "prev", "next", "interp", "current_frame", "base_frame", "last_profiled_frame",
                          "last_profiled_frame_seq", "thread_id", "native_thread_id", "datastack_chunk", "status",
                          "holds_gil", "gil_requested", "current_exception", "exc_state"]),
        ("err_stackitem", ["exc_value"]),
        ("interpreter_frame", ["size", "previous", "executable", "instr_ptr", "localsplus", "owner",
                               "stackpointer", "tlbc_index"]),
        ("code_object", ["size", "filename", "name", "qualname", "linetable", "firstlineno", "argcount",
                         "localsplusnames", "localspluskinds", "co_code_adaptive", "co_tlbc"]),
        ("pyobject", ["size", "ob_type"]),
        ("type_object", ["size", "tp_name", "tp_repr", "tp_flags", "tp_basicsize", "tp_dictoffset"]),
        ("heap_type_object", ["size", "ht_cached_keys"]),
        ("tuple_object", ["size", "ob_item", "ob_size"]),
        ("list_object", ["size", "ob_item", "ob_size"]),
        ("set_object", ["size", "used", "table", "mask"]),
        ("dict_object", ["size", "ma_keys", "ma_values"]),
        ("float_object", ["size", "ob_fval"]),
        ("long_object", ["size", "lv_tag", "ob_digit"]),
        ("bytes_object", ["size", "ob_size", "ob_sval"]),
        ("unicode_object", ["size", "state", "length", "asciiobject_size", "compactunicodeobject_size"]),
        ("gc", ["size", "collecting", "frame", "generation_stats_size", "generation_stats"]),
        ("gen_object", ["size", "gi_name", "gi_iframe", "gi_frame_state"]),
        ("llist_node", ["next", "prev"]),
        ("debugger_support", ["eval_breaker", "remote_debugger_support", "remote_debugging_enabled",
                              "debugger_pending_call", "debugger_script_path", "debugger_script_path_size"]),
    ])

    /// The shape for `PY_VERSION_HEX`'s minor version, nil when not known.
    public static func shape(forVersionHex hex: UInt64) -> Shape? {
        let minor = "\((hex >> 24) & 0xFF).\((hex >> 16) & 0xFF)"
        return shapes.first { $0.minor == minor }
    }

    /// Why a debug-offsets table was not used.
    public enum Failure: Error, Equatable, Sendable {
        /// `_PyRuntime` does not start with the cookie (3.12 and older).
        case noCookie
        /// A version whose `_Py_DebugOffsets` shape this reader does not know.
        case unknownVersion(String)
        /// The values make no sense for the shape (a field past its struct's size, a
        /// zero-sized struct): the shape does not match the build after all.
        case implausible(String)
    }

    /// Reads and checks the table at `_PyRuntime`.
    public static func read(at runtime: UInt64, memory: any RemoteMemoryReading) throws(Failure) -> CPythonDebugOffsets {
        guard let head = try? memory.bytes(at: runtime, count: 24), Array(head[0..<8]) == cookie else { throw .noCookie }
        let hex = head.u64(8)
        guard let shape = shape(forVersionHex: hex) else {
            throw .unknownVersion(CPythonInspector.versionString(hex: hex) ?? "0x\(String(hex, radix: 16))")
        }
        let (positions, size) = shape.positions
        guard let raw = try? memory.bytes(at: runtime, count: size) else { throw .implausible("table unreadable") }
        return try parse(raw, shape: shape, positions: positions)
    }

    /// Parses a table already read (tests build one from a shape).
    public static func parse(_ raw: [UInt8], shape: Shape) throws(Failure) -> CPythonDebugOffsets {
        try parse(raw, shape: shape, positions: shape.positions.fields)
    }

    private static func parse(_ raw: [UInt8], shape: Shape, positions: [String: Int]) throws(Failure) -> CPythonDebugOffsets {
        guard raw.count >= shape.positions.size, Array(raw[0..<8]) == cookie else { throw .noCookie }
        var values: [String: UInt64] = [:]
        for (name, position) in positions { values[name] = raw.u64(UInt64(position)) }
        let table = CPythonDebugOffsets(values: values, versionHex: raw.u64(8), freeThreaded: raw.u64(16) != 0)
        try table.checkPlausible()
        return table
    }

    /// Every offset of a struct lies inside that struct's size, and sizes are sane.
    /// Catches a table whose shape differs from the one assumed for its version.
    func checkPlausible() throws(Failure) {
        let sized = ["runtime_state", "interpreter_state", "thread_state", "interpreter_frame", "code_object",
                     "pyobject", "type_object", "bytes_object", "unicode_object"]
        for section in sized {
            guard let size = values["\(section).size"], size >= 8, size <= 1 << 20 else {
                throw .implausible("\(section).size is \(values["\(section).size"] ?? 0)")
            }
            for (name, value) in values where name.hasPrefix(section + ".") && name != "\(section).size" {
                // Interpreter-state GIL fields are offsets into the interpreter too.
                // `<=`: a flexible array member (localsplus) may start at the very end.
                if value > size && !(section == "unicode_object") {
                    throw .implausible("\(name) = \(value) is past \(section).size = \(size)")
                }
            }
        }
        for required in ["runtime_state.interpreters_head", "interpreter_state.threads_head",
                         "thread_state.native_thread_id", "thread_state.current_frame", "interpreter_frame.previous",
                         "code_object.co_code_adaptive", "pyobject.ob_type", "type_object.tp_name"] {
            guard let value = values[required], value > 0 else { throw .implausible("\(required) is 0") }
        }
    }
}
