import Foundation
import XCTest
import ForkcastModel
import ForkcastSystem
import ForkcastTestSupport

/// Replays every fuzz seed and every crash the fuzzers found (`fuzz/seeds/TARGET`,
/// `fuzz/regressions/TARGET`) through the readers as built for the tests, with the same
/// properties the libFuzzer harnesses in `fuzz/targets/` check. Then seeded property
/// loops for the cases libFuzzer reaches slowly: every truncation of a real ELF file,
/// comm names made of spaces and parentheses, a maps file of half a million lines.
final class ReaderTests: XCTestCase {
    static let fuzzRoot = Fixtures.repositoryRoot.appendingPathComponent("fuzz")

    /// Inputs of one fuzz target: its seeds and its regressions.
    func inputs(_ target: String) throws -> [(name: String, bytes: Data)] {
        var found: [(String, Data)] = []
        for folder in ["seeds", "regressions"] {
            let dir = Self.fuzzRoot.appendingPathComponent("\(folder)/\(target)")
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            for name in names.sorted() where !name.hasPrefix(".") {
                found.append(("\(folder)/\(target)/\(name)", try Data(contentsOf: dir.appendingPathComponent(name))))
            }
        }
        return found
    }

    // MARK: - Profile reader

    /// What fuzz/targets/ProfileDecodeFuzz.swift checks, for one input.
    func checkProfile(_ data: Data, _ name: String) {
        do {
            let profile = try Profile.decode(data)
            let again = try Profile.decode(try profile.encoded(gzip: false))
            XCTAssertEqual(again.samples.count, profile.samples.count, name)
            XCTAssertEqual(again.threads.count, profile.threads.count, name)
        } catch let error as ProfileError {
            XCTAssertFalse(error.description.contains("\n"), "\(name): multi-line error")
        } catch {
            XCTFail("\(name): Profile.decode threw a non-ProfileError: \(error)")
        }
    }

    func testProfileFuzzInputsReplay() throws {
        let all = try inputs("profile")
        XCTAssertGreaterThanOrEqual(all.count, 2, "the profile seeds are missing")
        for (name, bytes) in all { checkProfile(bytes, name) }
        // The seeds are real recordings: they must decode.
        for (name, bytes) in all where name.hasPrefix("seeds/") {
            XCTAssertNoThrow(try Profile.decode(bytes), name)
        }
    }

    /// Every prefix of a gzip profile and of its JSON: a truncated file is a one-line error.
    func testTruncatedProfilesAreOneLineErrors() throws {
        let seed = try XCTUnwrap(try inputs("profile").first { $0.name.hasSuffix(".json.gz") }).bytes
        let json = try Gzip.decompress(seed)
        for data in [seed, json] {
            let step = max(1, data.count / 400)
            for length in stride(from: 0, to: data.count, by: step) {
                let cut = data.prefix(length)
                XCTAssertThrowsError(try Profile.decode(Data(cut)), "prefix \(length) decoded") { error in
                    XCTAssertTrue(error is ProfileError)
                    XCTAssertFalse("\(error)".contains("\n"))
                }
            }
        }
    }

    // MARK: - /proc parsers

    /// What fuzz/targets/ProcParseFuzz.swift checks, for one input.
    func checkProc(_ bytes: Data, _ name: String) {
        guard let selector = bytes.first else { return }
        let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
        switch selector % 5 {
        case 0:
            if let stat = ProcParse.stat(Substring(text)) {
                XCTAssertTrue(text.contains("(" + stat.comm + ")"), name)
            }
        case 1: _ = ProcParse.schedstat(Substring(text))
        case 2: _ = ProcParse.syscall(Substring(text))
        case 3: XCTAssertFalse(ProcParse.statusField(text, "Tgid")?.contains("\n") ?? false, name)
        default:
            let mappings = ProcMaps.parse(text)
            for m in mappings { XCTAssertLessThanOrEqual(m.start, m.end, name) }
            let map = AddressSpaceMap(mappings)
            for m in mappings.prefix(32) {
                if let found = map.mapping(containing: m.start) { XCTAssertTrue(found.contains(m.start), name) }
            }
        }
    }

    func testProcFuzzInputsReplay() throws {
        let all = try inputs("proc")
        XCTAssertGreaterThanOrEqual(all.count, 5, "the /proc seeds are missing")
        for (name, bytes) in all { checkProc(bytes, name) }
    }

