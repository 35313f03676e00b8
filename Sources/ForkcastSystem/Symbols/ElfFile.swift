import CElf
import CForkcastSys
import Foundation

/// A failure to read an ELF file: not ELF, truncated, corrupt, or unreadable.
public struct ElfError: Error, CustomStringConvertible, Equatable, Sendable {
    public let path: String
    public let message: String
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { "\(path): \(message)" }
}

/// One function symbol of an ELF file.
public struct ElfSymbol: Sendable, Equatable {
    /// The raw (mangled) name.
    public var name: String
    /// st_value: the symbol's file virtual address.
    public var address: UInt64
    /// st_size; 0 when the symbol's size is unknown.
    public var size: UInt64
    /// True for STB_LOCAL symbols (static functions).
    public var isLocal: Bool
    /// The end of the section holding the symbol (file virtual address): the limit for a
    /// symbol of size 0.
    public var sectionEnd: UInt64

    public init(name: String, address: UInt64, size: UInt64, isLocal: Bool, sectionEnd: UInt64 = .max) {
        self.name = name
        self.address = address
        self.size = size
        self.isLocal = isLocal
        self.sectionEnd = sectionEnd
    }
}

/// A PT_LOAD program header.
public struct LoadSegment: Sendable, Equatable {
    public var offset: UInt64
    public var virtualAddress: UInt64
    public var fileSize: UInt64
    public var memorySize: UInt64
    public var flags: UInt32
    public var alignment: UInt64
    public var isExecutable: Bool { flags & 1 != 0 }
}

/// The `.gnu_debuglink` section: the debug file's name and the CRC-32 of its contents.
public struct DebugLink: Sendable, Equatable {
    public var fileName: String
    public var crc: UInt32
}

/// An ELF file read once, read-only, with libelf: its type, PT_LOAD segments, build-id,
/// debug link and symbols (`.symtab` and `.dynsym`). Everything is copied out at `init`,
/// so the file is not kept open. Truncated, corrupt or non-ELF files throw `ElfError`.
public final class ElfFile: Sendable {
    public enum FileType: Sendable, Equatable { case executable, sharedObject, relocatable, core, other }

    /// The path the file was read from (a label for in-memory images such as `[vdso]`).
    public let path: String
    public let fileType: FileType
    public let loadSegments: [LoadSegment]
    /// The NT_GNU_BUILD_ID note as lowercase hex, when present.
    public let buildID: String?
    public let debugLink: DebugLink?
    /// True when the file has a `.symtab` (not stripped), i.e. static functions are known.
    public let hasSymtab: Bool
    /// The `.gnu_debugdata` section (MiniDebugInfo: an xz-compressed ELF file holding the
    /// `.symtab` of a stripped file's static functions), as stored; nil when absent.
    public let miniDebugInfo: [UInt8]?
    /// Function symbols (STT_FUNC, STT_GNU_IFUNC, and untyped symbols in code sections) of
    /// `.symtab` and `.dynsym`, unsorted, possibly with duplicates.
    public let functionSymbols: [ElfSymbol]
    /// Defined function and object symbols by name (`.dynsym` wins over `.symtab`, global
    /// over local).
    private let namedSymbols: [String: UInt64]

    /// Opens and reads the file at `path`.
    public convenience init(path: String) throws {
        var fd: Int32
        repeat { fd = open(path, O_RDONLY | O_CLOEXEC) } while fd < 0 && errno == EINTR
        guard fd >= 0 else { throw ElfError(path: path, message: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ElfError(path: path, message: String(cString: strerror(errno))) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw ElfError(path: path, message: "not a regular file") }
        _ = ElfFile.libraryReady
        guard let elf = elf_begin(fd, ELF_C_READ, nil) else {
            throw ElfError(path: path, message: ElfFile.libelfMessage())
        }
        defer { elf_end(elf) }
        let contents = try ElfFile.parse(elf: elf, path: path, fileSize: UInt64(st.st_size))
        self.init(path: path, contents: contents)
    }

    /// Reads an ELF image held in memory (e.g. a copy of a process's `[vdso]`).
    public convenience init(bytes: [UInt8], label: String) throws {
        _ = ElfFile.libraryReady
        var copy = bytes
        let contents = try copy.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress,
                  let elf = elf_memory(UnsafeMutableRawPointer(base).assumingMemoryBound(to: CChar.self), buffer.count)
            else { throw ElfError(path: label, message: ElfFile.libelfMessage()) }
            defer { elf_end(elf) }
            return try ElfFile.parse(elf: elf, path: label, fileSize: UInt64(buffer.count))
        }
        self.init(path: label, contents: contents)
    }

