/// One line of `/proc/PID/maps`, as much as detection needs.
public struct PythonMapping: Sendable, Equatable {
    public var start: UInt64
    public var end: UInt64
    /// File offset of `start`.
    public var offset: UInt64
    /// The mapped file's path ("" for anonymous mappings).
    public var path: String

    public init(start: UInt64, end: UInt64, offset: UInt64, path: String) {
        self.start = start
        self.end = end
        self.offset = offset
        self.path = path
    }
}

/// The outcome of looking for CPython in a process.
public enum CPythonDetection {
    /// No mapped file exports `_PyRuntime`.
    case notCPython
    /// CPython, but a version the reader has no layout for. `note` is the one line the
    /// recorder writes ("Python frames unavailable for CPython 3.9: …").
    case unsupported(version: String, note: String)
    /// A supported CPython: read it with the inspector.
    case supported(CPythonInspector)

    public var inspector: CPythonInspector? {
        if case .supported(let inspector) = self { return inspector }
        return nil
    }
}

extension CPythonInspector {
    /// Looks for CPython in a process: a mapped `libpython3.*.so*` or the main
    /// executable that exports `_PyRuntime`. The version comes from the exported
    /// `Py_Version` (3.11+, read from memory), else from the file name.
    ///
    /// - Parameters:
    ///   - maps: the process's mappings (`/proc/PID/maps`).
    ///   - executable: the main executable's path (`/proc/PID/exe`); when nil, the
    ///     first file mapping is taken as the executable.
    ///   - symbolAddress: the **run-time address** in the target of an exported
    ///     (`.dynsym`) symbol of a mapped file — link-time value plus that file's load
    ///     bias — or nil. The recorder passes its symbolizer's lookup here;
    ///     `PythonSampling.symbolAddress` builds it from the symbolizer.
    ///   - memory: how to read the target (tests pass a fake).
    public static func detect(
        pid: Int32, maps: [PythonMapping], executable: String? = nil,
        symbolAddress: (_ path: String, _ name: String) -> UInt64?,
        memory: (any RemoteMemoryReading)? = nil
    ) -> CPythonDetection {
        let memory = memory ?? ProcessMemory(pid: pid)
        for path in candidateFiles(maps: maps, executable: executable) {
            guard let runtime = symbolAddress(path, "_PyRuntime") else { continue }
            var version = versionFromFileName(path) ?? "3"
            if let address = symbolAddress(path, "Py_Version"),
               let hex = try? memory.value(UInt64.self, at: address),
               let fromMemory = versionString(hex: hex) {
                version = fromMemory
            }
            // 3.13+: the build describes itself at the start of _PyRuntime.
            if let hex = try? memory.value(UInt64.self, at: runtime + 8),
               (try? memory.bytes(at: runtime, count: 8)) == CPythonDebugOffsets.cookie,
               let fromTable = versionString(hex: hex) {
                version = fromTable
            }
            do {
                let offsets = try CPythonDebugOffsets.read(at: runtime, memory: memory)
                if let fromTable = versionString(hex: offsets.versionHex) { version = fromTable }
                let layout = try CPythonLayout(debugOffsets: offsets)
                return .supported(CPythonInspector(pid: pid, version: version, layout: layout,
                                                   runtimeAddress: runtime, memory: memory))
            } catch .unknownVersion(let found) {
                let known = CPythonDebugOffsets.shapes.map(\.minor).joined(separator: ", ")
                return .unsupported(
                    version: found,
                    note: "Python frames unavailable for CPython \(found): its _Py_DebugOffsets is a version this "
                        + "reader has not seen (known: \(known)); native stacks are recorded")
            } catch .implausible(let why) {
                return .unsupported(
                    version: version,
                    note: "Python frames unavailable for CPython \(version): its _Py_DebugOffsets does not match "
                        + "the known shape (\(why)); native stacks are recorded")
            } catch {
                // .noCookie: 3.12 and older, read with a table.
            }
            guard let layout = CPythonLayout.forVersion(version) else {
                let supported = (CPythonLayout.all.map(\.version) + CPythonDebugOffsets.shapes.map(\.minor))
                    .joined(separator: ", ")
                return .unsupported(
                    version: version,
                    note: "Python frames unavailable for CPython \(version): no struct layout for this version "
                        + "(supported: \(supported)); native stacks are recorded")
            }
            return .supported(CPythonInspector(pid: pid, version: version, layout: layout,
                                               runtimeAddress: runtime, memory: memory))
        }
        return .notCPython
    }

    /// libpython first (a shared build's executable does not define `_PyRuntime`),
    /// then the executable; each path once, in map order.
    static func candidateFiles(maps: [PythonMapping], executable: String?) -> [String] {
        var seen = Set<String>()
        var libraries: [String] = []
        for mapping in maps where !mapping.path.isEmpty && seen.insert(mapping.path).inserted {
            let base = mapping.path.split(separator: "/").last.map(String.init) ?? mapping.path
            if base.hasPrefix("libpython3"), base.contains(".so") { libraries.append(mapping.path) }
        }
        let main = executable ?? maps.first { $0.path.hasPrefix("/") }?.path
        return libraries + (main.map { [$0] } ?? [])
    }

    /// "3.11" from `…/python3.11`, `libpython3.11.so.1.0`, `python3.11d`.
    static func versionFromFileName(_ path: String) -> String? {
        let base = path.split(separator: "/").last.map(String.init) ?? path
        guard let range = base.range(of: "python") else { return nil }
        let rest = base[range.upperBound...]
        let digits = rest.prefix { $0.isNumber || $0 == "." }
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return "\(parts[0]).\(parts[1])"
    }

    /// "3.11.7" (or "3.12.0rc1") from `PY_VERSION_HEX`; nil for a value that is no
    /// Python 3 version.
    static func versionString(hex: UInt64) -> String? {
        let major = (hex >> 24) & 0xFF, minor = (hex >> 16) & 0xFF, micro = (hex >> 8) & 0xFF
        let level = (hex >> 4) & 0xF, serial = hex & 0xF
        guard major == 3, minor < 100, hex >> 32 == 0 else { return nil }
        let suffix: String
        switch level {
        case 0xA: suffix = "a\(serial)"
        case 0xB: suffix = "b\(serial)"
        case 0xC: suffix = "rc\(serial)"
        case 0xF: suffix = ""
        default: return nil
        }
        return "\(major).\(minor).\(micro)\(suffix)"
    }
}
