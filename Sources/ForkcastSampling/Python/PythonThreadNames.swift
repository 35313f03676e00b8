import ForkcastSystem

extension CPythonInspector {
    /// The names `threading` gave the Python threads (tid → name), read from
    /// `sys.modules["threading"]._active`; threads it does not know (started from C, or
    /// `_thread`) are absent. Best effort: whatever cannot be read is left out. Names
    /// are looked up once per new thread, so this is cheap to call every tick.
    public func threadNames(now: UInt64 = Clock.now()) -> [Int32: String] {
        let missing = tidByIdent.keys.filter { threadNameByIdent[$0] == nil && !identsWithoutName.contains($0) }
        let onlyRetries = missing.allSatisfy { nameMisses[$0] != nil }
        if !missing.isEmpty, !onlyRetries || now &- lastNameRetry >= 10_000_000 {
            if onlyRetries { lastNameRetry = now }
            if let active = try? readActiveThreads() {
                for (ident, name) in active { threadNameByIdent[ident] = name }
                for ident in missing where active[ident] == nil {
                    var miss = nameMisses[ident] ?? (first: now, count: 0)
                    miss.count += 1
                    nameMisses[ident] = miss
                    if miss.count >= 5, now &- miss.first >= 1_000_000_000 { identsWithoutName.insert(ident) }
                }
            }
        }
        var result: [Int32: String] = [:]
        for (ident, tid) in tidByIdent {
            if let name = threadNameByIdent[ident] { result[tid] = name }
        }
        return result
    }

    /// ident → `Thread._name` for every entry of `threading._active`.
    func readActiveThreads() throws(PythonReadError) -> [UInt64: String] {
        let l = layout
        // The main interpreter (where `threading` started the threads) is the last of the
        // list, which starts with the newest subinterpreter.
        var interp = try pointer(runtimeAddress + l.runtimeInterpretersHead)
        guard interp != 0 else { return [:] }
        var hops = 0
        while hops < Self.maxInterpreters, case let next = try pointer(interp + l.interpNext), next != 0 {
            interp = next
            hops += 1
        }
        let modules = try pointer(interp + l.interpModules)
        guard modules != 0,
              let threading = try dictLookup(modules, key: "threading"),
              let active = try dictLookup(try pointer(threading + l.moduleDict), key: "_active")
        else { return [:] }
        var result: [UInt64: String] = [:]
        for (key, value) in try dictItems(active) {
            guard try typeName(ofObject: key) == "int", let ident = try smallInt(key),
                  let nameObject = try attribute(of: value, named: "_name") else { continue }
            result[ident] = try string(at: nameObject)
        }
        return result
    }

    /// A non-negative `int` that fits 64 bits (thread idents), nil otherwise.
    private func smallInt(_ object: UInt64) throws(PythonReadError) -> UInt64? {
        var size = Int64(bitPattern: try pointer(object + layout.varObjectSize))
        if let tagOffset = layout.longTag {
            // 3.12+: lv_tag = digits << 3 | sign (0 positive, 1 zero, 2 negative).
            let tag = try pointer(object + tagOffset)
            guard tag & 3 != 2 else { return nil }
            size = Int64(bitPattern: tag >> 3)
        }
        guard size >= 0, size <= 3 else { return nil }
        let digits = size == 0 ? [] : try read(object + layout.longDigits, Int(size) * 4)
        var value: UInt64 = 0
        for i in stride(from: Int(size) - 1, through: 0, by: -1) {
            let digit = UInt64(digits.u32(UInt64(i * 4)) & 0x3FFF_FFFF)
            guard value >> 34 == 0 else { return nil }
            value = value << 30 | digit
        }
        return value
    }

