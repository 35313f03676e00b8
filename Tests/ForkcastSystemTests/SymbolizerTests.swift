import ForkcastModel
import Foundation
import XCTest
import CForkcastSys
@testable import ForkcastSystem

/// Symbolizes real programs built by the test: their printed function addresses, looked up
/// in their real /proc/PID/maps, must come back with the right names.
final class SymbolizerTests: XCTestCase {
    private func symbolizeRunning(_ executable: String, symbolizer: Symbolizer,
                                  check: ([UInt64], AddressSpaceMap) throws -> Void) throws {
        let running = try RunningFixture(executable: executable)
        defer { running.finish() }
        XCTAssertFalse(running.addresses.isEmpty, "fixture printed no addresses")
        let map = AddressSpaceMap(try ProcMaps.read(pid: running.pid))
        try check(running.addresses, map)
    }

    func testPIEProgramAtO2() throws {
        let fixture = try NativeFixture()
        let exe = try fixture.compile(NativeFixture.cSource, into: "pie", flags: ["-O2", "-fPIE", "-pie"])
        XCTAssertEqual(try ElfFile(path: exe).fileType, .sharedObject)
        let symbolizer = Symbolizer(debugDirectories: [])
        try symbolizeRunning(exe, symbolizer: symbolizer) { addresses, map in
            let exported = symbolizer.frame(for: addresses[0] + 2, in: map, isReturnAddress: false)
            XCTAssertEqual(exported.name, "fc_exported_work")
            XCTAssertTrue(exported.symbolized)
            XCTAssertEqual(exported.kind, .native)
            XCTAssertEqual(exported.module, exe)
            // The file virtual address: matches the symbol's st_value in the file.
            let elf = try ElfFile(path: exe)
            XCTAssertEqual(exported.offset, elf.symbol(named: "fc_exported_work")! + 2)
            let local = symbolizer.frame(for: addresses[1] + 1, in: map, isReturnAddress: true)
            XCTAssertTrue(local.name.hasPrefix("fc_static_work"), local.name)
            // The function's own first byte as a return address belongs to the code before it.
            let before = symbolizer.frame(for: addresses[0], in: map, isReturnAddress: true)
            XCTAssertNotEqual(before.name, "fc_exported_work")
        }
    }

    func testNonPIEProgram() throws {
        let fixture = try NativeFixture()
        let exe = try fixture.compile(NativeFixture.cSource, into: "nopie", flags: ["-O2", "-fno-pie", "-no-pie"])
        let elf = try ElfFile(path: exe)
        XCTAssertEqual(elf.fileType, .executable)
        let symbolizer = Symbolizer(debugDirectories: [])
        try symbolizeRunning(exe, symbolizer: symbolizer) { addresses, map in
            // Non-PIE: the process address is the file address.
            XCTAssertEqual(addresses[0], elf.symbol(named: "fc_exported_work"))
            XCTAssertEqual(addresses[2], elf.symbol(named: "fc_global_counter"))
            let mapping = try XCTUnwrap(map.mapping(containing: addresses[0]))
            XCTAssertEqual(elf.loadBias(for: mapping), 0)
            XCTAssertEqual(symbolizer.frame(for: addresses[0] + 3, in: map, isReturnAddress: true).name, "fc_exported_work")
            XCTAssertTrue(symbolizer.frame(for: addresses[1], in: map, isReturnAddress: false).name.hasPrefix("fc_static_work"))
        }
    }

    func testSharedLibraryFunctionsResolve() throws {
        // libc is a shared object mapped at a random base: exercises the PT_LOAD bias.
        let fixture = try NativeFixture()
        let exe = try fixture.compile(NativeFixture.cSource, into: "libc-user", flags: ["-O2"])
        let symbolizer = Symbolizer()
        try symbolizeRunning(exe, symbolizer: symbolizer) { _, map in
            let libc = try XCTUnwrap(map.mappings.first { $0.path.contains("libc.so") && $0.isExecutable })
            let elf = try XCTUnwrap(symbolizer.elfFile(atPath: libc.path))
            let bias = try XCTUnwrap(elf.loadBias(for: libc))
            let read = try XCTUnwrap(elf.symbol(named: "read"))
            let frame = symbolizer.frame(for: read + bias + 1, in: map, isReturnAddress: false)
            XCTAssertTrue(["read", "__read", "__libc_read"].contains(frame.name), frame.name)
            XCTAssertEqual(frame.module, libc.path)
            XCTAssertEqual(frame.offset, read + 1)
        }
    }