    private struct Contents {
        var fileType: FileType
        var loadSegments: [LoadSegment]
        var buildID: String?
        var debugLink: DebugLink?
        var hasSymtab: Bool
        var miniDebugInfo: [UInt8]?
        var functionSymbols: [ElfSymbol]
        var namedSymbols: [String: UInt64]
    }

    private init(path: String, contents: Contents) {
        self.path = path
        fileType = contents.fileType
        loadSegments = contents.loadSegments
        buildID = contents.buildID
        debugLink = contents.debugLink
        hasSymtab = contents.hasSymtab
        miniDebugInfo = contents.miniDebugInfo
        functionSymbols = contents.functionSymbols
        namedSymbols = contents.namedSymbols
    }

    private static func parse(elf: OpaquePointer, path: String, fileSize: UInt64) throws -> Contents {
        func fail(_ message: String) -> ElfError { ElfError(path: path, message: message) }
        guard elf_kind(elf) == ELF_K_ELF else { throw fail("not an ELF file") }
        var ehdr = GElf_Ehdr()
        guard gelf_getehdr(elf, &ehdr) != nil else { throw fail("bad ELF header: \(ElfFile.libelfMessage())") }
        let isLittleEndian = ehdr.e_ident.5 == 1  // EI_DATA == ELFDATA2LSB

        // Bounds that libelf reads lazily; checking them here turns a truncated file into
        // an error up front rather than a partial read.
        let phEnd = ehdr.e_phoff &+ UInt64(ehdr.e_phnum) &* UInt64(ehdr.e_phentsize)
        if ehdr.e_phnum > 0, phEnd > fileSize || phEnd < ehdr.e_phoff { throw fail("truncated (program headers past end of file)") }
        let shEnd = ehdr.e_shoff &+ UInt64(ehdr.e_shnum) &* UInt64(ehdr.e_shentsize)
        if ehdr.e_shoff > 0, shEnd > fileSize || shEnd < ehdr.e_shoff { throw fail("truncated (section headers past end of file)") }

        let fileType: FileType
        switch ehdr.e_type {
        case 1: fileType = .relocatable
        case 2: fileType = .executable
        case 3: fileType = .sharedObject
        case 4: fileType = .core
        default: fileType = .other
        }
        let (segments, noteChunks) = try programHeaders(elf, fail)
        var sections = try scanSections(elf, fileSize: fileSize, littleEndian: isLittleEndian, fail)
        if sections.buildID == nil { sections.buildID = buildID(elf, notes: noteChunks, fileSize: fileSize) }
        let (functions, named) = try symbols(elf, sections, fail)
        return Contents(fileType: fileType, loadSegments: segments, buildID: sections.buildID, debugLink: sections.debugLink,
                        hasSymtab: sections.hasSymtab, miniDebugInfo: sections.miniDebugInfo, functionSymbols: functions,
                        namedSymbols: named)
    }