    /// An instance attribute from the object's `__dict__`: 3.11 and 3.12 keep it either
    /// as a managed dict pointer or as inline values keyed by the type's cached keys.
    private func attribute(of object: UInt64, named name: String) throws(PythonReadError) -> UInt64? {
        let l = layout
        if let flagsOffset = l.typeFlags {
            // 3.13+: with Py_TPFLAGS_INLINE_VALUES the values follow the object (at the
            // type's tp_basicsize): `PyDictValues {capacity, size, embedded, valid; values[]}`,
            // keyed by the type's cached keys while `valid`; otherwise the managed dict
            // pointer 3 words before the object.
            let type = try pointer(object + l.objectType)
            let flags = try pointer(type + flagsOffset)
            if flags & (1 << 2) != 0 {
                let basicSize = try pointer(type + l.typeName + 8)
                guard basicSize > 0, basicSize < 1 << 16 else { throw .inconsistent("tp_basicsize \(basicSize)") }
                let values = object + basicSize
                if try read(values, 4)[3] != 0 {
                    let keys = try pointer(type + l.heapTypeCachedKeys)
                    guard keys != 0 else { return nil }
                    for (index, key, _) in try dictKeyEntries(keys) where try string(at: key) == name {
                        let value = try pointer(values + 8 + UInt64(index) * 8)
                        return value == 0 ? nil : value
                    }
                    return nil
                }
            }
            let dict = try pointer(object &- l.managedDictBefore)
            guard dict != 0 else { return nil }
            return try dictLookup(dict, key: name)
        }
        var values = try pointer(object &- l.managedValuesBefore)
        if l.managedDictOrValues {
            // 3.12: one word, the dict, or the values' address − 1 (low bit set).
            guard values != 0 else { return nil }
            if values & 1 == 0 { return try dictLookup(values, key: name) }
            values &+= 1
        }
        if values != 0 {
            let type = try pointer(object + l.objectType)
            let keys = try pointer(type + l.heapTypeCachedKeys)
            guard keys != 0 else { return nil }
            for (index, key, _) in try dictKeyEntries(keys) where try string(at: key) == name {
                let value = try pointer(values + UInt64(index) * 8)
                return value == 0 ? nil : value
            }
            return nil
        }
        let dict = try pointer(object &- l.managedDictBefore)
        guard dict != 0 else { return nil }
        return try dictLookup(dict, key: name)
    }

    /// The value for a `str` key of a dict, by walking its entries (dicts read here are
    /// small: sys.modules, a module's globals, `_active`).
    private func dictLookup(_ dict: UInt64, key: String) throws(PythonReadError) -> UInt64? {
        for (entryKey, value) in try dictItems(dict) {
            guard try typeName(ofObject: entryKey) == "str" else { continue }
            if try string(at: entryKey) == key { return value }
        }
        return nil
    }

    /// (key, value) of every live entry of a dict, combined or split.
    private func dictItems(_ dict: UInt64) throws(PythonReadError) -> [(UInt64, UInt64)] {
        let l = layout
        let header = try read(dict, Int(l.dictValues + 8))
        let keys = header.u64(l.dictKeys)
        let values = header.u64(l.dictValues)
        var items: [(UInt64, UInt64)] = []
        for (index, key, value) in try dictKeyEntries(keys) {
            if values != 0 {
                let splitValue = try pointer(values + UInt64(index) * 8)
                if splitValue != 0 { items.append((key, splitValue)) }
            } else if value != 0 {
                items.append((key, value))
            }
        }
        return items
    }

    /// (index, key, value) of the non-empty entries of a `PyDictKeysObject`.
    private func dictKeyEntries(_ keys: UInt64) throws(PythonReadError) -> [(Int, UInt64, UInt64)] {
        let l = layout
        let header = try read(keys, Int(l.dictKeysIndices))
        let log2IndexBytes = header.u8(l.dictKeysLog2IndexBytes)
        let kind = header.u8(l.dictKeysKind)
        let count = Int64(bitPattern: header.u64(l.dictKeysNEntries))
        guard log2IndexBytes < 32, count >= 0, count <= 65_536 else {
            throw .inconsistent("dict keys at 0x\(String(keys, radix: 16)) look corrupt")
        }
        if count == 0 { return [] }
        let entrySize: UInt64 = kind == 0 ? 24 : 16  // PyDictKeyEntry (hash, key, value) or PyDictUnicodeEntry
        let keyOffset: UInt64 = kind == 0 ? 8 : 0
        let entriesStart = keys + l.dictKeysIndices + (UInt64(1) << log2IndexBytes)
        let raw = try read(entriesStart, Int(count) * Int(entrySize))
        var result: [(Int, UInt64, UInt64)] = []
        for index in 0..<Int(count) {
            let base = UInt64(index) * entrySize
            let key = raw.u64(base + keyOffset)
            if key != 0 { result.append((index, key, raw.u64(base + keyOffset + 8))) }
        }
        return result
    }
}