    /// comm names of up to 15 bytes drawn from spaces, parentheses, digits and letters:
    /// the parser takes comm between the first '(' and the last ')' and the fields after it.
    func testStatWithOddCommNames() {
        var rng = SplitMix(seed: 0x5eed)
        let alphabet: [Character] = [" ", "(", ")", ")", "(", "S", "1", "x", " ", ")"]
        for _ in 0..<5000 {
            let comm = String((0..<Int(rng.next() % 16)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
            let tail = (0..<49).map { i in i == 0 ? "R" : String(i) }.joined(separator: " ")
            let line = "1234 (\(comm)) \(tail)\n"
            let stat = ProcParse.stat(Substring(line))
            XCTAssertEqual(stat?.comm, comm, line)
            XCTAssertEqual(stat.map { Character(UnicodeScalar($0.state)) }, "R", line)
            XCTAssertEqual(stat?.ppid, 1, line)
        }
    }

    /// A maps file of 100,000 lines (a process with a huge number of mappings) parses in
    /// linear time, and lookups find every mapping.
    func testHugeMapsFile() {
        var text = ""
        let count = 100_000
        text.reserveCapacity(count * 80)
        for i in 0..<count {
            let start = 0x7f00_0000_0000 + UInt64(i) * 0x2000
            text += String(start, radix: 16) + "-" + String(start + 0x1000, radix: 16)
            text += i % 3 == 0 ? " r-xp 00000000 08:01 \(i) /usr/lib/lib with space \(i).so\n" : " rw-p 00000000 00:00 0\n"
        }
        let started = Date()
        let mappings = ProcMaps.parse(text)
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertEqual(mappings.count, count)
        XCTAssertEqual(mappings[3].path, "/usr/lib/lib with space 3.so")
        let map = AddressSpaceMap(mappings)
        var rng = SplitMix(seed: 7)
        for _ in 0..<10_000 {
            let i = Int(rng.next() % UInt64(count))
            XCTAssertEqual(map.mapping(containing: mappings[i].start + 5)?.start, mappings[i].start)
        }
        // Generous: linear parsing of 8 MB takes a few seconds in a debug build; quadratic would take hours.
        XCTAssertLessThan(elapsed, 60, "parsing took \(elapsed) s")
    }

    /// The kernel writes a newline in a mapped file's path as `\\012`; the parser turns it
    /// back, so the symbolizer can open a binary whose folder name holds a newline.
    func testMapsPathWithNewline() throws {
        let dir = Fixtures.scratch.appendingPathComponent("maps\nnewline-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("mapped").path
        try Data(repeating: 7, count: 8192).write(to: URL(fileURLWithPath: file))
        let fd = open(file, O_RDONLY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        let address = mmap(nil, 8192, PROT_READ, MAP_PRIVATE, fd, 0)
        XCTAssertNotEqual(address, MAP_FAILED)
        defer { munmap(address, 8192) }
        let mappings = try ProcMaps.read(pid: getpid())
        let mine = mappings.first { $0.start == UInt64(UInt(bitPattern: address)) }
        XCTAssertEqual(mine?.path, file)
        XCTAssertTrue(FileManager.default.fileExists(atPath: mine?.path ?? "-"))
    }

    // MARK: - ELF reader

    func checkElf(_ bytes: [UInt8], _ name: String) {
        do {
            let elf = try ElfFile(bytes: bytes, label: name)
            let table = elf.makeSymbolTable()
            for symbol in elf.functionSymbols.prefix(64) {
                if let i = table.index(containing: symbol.address) { XCTAssertLessThanOrEqual(table.address(at: i), symbol.address, name) }
            }
        } catch let error as ElfError {
            XCTAssertFalse(error.description.contains("\n"), name)
        } catch {
            XCTFail("\(name): ElfFile threw a non-ElfError: \(error)")
        }
    }

    func testElfFuzzInputsReplay() throws {
        let all = try inputs("elf")
        XCTAssertGreaterThanOrEqual(all.count, 3, "the ELF seeds are missing")
        for (name, bytes) in all { checkElf(Array(bytes), name) }
        for (name, bytes) in all where name.hasPrefix("seeds/") {
            XCTAssertNoThrow(try ElfFile(bytes: Array(bytes), label: name), name)
        }
    }

    /// Every truncation of a real shared object, and seeded byte corruptions of its headers
    /// and section table: a symbol table or an `ElfError`, never a crash.
    func testTruncatedAndCorruptElf() throws {
        let seed = try XCTUnwrap(try inputs("elf").first { $0.name.hasSuffix("small.so") }).bytes
        let bytes = Array(seed)
        for length in stride(from: 0, through: bytes.count, by: max(1, bytes.count / 1000)) {
            checkElf(Array(bytes.prefix(length)), "prefix \(length)")
        }
        var rng = SplitMix(seed: 0xE1F)
        for round in 0..<3000 {
            var copy = bytes
            for _ in 0..<(1 + Int(rng.next() % 8)) {
                // Mostly the ELF header, program and section headers (the first 64 bytes and the
                // end of the file), sometimes anywhere.
                let where_ = rng.next() % 3
                let index = where_ == 0 ? Int(rng.next() % 64)
                    : where_ == 1 ? copy.count - 1 - Int(rng.next() % UInt64(min(copy.count, 2048)))
                    : Int(rng.next() % UInt64(copy.count))
                copy[index] = UInt8(truncatingIfNeeded: rng.next())
            }
            checkElf(copy, "corruption \(round)")
        }
    }
}

/// A small seeded generator (SplitMix64): the same cases on every run.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