    /// The loadable segments and the note segments' (offset, size).
    private static func programHeaders(_ elf: OpaquePointer, _ fail: (String) -> ElfError) throws -> ([LoadSegment], [(UInt64, UInt64)]) {
        var phnum = 0
        guard elf_getphdrnum(elf, &phnum) == 0 else { throw fail("bad program headers: \(ElfFile.libelfMessage())") }
        var segments: [LoadSegment] = []
        var noteChunks: [(UInt64, UInt64)] = []
        for i in 0..<phnum {
            var ph = GElf_Phdr()
            guard gelf_getphdr(elf, Int32(i), &ph) != nil else { throw fail("bad program header \(i): \(ElfFile.libelfMessage())") }
            if ph.p_type == 1 {  // PT_LOAD
                segments.append(LoadSegment(offset: ph.p_offset, virtualAddress: ph.p_vaddr, fileSize: ph.p_filesz,
                                            memorySize: ph.p_memsz, flags: ph.p_flags, alignment: ph.p_align))
            } else if ph.p_type == 4 {  // PT_NOTE
                noteChunks.append((ph.p_offset, ph.p_filesz))
            }
        }
        return (segments, noteChunks)
    }

    /// What the section headers hold: the headers by index, the symbol tables, the build-id
    /// note, `.gnu_debuglink` and `.gnu_debugdata`.
    private struct Sections {
        var headers: [Int: GElf_Shdr] = [:]
        var symbolTables: [(index: Int, scn: OpaquePointer, shdr: GElf_Shdr)] = []
        var buildID: String?
        var debugLink: DebugLink?
        var hasSymtab = false
        var miniDebugInfo: [UInt8]?
    }

    private static func scanSections(_ elf: OpaquePointer, fileSize: UInt64, littleEndian isLittleEndian: Bool,
                                     _ fail: (String) -> ElfError) throws -> Sections {
        var found = Sections()
        var shstrndx = 0
        let haveSectionNames = elf_getshdrstrndx(elf, &shstrndx) == 0
        var scn = elf_nextscn(elf, nil)
        while let section = scn {
            var shdr = GElf_Shdr()
            guard gelf_getshdr(section, &shdr) != nil else { throw fail("bad section header: \(ElfFile.libelfMessage())") }
            let index = elf_ndxscn(section)
            found.headers[index] = shdr
            if shdr.sh_type != 8 /* SHT_NOBITS */ && shdr.sh_size > 0 {
                let end = shdr.sh_offset &+ shdr.sh_size
                if end > fileSize || end < shdr.sh_offset { throw fail("truncated (section \(index) past end of file)") }
            }
            switch shdr.sh_type {
            case 2, 11:  // SHT_SYMTAB, SHT_DYNSYM
                if shdr.sh_type == 2 { found.hasSymtab = true }
                found.symbolTables.append((index, section, shdr))
            case 7:  // SHT_NOTE
                if found.buildID == nil, let data = elf_getdata(section, nil) {
                    found.buildID = ElfFile.buildID(in: data)
                }
            default:
                if haveSectionNames, shdr.sh_type == 1 /* PROGBITS */,
                   let cName = elf_strptr(elf, shstrndx, Int(shdr.sh_name)) {
                    let name = String(cString: cName)
                    if name == ".gnu_debuglink", let data = elf_getdata(section, nil) {
                        found.debugLink = ElfFile.debugLink(in: data, littleEndian: isLittleEndian)
                    } else if name == ".gnu_debugdata", let data = elf_getdata(section, nil), let bytes = data.pointee.d_buf {
                        found.miniDebugInfo = [UInt8](UnsafeRawBufferPointer(start: bytes, count: data.pointee.d_size))
                    }
                }
            }
            scn = elf_nextscn(elf, section)
        }
        return found
    }

    /// The build-id from the note segments, for a file whose sections hold none.
    private static func buildID(_ elf: OpaquePointer, notes noteChunks: [(UInt64, UInt64)], fileSize: UInt64) -> String? {
        for (offset, size) in noteChunks where size > 0 && offset <= fileSize && size <= fileSize - offset {  // no wrap: Int64(offset) must not trap
            if let data = elf_getdata_rawchunk(elf, Int64(offset), Int(size), ELF_T_NHDR),
               let id = ElfFile.buildID(in: data) {
                return id
            }
        }
        return nil
    }

