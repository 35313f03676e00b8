#if canImport(Glibc)
import Glibc
#endif

/// TEMPORARY, until ForkcastSystem's `ElfFile`/`ProcMaps` are merged: the smallest
/// `.dynsym` lookup and `/proc/PID/maps` reader that CPython detection needs. Replace
/// the `symbolAddress` closure passed to `CPythonInspector.detect` with the
/// symbolizer's lookup and delete this file.
public enum TemporaryDynsym {
    /// The mappings of a process, nil when `/proc/PID/maps` cannot be read.
    public static func readMaps(pid: Int32) -> [PythonMapping]? {
        guard let text = readWholeFile("/proc/\(pid)/maps") else { return nil }
        var result: [PythonMapping] = []
        for line in text.split(separator: "\n") {
            // start-end perms offset dev inode   path
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count >= 5 else { continue }
            let range = fields[0].split(separator: "-")
            guard range.count == 2, let start = UInt64(range[0], radix: 16), let end = UInt64(range[1], radix: 16),
                  let offset = UInt64(fields[2], radix: 16) else { continue }
            let path = fields.count > 5 ? String(fields[5].drop { $0 == " " }) : ""
            result.append(PythonMapping(start: start, end: end, offset: offset, path: path))
        }
        return result
    }

    /// A `symbolAddress` for `CPythonInspector.detect`: the run-time address of an
    /// exported symbol of a file mapped in `maps` (value + load bias), nil otherwise.
    public static func symbolAddress(maps: [PythonMapping]) -> (String, String) -> UInt64? {
        var files: [String: ElfDynsym?] = [:]
        return { path, name in
            let elf: ElfDynsym?
            if let cached = files[path] { elf = cached } else {
                elf = ElfDynsym(path: path)
                files[path] = elf
            }
            guard let elf, let value = elf.symbols[name] else { return nil }
            // The lowest mapping of the file gives the load bias: its start maps file
            // offset `offset`, which the PT_LOAD covering it links at vaddr - off + offset.
            guard let mapping = maps.filter({ $0.path == path }).min(by: { $0.offset < $1.offset }),
                  let segment = elf.loads.first(where: { $0.offset <= mapping.offset && mapping.offset < $0.offset + max($0.fileSize, 1) })
            else { return nil }
            let linkAddress = segment.vaddr &- segment.offset &+ mapping.offset
            return value &+ (mapping.start &- linkAddress)
        }
    }

    static func readWholeFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { return nil }
            if n == 0 { break }
            data.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// The defined `.dynsym` symbols and PT_LOAD segments of one ELF64 little-endian file.
struct ElfDynsym {
    struct Load { var offset: UInt64; var vaddr: UInt64; var fileSize: UInt64 }
    var symbols: [String: UInt64] = [:]
    var loads: [Load] = []

    init?(path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        func bytes(_ offset: UInt64, _ count: Int) -> [UInt8]? {
            guard count >= 0, count < 1 << 28 else { return nil }
            var buffer = [UInt8](repeating: 0, count: count)
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
            return n == count ? buffer : nil
        }
        guard let header = bytes(0, 64), header[0] == 0x7F, header[1] == 0x45, header[2] == 0x4C, header[3] == 0x46,
              header[4] == 2, header[5] == 1 else { return nil }  // ELF64, little-endian
        let phoff = header.u64(32), shoff = header.u64(40)
        let phentsize = Int(header.u16(54)), phnum = Int(header.u16(56))
        let shentsize = Int(header.u16(58)), shnum = Int(header.u16(60))
        if phnum > 0, phnum < 256, let table = bytes(phoff, phnum * phentsize) {
            for i in 0..<phnum {
                let base = UInt64(i * phentsize)
                if table.u32(base) == 1 {  // PT_LOAD
                    loads.append(Load(offset: table.u64(base + 8), vaddr: table.u64(base + 16), fileSize: table.u64(base + 32)))
                }
            }
        }
        guard shnum > 0, shnum < 65536, let sections = bytes(shoff, shnum * shentsize) else { return }
        for i in 0..<shnum {
            let base = UInt64(i * shentsize)
            guard sections.u32(base + 4) == 11 else { continue }  // SHT_DYNSYM
            let offset = sections.u64(base + 24), size = sections.u64(base + 32)
            let link = Int(sections.u32(base + 40)), entsize = max(sections.u64(base + 56), 24)
            guard link < shnum else { continue }
            let strBase = UInt64(link * shentsize)
            guard let symtab = bytes(offset, Int(size)),
                  let strtab = bytes(sections.u64(strBase + 24), Int(sections.u64(strBase + 32))) else { continue }
            var entry: UInt64 = 0
            while entry + 24 <= size {
                let nameOffset = Int(symtab.u32(entry))
                let shndx = symtab.u16(entry + 6)
                let value = symtab.u64(entry + 8)
                if shndx != 0, nameOffset < strtab.count {
                    let end = strtab[nameOffset...].firstIndex(of: 0) ?? strtab.count
                    let name = String(decoding: strtab[nameOffset..<end], as: UTF8.self)
                    symbols[name] = value
                }
                entry += entsize
            }
        }
    }
}

extension Array where Element == UInt8 {
    func u16(_ offset: UInt64) -> UInt16 { UInt16(self[Int(offset)]) | UInt16(self[Int(offset) + 1]) << 8 }
    func u32(_ offset: UInt64) -> UInt32 { UInt32(bitPattern: i32(offset)) }
}