    /// Strips `exe` to `.dynsym` only and returns the path of its separate debug file.
    private func splitDebugInfo(_ exe: String, debugFile: String, addLink: Bool) throws {
        try NativeFixture.run("objcopy", ["--only-keep-debug", exe, debugFile])
        try NativeFixture.run("objcopy", ["--strip-all", exe])
        if addLink {
            let dir = (debugFile as NSString).deletingLastPathComponent
            // objcopy records the basename; run it from the debug file's directory.
            try NativeFixture.run("sh", ["-c", "cd '\(dir)' && objcopy --add-gnu-debuglink='\((debugFile as NSString).lastPathComponent)' '\(exe)'"])
        }
    }

    func testStrippedBinaryFindsDebugFileByDebugLink() throws {
        let fixture = try NativeFixture()
        let exe = try fixture.compile(NativeFixture.cSource, into: "linked", flags: ["-O2", "-g"])
        try splitDebugInfo(exe, debugFile: fixture.path("linked.debug"), addLink: true)
        let stripped = try ElfFile(path: exe)
        XCTAssertFalse(stripped.hasSymtab)
        XCTAssertEqual(stripped.debugLink?.fileName, "linked.debug")
        XCTAssertEqual(stripped.debugLink?.crc, try CRC32.ofFile(atPath: fixture.path("linked.debug")))

        let symbolizer = Symbolizer(debugDirectories: [])
        XCTAssertNotNil(symbolizer.debugFile(forPath: exe))
        try symbolizeRunning(exe, symbolizer: symbolizer) { addresses, map in
            XCTAssertTrue(symbolizer.frame(for: addresses[1] + 1, in: map, isReturnAddress: true).name.hasPrefix("fc_static_work"))
            XCTAssertEqual(symbolizer.frame(for: addresses[0] + 1, in: map, isReturnAddress: false).name, "fc_exported_work")
        }
    }

    /// MiniDebugInfo (Fedora's and others' stripped binaries): the static functions' symbols
    /// in an xz-compressed ELF file inside `.gnu_debugdata`, built here with Fedora's recipe
    /// (find-debuginfo); gdb is the oracle that the section is well formed.
    func testStrippedBinaryWithMiniDebugInfoNamesStaticFunctions() throws {
        let fixture = try NativeFixture()
        let exe = try fixture.compile(NativeFixture.cSource, into: "mini", flags: ["-O2", "-g"])
        let dir = fixture.directory.path
        try NativeFixture.run("sh", ["-c", """
            set -e; cd '\(dir)'
            objcopy --only-keep-debug mini mini.debug
            nm -D mini --format=posix --defined-only | awk '{ print $1 }' | sort > dynsyms
            nm mini.debug --format=posix --defined-only | awk '{ if ($2 == "T" || $2 == "t" || $2 == "D") print $1 }' | sort > funcsyms
            comm -13 dynsyms funcsyms > keep_symbols
            objcopy -S --remove-section .gdb_index --remove-section .comment --keep-symbols=keep_symbols mini.debug mini_debuginfo
            xz -f mini_debuginfo
            objcopy --strip-all mini
            objcopy --add-section .gnu_debugdata=mini_debuginfo.xz mini
            rm mini.debug
            """])
        let stripped = try ElfFile(path: exe)
        XCTAssertFalse(stripped.hasSymtab)
        XCTAssertNil(stripped.debugLink)
        XCTAssertNotNil(stripped.miniDebugInfo)
        let mini = try XCTUnwrap(stripped.miniDebugInfoFile())
        XCTAssertTrue(mini.functionSymbols.contains { $0.name == "fc_static_work" }, "\(mini.functionSymbols.map(\.name))")
        if let gdb = ["/usr/bin/gdb"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            let out = try NativeFixture.run(gdb, ["-nx", "-batch", "-ex", "info address fc_static_work", exe])
            XCTAssertTrue(out.contains("is at 0x"), "gdb reads the same section: \(out)")
        }

        let symbolizer = Symbolizer(debugDirectories: [])
        try symbolizeRunning(exe, symbolizer: symbolizer) { addresses, map in
            XCTAssertTrue(symbolizer.frame(for: addresses[1] + 1, in: map, isReturnAddress: true).name.hasPrefix("fc_static_work"))
            XCTAssertEqual(symbolizer.frame(for: addresses[0] + 1, in: map, isReturnAddress: false).name, "fc_exported_work")
        }

        // A corrupt section is no section: names from .dynsym only, no crash.
        var bytes = try XCTUnwrap(stripped.miniDebugInfo)
        bytes[bytes.count / 2] ^= 0xff
        var out: UnsafeMutablePointer<UInt8>?
        let n = bytes.withUnsafeBufferPointer { fc_xz_decode($0.baseAddress, UInt64($0.count), 1 << 20, &out) }
        XCTAssertEqual(n, -1)
        XCTAssertNil(out)
    }