    /// Function symbols (typed functions and untyped labels in code) and every named
    /// function or object's address, from .symtab then .dynsym (whose names win).
    private static func symbols(_ elf: OpaquePointer, _ sections: Sections,
                                _ fail: (String) -> ElfError) throws -> ([ElfSymbol], [String: UInt64]) {
        let sectionHeaders = sections.headers
        let symbolTables = sections.symbolTables.sorted { a, b in a.shdr.sh_type == 2 && b.shdr.sh_type != 2 }
        var functions: [ElfSymbol] = []
        var named: [String: UInt64] = [:]
        for table in symbolTables {
            guard let data = elf_getdata(table.scn, nil) else { throw fail("unreadable symbol table: \(ElfFile.libelfMessage())") }
            let entrySize = gelf_fsize(elf, ELF_T_SYM, 1, UInt32(EV_CURRENT))
            guard entrySize > 0 else { continue }
            let count = data.pointee.d_size / entrySize
            let strtab = Int(table.shdr.sh_link)
            for i in 0..<count {
                var sym = GElf_Sym()
                guard gelf_getsym(data, Int32(truncatingIfNeeded: i), &sym) != nil else { break }
                let type = sym.st_info & 0xf
                let bind = sym.st_info >> 4
                let shndx = Int(sym.st_shndx)
                guard shndx != 0 /* SHN_UNDEF */, sym.st_name != 0 else { continue }
                guard let cName = elf_strptr(elf, strtab, Int(sym.st_name)) else { continue }
                let isFunctionType = type == 2 /* STT_FUNC */ || type == 10 /* STT_GNU_IFUNC */
                let section = shndx < 0xff00 ? sectionHeaders[shndx] : nil
                // Untyped symbols in code (hand-written assembly) count as functions.
                let inCode = section.map { $0.sh_flags & 0x4 /* SHF_EXECINSTR */ != 0 } ?? false
                let isCodeLabel = type == 0 /* STT_NOTYPE */ && inCode && bind != 0
                if isFunctionType || type == 1 /* STT_OBJECT */ {
                    // A global definition is not replaced by a static of the same name.
                    let key = String(cString: cName)
                    if bind != 0 || named[key] == nil { named[key] = sym.st_value }
                }
                guard isFunctionType || isCodeLabel, sym.st_value != 0 else { continue }
                let name = String(cString: cName)
                if name.hasPrefix(".L") || name.hasPrefix("$") && !name.hasPrefix("$s") && !name.hasPrefix("$S") { continue }
                let sectionEnd = section.flatMap { s in s.sh_addr > 0 ? s.sh_addr &+ s.sh_size : nil } ?? UInt64.max
                functions.append(ElfSymbol(name: name, address: sym.st_value, size: sym.st_size,
                                           isLocal: bind == 0, sectionEnd: sectionEnd))
            }
        }
        return (functions, named)
    }

    /// The ELF image inside `.gnu_debugdata`, decompressed (nil when absent or not a valid
    /// xz stream of an ELF file, or over 256 MiB).
    public func miniDebugInfoFile() -> ElfFile? {
        guard let packed = miniDebugInfo, !packed.isEmpty else { return nil }
        var out: UnsafeMutablePointer<UInt8>?
        let n = packed.withUnsafeBufferPointer { fc_xz_decode($0.baseAddress, UInt64($0.count), 256 << 20, &out) }
        guard n > 0, let out else { return nil }
        defer { fc_free(out) }
        return try? ElfFile(bytes: [UInt8](UnsafeBufferPointer(start: out, count: Int(n))), label: path + " (.gnu_debugdata)")
    }

    /// The st_value of the defined function or object symbol `name` (e.g. `_PyRuntime`), a
    /// file virtual address; nil when absent.
    public func symbol(named name: String) -> UInt64? { namedSymbols[name] }

