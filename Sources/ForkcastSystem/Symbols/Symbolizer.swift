import ForkcastModel
import Foundation

/// Turns raw program counters recorded from a process into `Frame`s, after the recording.
///
/// Reads each ELF file once (plus its separate debug file when the file has no `.symtab`)
/// and keeps it for the life of the symbolizer. Not thread-safe: use one per thread.
/// Never drops an address: what cannot be named becomes `module+0xOFFSET` (file virtual
/// address) or `[unknown]+0xADDRESS` (no mapping), with `symbolized: false`.
public final class Symbolizer {
    /// Where separate debug files are searched (build-id and debuglink), in order.
    public let debugDirectories: [String]
    private let locator: DebugFileLocator
    private var modules: [String: LoadedModule?] = [:]

    /// One loaded ELF file with its merged symbols.
    final class LoadedModule {
        let elf: ElfFile
        let debugFile: ElfFile?
        let table: SymbolTable
        /// Demangled names, filled on first use (parallel to `table.names`).
        var demangled: [String?]

        init(elf: ElfFile, debugFile: ElfFile?) {
            self.elf = elf
            self.debugFile = debugFile
            var symbols = elf.functionSymbols
            if let debugFile { symbols += debugFile.functionSymbols }
            table = SymbolTable(symbols)
            demangled = Array(repeating: nil, count: table.count)
        }

        func name(at index: Int) -> String {
            if let name = demangled[index] { return name }
            let name = Demangler.demangle(table.names[index])
            demangled[index] = name
            return name
        }
    }

    public init(debugDirectories: [String] = ["/usr/lib/debug"]) {
        self.debugDirectories = debugDirectories
        locator = DebugFileLocator(debugDirectories: debugDirectories)
    }

    /// The frame for `address` in the process whose mappings are `map`.
    ///
    /// `isReturnAddress`: true for every frame but the leaf. A return address points after
    /// the call, possibly past the end of the calling function, so `address - 1` is looked up.
    /// `offset` is always the file virtual address of `address` itself.
    ///
    /// `files`: for a process in another root (a chroot, a container — `ProcessRoot`),
    /// where to open each mapped path; a path not in it is not opened at all (the file of
    /// that name here is another file). nil: the paths are the recorder's own.
    public func frame(for address: UInt64, in map: AddressSpaceMap, isReturnAddress: Bool,
                      files: [String: String]? = nil) -> Frame {
        let probe = isReturnAddress && address > 0 ? address - 1 : address
        guard let mapping = map.mapping(containing: probe) else {
            return Frame(kind: .native, name: "[unknown]+0x\(String(address, radix: 16))", symbolized: false)
        }
        let label = mapping.path.isEmpty ? "[anon]" : mapping.path
        let module = resolvedModule(for: mapping, files: files)
        guard let module else {
            // Not an ELF file we can read: report the file offset of the address.
            let offset = address &- mapping.start &+ mapping.offset
            return Frame(kind: .native, name: "\(Symbolizer.baseName(label))+0x\(String(offset, radix: 16))",
                         module: mapping.path.isEmpty ? nil : mapping.path, offset: offset, symbolized: false)
        }
        let bias = module.elf.loadBias(for: mapping) ?? (mapping.start &- mapping.offset)
        let offset = address &- bias
        if let index = module.table.index(containing: probe &- bias) {
            return Frame(kind: .native, name: module.name(at: index), module: mapping.path, offset: offset, symbolized: true)
        }
        if isSignalTrampoline(address, in: mapping, files: files) {
            return Frame(kind: .native, name: "__restore_rt", module: mapping.path, offset: offset, symbolized: true)
        }
        return Frame(kind: .native, name: "\(Symbolizer.baseName(label))+0x\(String(offset, radix: 16))",
                     module: mapping.path, offset: offset, symbolized: false)
    }

