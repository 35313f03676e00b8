import Foundation
import XCTest
import ForkcastTestSupport
@testable import ForkcastSystem

final class ProcMapsTests: XCTestCase {
    let sample = """
    55d0c3a00000-55d0c3a02000 r--p 00000000 08:01 1048600                    /usr/bin/cat
    55d0c3a02000-55d0c3a07000 r-xp 00002000 08:01 1048600                    /usr/bin/cat
    55d0c4b1e000-55d0c4b3f000 rw-p 00000000 00:00 0                          [heap]
    7f1e2a000000-7f1e2a021000 rw-p 00000000 00:00 0 
    7f1e2b228000-7f1e2b3bd000 r-xp 00028000 103:02 2622000                   /tmp/dir with  spaces/lib name.so
    7f1e2b400000-7f1e2b401000 r-xp 00001000 00:2a 12                         /tmp/old lib.so (deleted)
    this is not a maps line
    7f1e2b500000-7f1e2b4ff000 r-xp 00000000 00:00 0                          /backwards
    zz-7f1e2b401000 r-xp 00000000 00:00 0 /bad/hex
    7f1e2b600000-7f1e2b601000 r-x 00000000 00:00 0 /bad/perms

    7ffd6b5f0000-7ffd6b611000 rw-p 00000000 00:00 0                          [stack]
    7ffd6b7b2000-7ffd6b7b4000 r-xp 00000000 00:00 0                          [vdso]
    ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
    7f0000000000-7f0000001000 r--p 00000000 08:01 18446744073709551615        /huge/inode
    """

    func testParsesOddLines() {
        let maps = ProcMaps.parse(sample)
        XCTAssertEqual(maps.count, 10)
        XCTAssertEqual(maps[0], MemoryMapping(start: 0x55d0c3a00000, end: 0x55d0c3a02000, offset: 0, permissions: "r--p",
                                              inode: 1048600, path: "/usr/bin/cat"))
        XCTAssertTrue(maps[1].isExecutable)
        XCTAssertFalse(maps[0].isExecutable)
        XCTAssertEqual(maps[1].offset, 0x2000)
        XCTAssertEqual(maps[2].path, "[heap]")
        XCTAssertTrue(maps[2].isSpecial)
        XCTAssertEqual(maps[3].path, "", "anonymous mapping")
        XCTAssertFalse(maps[3].isFileBacked)
        XCTAssertEqual(maps[4].path, "/tmp/dir with  spaces/lib name.so")
        XCTAssertFalse(maps[4].isDeleted)
        XCTAssertEqual(maps[5].path, "/tmp/old lib.so")
        XCTAssertTrue(maps[5].isDeleted)
        XCTAssertEqual(maps[6].path, "[stack]")
        XCTAssertEqual(maps[7].path, "[vdso]")
        XCTAssertEqual(maps[8].start, 0xffffffffff600000)
        XCTAssertEqual(maps[9].inode, UInt64.max)
    }

    func testAddressSpaceMapLookup() {
        let map = AddressSpaceMap(ProcMaps.parse(sample))
        XCTAssertNil(map.mapping(containing: 0))
        XCTAssertEqual(map.mapping(containing: 0x55d0c3a00000)?.offset, 0)
        XCTAssertEqual(map.mapping(containing: 0x55d0c3a01fff)?.permissions, "r--p")
        XCTAssertEqual(map.mapping(containing: 0x55d0c3a02000)?.permissions, "r-xp", "end is exclusive")
        XCTAssertNil(map.mapping(containing: 0x55d0c3a07000), "gap")
        XCTAssertEqual(map.mapping(containing: 0x7ffd6b7b3000)?.path, "[vdso]")
        XCTAssertEqual(map.mapping(containing: 0xffffffffff600fff)?.path, "[vsyscall]")
        XCTAssertNil(map.mapping(containing: UInt64.max))
        XCTAssertEqual(map.mappings(ofFile: "/usr/bin/cat").count, 2)
        XCTAssertNil(AddressSpaceMap([]).mapping(containing: 42))
    }

    func testHugeMapsFile() {
        var text = ""
        let count = 100_000
        text.reserveCapacity(count * 100)
        for i in 0..<count {
            let start = 0x7f00_0000_0000 + UInt64(i) * 0x2000
            text += "\(String(start, radix: 16))-\(String(start + 0x1000, radix: 16)) r-xp 00000000 08:01 \(i) /lib/lib\(i).so\n"
        }
        let maps = ProcMaps.parse(text)
        XCTAssertEqual(maps.count, count)
        let map = AddressSpaceMap(maps)
        XCTAssertEqual(map.mapping(containing: 0x7f00_0000_0000 + 77_777 * 0x2000 + 5)?.path, "/lib/lib77777.so")
        XCTAssertNil(map.mapping(containing: 0x7f00_0000_0000 + 77_777 * 0x2000 + 0x1000))
    }

    func testReadsOwnMaps() throws {
        let maps = try ProcMaps.read(pid: getpid())
        XCTAssertGreaterThan(maps.count, 10)
        XCTAssertTrue(maps.contains { $0.path == "[stack]" })
        let map = AddressSpaceMap(maps)
        XCTAssertTrue(maps.contains { $0.isExecutable && $0.isFileBacked })
        var local = 0
        let stackAddress = withUnsafeMutablePointer(to: &local) { UInt64(UInt(bitPattern: $0)) }
        XCTAssertNotNil(map.mapping(containing: stackAddress))
    }

    func testDeadProcessThrowsNoSuchProcess() throws {
        let process = try BackgroundProgram(["/bin/true"])
        process.wait()
        for pid in [process.pid, Int32.max] {
            XCTAssertThrowsError(try ProcMaps.read(pid: pid)) { error in
                let readError = error as? ProcMaps.ReadError
                XCTAssertEqual(readError?.isNoSuchProcess, true, "\(error)")
                XCTAssertTrue("\(error)".contains("/proc/\(pid)/maps"))
            }
        }
    }
}