    /// True for PIE executables and shared objects, whose load address is chosen at run time.
    public var isPositionIndependent: Bool { fileType == .sharedObject }

    /// The load bias of this file in a process, from one of the file's mappings:
    /// process address = file virtual address + bias. Non-PIE executables have bias 0.
    /// For position-independent files the PT_LOAD segment whose (page-aligned) file range
    /// holds `mapping.offset` says which virtual address `mapping.start` corresponds to.
    /// Nil when no PT_LOAD segment covers the mapping's offset.
    public func loadBias(for mapping: MemoryMapping) -> UInt64? {
        if fileType == .executable { return 0 }
        // Neighbouring segments may share a file page (read-only data and the start of the
        // data segment, say), so prefer the segment whose permissions match the mapping's.
        let covering = loadSegments.filter { segment in
            let alignedOffset = segment.offset & ~UInt64(4095)  // mappings start on page boundaries
            return mapping.offset >= alignedOffset && mapping.offset < segment.offset &+ max(segment.fileSize, 1)
        }
        let writable = mapping.permissions.utf8.dropFirst().first == UInt8(ascii: "w")
        let segment = covering.first { $0.isExecutable == mapping.isExecutable && ($0.flags & 2 != 0) == writable }
            ?? covering.first { $0.isExecutable == mapping.isExecutable }
            ?? covering.first
        guard let segment else { return nil }
        let vaddr = segment.virtualAddress &- (segment.offset &- mapping.offset)
        return mapping.start &- vaddr
    }

    /// Builds the sorted lookup table of this file's function symbols.
    public func makeSymbolTable() -> SymbolTable { SymbolTable(functionSymbols) }

    // MARK: - libelf helpers

    private static let libraryReady: Bool = elf_version(UInt32(EV_CURRENT)) != UInt32(EV_NONE)

    static func libelfMessage() -> String {
        guard let message = elf_errmsg(-1) else { return "unknown libelf error" }
        return String(cString: message)
    }

    private static func buildID(in data: UnsafeMutablePointer<Elf_Data>) -> String? {
        guard let base = data.pointee.d_buf else { return nil }
        var offset = 0
        while offset < data.pointee.d_size {
            var nhdr = GElf_Nhdr()
            var nameOffset = 0, descOffset = 0
            let next = gelf_getnote(data, offset, &nhdr, &nameOffset, &descOffset)
            guard next > offset else { break }
            if nhdr.n_type == 3 /* NT_GNU_BUILD_ID */, nhdr.n_namesz == 4, nhdr.n_descsz > 0,
               descOffset + Int(nhdr.n_descsz) <= data.pointee.d_size {
                let name = base.advanced(by: nameOffset).assumingMemoryBound(to: UInt8.self)
                if name[0] == UInt8(ascii: "G"), name[1] == UInt8(ascii: "N"), name[2] == UInt8(ascii: "U") {
                    let desc = UnsafeRawBufferPointer(start: base.advanced(by: descOffset), count: Int(nhdr.n_descsz))
                    return desc.map { String(format: "%02x", $0) }.joined()
                }
            }
            offset = next
        }
        return nil
    }

    private static func debugLink(in data: UnsafeMutablePointer<Elf_Data>, littleEndian: Bool) -> DebugLink? {
        guard let base = data.pointee.d_buf else { return nil }
        let bytes = UnsafeRawBufferPointer(start: base, count: data.pointee.d_size)
        guard let nul = bytes.firstIndex(of: 0), nul > 0 else { return nil }
        let crcOffset = (nul + 4) & ~3
        guard crcOffset + 4 <= bytes.count else { return nil }
        let b = bytes[crcOffset..<crcOffset + 4].map(UInt32.init)
        let crc = littleEndian ? b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24 : b[3] | b[2] << 8 | b[1] << 16 | b[0] << 24
        return DebugLink(fileName: String(decoding: bytes[0..<nul], as: UTF8.self), crc: crc)
    }
}