    func testDebugLinkInDotDebugDirectoryAndCRCMismatch() throws {
        let fixture = try NativeFixture()
        let exe = try fixture.compile(NativeFixture.cSource, into: "dotdebug", flags: ["-O2"])
        try splitDebugInfo(exe, debugFile: fixture.path("dotdebug.debug"), addLink: true)
        try FileManager.default.createDirectory(atPath: fixture.path(".debug"), withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: fixture.path("dotdebug.debug"), toPath: fixture.path(".debug/dotdebug.debug"))
        XCTAssertNotNil(Symbolizer(debugDirectories: []).debugFile(forPath: exe))

        // A debug file whose contents no longer match the recorded CRC is refused.
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: fixture.path(".debug/dotdebug.debug")))
        handle.seekToEndOfFile()
        handle.write(Data([0]))
        try handle.close()
        XCTAssertNil(Symbolizer(debugDirectories: []).debugFile(forPath: exe))
    }

    func testStrippedBinaryFindsDebugFileByBuildID() throws {
        let fixture = try NativeFixture()
        let exe = try fixture.compile(NativeFixture.cSource, into: "byid", flags: ["-O2", "-Wl,--build-id=sha1"])
        let buildID = try XCTUnwrap(try ElfFile(path: exe).buildID)
        XCTAssertEqual(buildID.count, 40)
        let debugRoot = fixture.path("debugroot")
        let idDir = "\(debugRoot)/.build-id/\(buildID.prefix(2))"
        try FileManager.default.createDirectory(atPath: idDir, withIntermediateDirectories: true)
        try splitDebugInfo(exe, debugFile: "\(idDir)/\(buildID.dropFirst(2)).debug", addLink: false)
        XCTAssertNil(try ElfFile(path: exe).debugLink)

        // Without the debug directory the static function is only module+offset …
        let plain = Symbolizer(debugDirectories: [])
        try symbolizeRunning(exe, symbolizer: plain) { addresses, map in
            let frame = plain.frame(for: addresses[1] + 1, in: map, isReturnAddress: false)
            XCTAssertFalse(frame.symbolized)
            XCTAssertEqual(frame.name, "byid+0x\(String(try XCTUnwrap(frame.offset), radix: 16))")
        }
        // … and with it, named.
        let withDebug = Symbolizer(debugDirectories: ["/nonexistent", debugRoot])
        try symbolizeRunning(exe, symbolizer: withDebug) { addresses, map in
            let frame = withDebug.frame(for: addresses[1] + 1, in: map, isReturnAddress: false)
            XCTAssertTrue(frame.symbolized)
            XCTAssertTrue(frame.name.hasPrefix("fc_static_work"), frame.name)
        }
        XCTAssertNotNil(withDebug.symbolAddress(named: "fc_global_counter", inFile: exe))
    }

    func testCxxNamesAreDemangled() throws {
        let fixture = try NativeFixture()
        let exe = try fixture.compile(NativeFixture.cxxSource, into: "cxx", flags: ["-O2"], cxx: true)
        let symbolizer = Symbolizer(debugDirectories: [])
        try symbolizeRunning(exe, symbolizer: symbolizer) { addresses, map in
            XCTAssertEqual(symbolizer.frame(for: addresses[0] + 1, in: map, isReturnAddress: false).name, "ns::Widget::compute(int)")
            XCTAssertEqual(symbolizer.frame(for: addresses[1] + 1, in: map, isReturnAddress: false).name, "long ns::twice<long>(long)")
        }
    }

    func testSwiftFunctionsInThisTestBinaryAreDemangled() throws {
        // The test bundle is a Swift PIE: find a Swift function of this module in its
        // .symtab and symbolize an address inside it through the live maps.
        let map = AddressSpaceMap(try ProcMaps.read(pid: getpid()))
        let exe = try XCTUnwrap(ProcMaps.readLinkForTests("/proc/self/exe"))
        let text = try XCTUnwrap(map.mappings.first { $0.path == exe && $0.isExecutable })
        let symbolizer = Symbolizer(debugDirectories: [])
        let elf = try XCTUnwrap(symbolizer.elfFile(atPath: exe))
        let symbol = try XCTUnwrap(elf.functionSymbols.first {
            $0.name.hasPrefix("$s") && $0.size > 8 && Demangler.demangle($0.name).contains("Demangler.cleanName(")
        })
        let bias = try XCTUnwrap(elf.loadBias(for: text))
        let frame = symbolizer.frame(for: symbol.address + bias + 4, in: map, isReturnAddress: true)
        XCTAssertEqual(frame.name, "static ForkcastSystem.Demangler.cleanName(Swift.String) -> Swift.String")
        XCTAssertTrue(frame.symbolized)
    }

    func testUnknownAnonymousDeletedAndVdsoAddresses() throws {
        let fixture = try NativeFixture()
        // A path with spaces, deleted while the program runs.
        try FileManager.default.createDirectory(atPath: fixture.path("dir with space"), withIntermediateDirectories: true)
        let exe = try fixture.compile(NativeFixture.cSource, into: "dir with space/prog name", flags: ["-O2"])
        let running = try RunningFixture(executable: exe)
        defer { running.finish() }
        try FileManager.default.removeItem(atPath: exe)
        let map = AddressSpaceMap(try ProcMaps.read(pid: running.pid))
        let mapping = try XCTUnwrap(map.mapping(containing: running.addresses[0]))
        XCTAssertEqual(mapping.path, exe)
        XCTAssertTrue(mapping.isDeleted)

        let symbolizer = Symbolizer(debugDirectories: [])
        let deleted = symbolizer.frame(for: running.addresses[0], in: map, isReturnAddress: false)
        XCTAssertFalse(deleted.symbolized)
        XCTAssertEqual(deleted.module, exe)
        XCTAssertTrue(deleted.name.hasPrefix("prog name+0x"), deleted.name)

        let nowhere = symbolizer.frame(for: 0x10, in: map, isReturnAddress: false)
        XCTAssertEqual(nowhere.name, "[unknown]+0x10")
        XCTAssertFalse(nowhere.symbolized)
        XCTAssertNil(nowhere.module)

        let anonymousMap = AddressSpaceMap([MemoryMapping(start: 0x7000_0000, end: 0x7000_1000, permissions: "rwxp", path: "")])
        let jit = symbolizer.frame(for: 0x7000_0010, in: anonymousMap, isReturnAddress: false)
        XCTAssertEqual(jit.name, "[anon]+0x10")
        XCTAssertFalse(jit.symbolized)

        // The vDSO: resolved through the profiler's own copy of the same kernel image.
        if let vdso = map.mappings.first(where: { $0.path == "[vdso]" }) {
            let own = try XCTUnwrap(try ProcMaps.read(pid: getpid()).first { $0.path == "[vdso]" })
            let bytes = [UInt8](UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: UInt(own.start)), count: Int(own.end - own.start)))
            let vdsoElf = try ElfFile(bytes: bytes, label: "[vdso]")
            let value = try XCTUnwrap(vdsoElf.symbol(named: "__vdso_clock_gettime") ?? vdsoElf.symbol(named: "clock_gettime"))
            let bias = try XCTUnwrap(vdsoElf.loadBias(for: vdso))
            let frame = symbolizer.frame(for: value + bias + 1, in: map, isReturnAddress: false)
            XCTAssertTrue(frame.name.hasSuffix("clock_gettime"), frame.name)
            XCTAssertEqual(frame.module, "[vdso]")
        }
    }

    func testDebianStrippedPythonResolvesTakeGil() throws {
        let python = "/usr/bin/python3.11"
        guard FileManager.default.fileExists(atPath: python) else { throw XCTSkip("no \(python)") }
        let elf = try ElfFile(path: python)
        XCTAssertNotNil(elf.symbol(named: "_PyRuntime"), "_PyRuntime is exported in .dynsym")
        guard !elf.hasSymtab else { throw XCTSkip("\(python) is not stripped") }
        let symbolizer = Symbolizer()
        guard let debug = symbolizer.debugFile(forPath: python) else {
            throw XCTSkip("python3.11-dbg is not installed (no build-id debug file for \(python))")
        }
        let takeGil = try XCTUnwrap(debug.functionSymbols.first { $0.name.hasPrefix("take_gil") && $0.size > 16 })
        let evalFrame = try XCTUnwrap(debug.functionSymbols.first { $0.name == "_PyEval_EvalFrameDefault" })

        // A real interpreter, mapped by the loader; it prints once it is running.
        let running = try RunningFixture(executable: python, arguments: ["-c", "import sys; print('ready', flush=True); sys.stdin.read()"])
        defer { running.finish() }
        let map = AddressSpaceMap(try ProcMaps.read(pid: running.pid))
        let text = try XCTUnwrap(map.mappings.first { $0.path == python && $0.isExecutable })
        let bias = try XCTUnwrap(elf.loadBias(for: text))
        let gil = symbolizer.frame(for: takeGil.address + bias + 8, in: map, isReturnAddress: true)
        XCTAssertTrue(gil.name.hasPrefix("take_gil"), gil.name)
        XCTAssertEqual(Demangler.cleanName(gil.name), "take_gil")
        let eval = symbolizer.frame(for: evalFrame.address + bias + 100, in: map, isReturnAddress: true)
        XCTAssertEqual(eval.name, "_PyEval_EvalFrameDefault")
        XCTAssertEqual(eval.module, python)
    }

    func testPyenvPythonResolvesThroughLibpython() throws {
        // pyenv's build links libpython3.11.so (a shared object with a full .symtab).
        let versions = "/root/.pyenv/versions"
        let version = (try? FileManager.default.contentsOfDirectory(atPath: versions))?.sorted().last { $0.hasPrefix("3.11") }
        guard let version else { throw XCTSkip("no pyenv python 3.11") }
        let python = "\(versions)/\(version)/bin/python3.11"
        let running = try RunningFixture(executable: python, arguments: ["-c", "import sys; print('ready', flush=True); sys.stdin.read()"])
        defer { running.finish() }
        let map = AddressSpaceMap(try ProcMaps.read(pid: running.pid))
        let symbolizer = Symbolizer()
        let text = try XCTUnwrap(map.mappings.first { $0.path.contains("libpython3.11") && $0.isExecutable })
        let elf = try XCTUnwrap(symbolizer.elfFile(atPath: text.path))
        XCTAssertNotNil(elf.symbol(named: "_PyRuntime"))
        let bias = try XCTUnwrap(elf.loadBias(for: text))
        let takeGil = try XCTUnwrap(elf.functionSymbols.first { $0.name.hasPrefix("take_gil") })
        XCTAssertTrue(symbolizer.frame(for: takeGil.address + bias + 8, in: map, isReturnAddress: true).name.hasPrefix("take_gil"))
        let eval = try XCTUnwrap(elf.functionSymbols.first { $0.name == "_PyEval_EvalFrameDefault" })
        XCTAssertEqual(symbolizer.frame(for: eval.address + bias + 1000, in: map, isReturnAddress: false).name, "_PyEval_EvalFrameDefault")
    }

    func testLibcStaticFunctionsFromLibc6Dbg() throws {
        // This test process maps libc; its static lock-wait helpers are only in libc6-dbg.
        let map = AddressSpaceMap(try ProcMaps.read(pid: getpid()))
        let libc = try XCTUnwrap(map.mappings.first { $0.path.hasSuffix("/libc.so.6") && $0.isExecutable })
        let symbolizer = Symbolizer()
        let elf = try XCTUnwrap(symbolizer.elfFile(atPath: libc.path))
        let bias = try XCTUnwrap(elf.loadBias(for: libc))
        let lock = try XCTUnwrap(elf.symbol(named: "pthread_mutex_lock"))
        XCTAssertEqual(symbolizer.frame(for: lock + bias + 4, in: map, isReturnAddress: true).name, "pthread_mutex_lock")
        guard !elf.hasSymtab, let debug = symbolizer.debugFile(forPath: libc.path) else {
            throw XCTSkip("libc6-dbg is not installed")
        }
        for name in ["__lll_lock_wait", "__new_sem_wait_slow64"] {
            let symbol = try XCTUnwrap(debug.functionSymbols.first { $0.name == name && $0.size > 4 }, name)
            let frame = symbolizer.frame(for: symbol.address + bias + 4, in: map, isReturnAddress: true)
            XCTAssertEqual(frame.name, name)
            XCTAssertTrue(frame.symbolized)
        }
    }

    func testSymbolizingManyAddressesIsFast() throws {
        let python = "/usr/bin/python3.11"
        let target = FileManager.default.fileExists(atPath: python) ? python : "/proc/self/exe"
        let resolved = URL(fileURLWithPath: target).resolvingSymlinksInPath().path
        let elf = try ElfFile(path: resolved)
        let text = try XCTUnwrap(elf.loadSegments.first { $0.isExecutable })
        let base: UInt64 = elf.fileType == .executable ? 0 : 0x5555_0000_0000
        let start = (text.virtualAddress & ~4095) + base
        let mapping = MemoryMapping(start: start, end: start + ((text.fileSize + 4095) & ~4095),
                                    offset: text.offset & ~4095, permissions: "r-xp", inode: 1, path: resolved)
        let map = AddressSpaceMap([mapping])
        let symbolizer = Symbolizer()
        let clock = ContinuousClock()
        let loading = clock.measure {  // load the file (and its debug file) first
            _ = symbolizer.frame(for: mapping.start, in: map, isReturnAddress: false)
        }
        let count = 100_000
        let step = max((mapping.end - mapping.start) / UInt64(count), 1)
        var named = 0
        let elapsed = clock.measure {
            for i in 0..<count {
                let frame = symbolizer.frame(for: mapping.start + UInt64(i) * step, in: map, isReturnAddress: true)
                if frame.symbolized { named += 1 }
            }
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("loaded \(resolved) (+ debug file: \(symbolizer.debugFile(forPath: resolved) != nil)) in \(loading); "
              + "symbolized \(count) distinct addresses in \(String(format: "%.3f", seconds)) s (\(named) named)")
        XCTAssertGreaterThan(named, count / 2)
        XCTAssertLessThan(seconds, 10, "symbolization is pathologically slow")
    }
}
