import Foundation
import XCTest
@testable import ForkcastSystem

/// ElfFile on good and bad input: bad input throws, never crashes.
final class SymbolElfFileTests: XCTestCase {
    func testReadsSegmentsBuildIDAndSymbols() throws {
        let fixture = try NativeFixture()
        let exe = try fixture.compile(NativeFixture.cSource, into: "prog", flags: ["-O2", "-Wl,--build-id=sha1"])
        let elf = try ElfFile(path: exe)
        XCTAssertTrue(elf.hasSymtab)
        XCTAssertEqual(elf.buildID?.count, 40)
        let readelf = try NativeFixture.run("readelf", ["-n", exe])
        XCTAssertTrue(readelf.contains(try XCTUnwrap(elf.buildID)), "build-id differs from readelf's")
        XCTAssertTrue(elf.loadSegments.contains { $0.isExecutable })
        XCTAssertNotNil(elf.symbol(named: "fc_exported_work"))
        XCTAssertNotNil(elf.symbol(named: "fc_global_counter"), "objects are found by name")
        XCTAssertNil(elf.symbol(named: "no_such_symbol"))
        XCTAssertNil(elf.symbol(named: "printf"), "undefined symbols are not definitions")
        let table = elf.makeSymbolTable()
        let work = try XCTUnwrap(elf.symbol(named: "fc_exported_work"))
        XCTAssertEqual(table.index(containing: work).map { table.names[$0] }, "fc_exported_work")
        XCTAssertFalse(elf.functionSymbols.contains { $0.name == "fc_global_counter" }, "objects are not functions")
    }

    func testLoadBiasForPIEMappings() throws {
        let fixture = try NativeFixture()
        let exe = try fixture.compile(NativeFixture.cSource, into: "pie", flags: ["-O2", "-fPIE", "-pie"])
        let elf = try ElfFile(path: exe)
        XCTAssertTrue(elf.isPositionIndependent)
        let base: UInt64 = 0x5600_1234_0000
        // Map every PT_LOAD as the loader does: page-aligned, at base + vaddr.
        for segment in elf.loadSegments {
            let offset = segment.offset & ~4095
            let start = base + (segment.virtualAddress & ~4095)
            let permissions = "r" + (segment.flags & 2 != 0 ? "w" : "-") + (segment.isExecutable ? "x" : "-") + "p"
            let mapping = MemoryMapping(start: start, end: start + 4096, offset: offset, permissions: permissions, inode: 1, path: exe)
            XCTAssertEqual(elf.loadBias(for: mapping), base, "segment at offset \(segment.offset)")
        }
        let outside = MemoryMapping(start: base, end: base + 4096, offset: 0x7fff_0000, path: exe)
        XCTAssertNil(elf.loadBias(for: outside))
    }

    func testZeroSizeSymbolsCoverUpToTheNextSymbol() {
        let symbols = [
            ElfSymbol(name: "sized", address: 0x1000, size: 0x10, isLocal: false, sectionEnd: 0x3000),
            ElfSymbol(name: "asm_entry", address: 0x1100, size: 0, isLocal: false, sectionEnd: 0x3000),
            ElfSymbol(name: "next", address: 0x1200, size: 0x100, isLocal: false, sectionEnd: 0x3000),
            ElfSymbol(name: "outer", address: 0x2000, size: 0x200, isLocal: false, sectionEnd: 0x3000),
            ElfSymbol(name: "inner", address: 0x2010, size: 0x10, isLocal: true, sectionEnd: 0x3000),
            ElfSymbol(name: "__alias", address: 0x1200, size: 0x100, isLocal: false, sectionEnd: 0x3000),
            ElfSymbol(name: "tail_label", address: 0x2f00, size: 0, isLocal: false, sectionEnd: 0x3000),
        ]
        let table = SymbolTable(symbols)
        func name(_ address: UInt64) -> String? { table.index(containing: address).map { table.names[$0] } }
        XCTAssertNil(name(0xfff))
        XCTAssertEqual(name(0x1000), "sized")
        XCTAssertNil(name(0x1010), "past the end of a sized symbol")
        XCTAssertEqual(name(0x1150), "asm_entry")
        XCTAssertEqual(name(0x11ff), "asm_entry")
        XCTAssertEqual(name(0x1200), "next", "aliases: the plainer name wins")
        XCTAssertEqual(name(0x2015), "inner")
        XCTAssertEqual(name(0x2100), "outer", "an enclosing symbol covers what follows a nested one")
        XCTAssertEqual(name(0x2f80), "tail_label")
        XCTAssertNil(name(0x3000), "a zero-size symbol stops at its section's end")
        XCTAssertEqual(table.count, 6)
    }

    func testTruncatedCopiesThrow() throws {
        let fixture = try NativeFixture()
        let exe = try fixture.compile(NativeFixture.cSource, into: "whole", flags: ["-O2", "-g"])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: exe))
        for length in [0, 1, 4, 16, 63, 64, 200, bytes.count / 3, bytes.count / 2, bytes.count - 100, bytes.count - 1] {
            let path = fixture.path("cut-\(length)")
            try bytes.prefix(length).write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try ElfFile(path: path), "truncated to \(length) bytes") { error in
                XCTAssertTrue(error is ElfError)
                XCTAssertTrue("\(error)".contains(path))
            }
        }
    }

    func testGarbageAndNonFilesThrow() throws {
        let fixture = try NativeFixture()
        var generator = SystemRandomNumberGenerator()
        for size in [1, 52, 64, 4096, 100_000] {
            var garbage = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let path = fixture.path("garbage-\(size)")
            try Data(garbage).write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try ElfFile(path: path))
            // An ELF magic in front of garbage must not crash either.
            if size >= 64 {
                garbage.replaceSubrange(0..<6, with: [0x7f, 0x45, 0x4c, 0x46, 2, 1])
                try Data(garbage).write(to: URL(fileURLWithPath: path))
                XCTAssertThrowsError(try ElfFile(path: path))
            }
        }
        XCTAssertThrowsError(try ElfFile(path: fixture.path("missing")))
        XCTAssertThrowsError(try ElfFile(path: fixture.directory.path))
        XCTAssertThrowsError(try ElfFile(path: "/proc/self/maps"))
        let script = fixture.path("script.sh")
        try "#!/bin/sh\necho hi\n".write(toFile: script, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ElfFile(path: script))
    }

    func testCorruptedHeaderFieldsThrowOrReadSafely() throws {
        // Flip bytes across the ELF and section headers: every variant either throws or
        // reads without crashing.
        let fixture = try NativeFixture()
        let exe = try fixture.compile(NativeFixture.cSource, into: "flip", flags: ["-O2"])
        let original = try Data(contentsOf: URL(fileURLWithPath: exe))
        let shoff = original.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: 0x28, as: UInt64.self)) }
        let positions = Array(0x10..<0x40) + Array(stride(from: shoff, to: min(shoff + 64 * 40, original.count), by: 7))
        var threw = 0
        for position in positions {
            var copy = original
            copy[position] ^= 0xff
            let path = fixture.path("flip-\(position)")
            try copy.write(to: URL(fileURLWithPath: path))
            do { _ = try ElfFile(path: path) } catch { threw += 1 }
            _ = Symbolizer(debugDirectories: []).frame(for: 0x1000, in: AddressSpaceMap([MemoryMapping(start: 0, end: 1 << 40, path: path)]), isReturnAddress: false)
        }
        XCTAssertGreaterThan(threw, 0)
    }
}
