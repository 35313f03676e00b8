import Foundation

/// libFuzzer entry: `ElfFile(bytes:label:)` on arbitrary bytes (truncated and corrupt
/// ELF images). It must build a symbol table or throw `ElfError`, never trap or read
/// outside the image.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzElfFile(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
    do {
        let elf = try ElfFile(bytes: bytes, label: "fuzz")
        for symbol in elf.functionSymbols.prefix(64) {
            _ = elf.symbol(named: symbol.name)
        }
        let table = elf.makeSymbolTable()
        for symbol in elf.functionSymbols.prefix(64) {
            if let index = table.index(containing: symbol.address) {
                precondition(table.address(at: index) <= symbol.address, "lookup returned a symbol after the address")
            }
        }
        _ = elf.buildID
        _ = elf.debugLink
    } catch is ElfError {
    } catch {
        preconditionFailure("ElfFile threw a non-ElfError: \(error)")
    }
    return 0
}