    /// x86-64 `mov $15, %rax; syscall` (rt_sigreturn): the code of glibc's `__restore_rt`,
    /// where a signal handler returns to. Debian's libc has the name only in its stripped
    /// `.symtab`, so the frame above every signal frame would read `libc.so.6+0x…`; the
    /// code names it, as libunwind and gdb recognize a signal frame by it.
    static let sigreturnCode: [UInt8] = [0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05]

    /// Whether the mapped file holds the rt_sigreturn trampoline at `address`.
    func isSignalTrampoline(_ address: UInt64, in mapping: MemoryMapping, files: [String: String]?) -> Bool {
        guard mapping.isFileBacked, mapping.permissions.contains("x"), address >= mapping.start,
              address + UInt64(Self.sigreturnCode.count) <= mapping.end else { return false }
        let path: String
        if let files {
            guard let opened = files[mapping.path] else { return false }
            path = opened
        } else {
            path = mapping.path
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var code = [UInt8](repeating: 0, count: Self.sigreturnCode.count)
        let n = code.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(address - mapping.start + mapping.offset)) }
        return n == code.count && code == Self.sigreturnCode
    }

    /// The module of `mapping`, read from the recorder's own path or, for a process in
    /// another root, only from the opened file `files` gives for it.
    func resolvedModule(for mapping: MemoryMapping, files: [String: String]?) -> LoadedModule? {
        if let files, mapping.isFileBacked {
            // Opened through /proc/PID/root or map_files, so deleted files are readable too.
            return files[mapping.path].flatMap { module(path: $0) }
        }
        return mapping.isDeleted || mapping.path.isEmpty ? nil : loadedModule(for: mapping)
    }

    /// The ELF file at `path` (cached), or nil when it cannot be read as ELF.
    public func elfFile(atPath path: String) -> ElfFile? { module(path: path)?.elf }

    /// The separate debug file found for the file at `path`, if any.
    public func debugFile(forPath path: String) -> ElfFile? { module(path: path)?.debugFile }

    /// The file virtual address of the function or object symbol `name` in the file at
    /// `path`, looking in the file and then in its debug file (for static symbols of a
    /// stripped binary).
    public func symbolAddress(named name: String, inFile path: String) -> UInt64? {
        guard let module = module(path: path) else { return nil }
        return module.elf.symbol(named: name) ?? module.debugFile?.symbol(named: name)
    }

    func loadedModule(for mapping: MemoryMapping) -> LoadedModule? {
        if mapping.path == "[vdso]" { return vdsoModule(size: mapping.end - mapping.start) }
        guard mapping.isFileBacked else { return nil }
        return module(path: mapping.path)
    }

    private func module(path: String) -> LoadedModule? {
        if let cached = modules[path] { return cached }
        var loaded: LoadedModule?
        if let elf = try? ElfFile(path: path) {
            // A stripped file's static functions: from its separate debug file, else from
            // its MiniDebugInfo (`.gnu_debugdata`, as Fedora ships them; gdb reads it too).
            let debug = elf.hasSymtab ? nil : locator.debugFile(for: elf, path: path) ?? elf.miniDebugInfoFile()
            loaded = LoadedModule(elf: elf, debugFile: debug)
        }
        modules[path] = .some(loaded)
        return loaded
    }

    /// The kernel's vDSO is the same image in every 64-bit process of this kernel, so the
    /// profiler's own copy symbolizes the target's (when the mapping sizes agree).
    private func vdsoModule(size: UInt64) -> LoadedModule? {
        let key = "[vdso]"
        if let cached = modules[key] { return cached }
        var loaded: LoadedModule?
        if let own = try? ProcMaps.parse(ProcMaps.readProcFile("/proc/self/maps")).first(where: { $0.path == key }),
           own.end - own.start == size, let base = UnsafeRawPointer(bitPattern: UInt(own.start)) {
            let bytes = [UInt8](UnsafeRawBufferPointer(start: base, count: Int(size)))
            if let elf = try? ElfFile(bytes: bytes, label: key) { loaded = LoadedModule(elf: elf, debugFile: nil) }
        }
        modules[key] = .some(loaded)
        return loaded
    }

    static func baseName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}
