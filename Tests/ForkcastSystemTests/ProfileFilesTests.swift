import Foundation
import XCTest
import ForkcastModel
@testable import ForkcastSystem
import ForkcastTestSupport

/// Reading and writing profile files: round trips, `.gz` by name, and one-line errors
/// that name the path and the reason.
final class ProfileFilesTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("forkcast-files-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    func assertFileError(_ body: () throws -> Void, _ op: ProfileFileError.Operation, _ path: String, _ fragment: String,
                         file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard let e = error as? ProfileFileError else {
                return XCTFail("threw \(type(of: error)): \(error)", file: file, line: line)
            }
            let text = e.description
            XCTAssertEqual(e.operation, op, file: file, line: line)
            XCTAssertTrue(text.contains("'\(path)'"), "\(text) does not name \(path)", file: file, line: line)
            XCTAssertTrue(text.contains(fragment), "\(text) does not contain \(fragment)", file: file, line: line)
            XCTAssertFalse(text.contains("\n"), file: file, line: line)
        }
    }

    func testWriteAndReadBackPlainAndGzip() throws {
        let profile = SyntheticProfiles.mutexContention(ticks: 200)
        for name in ["p.json", "p.json.gz", "no-extension"] {
            let path = "\(dir)/\(name)"
            try ProfileFiles.write(profile, to: path)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            XCTAssertEqual(Gzip.isGzip(bytes), name.hasSuffix(".gz"), name)
            XCTAssertEqual(try ProfileFiles.read(path: path), profile)
        }
        // Detection is by content: a gzip file without the suffix still reads.
        try FileManager.default.moveItem(atPath: "\(dir)/p.json.gz", toPath: "\(dir)/renamed")
        XCTAssertEqual(try ProfileFiles.read(path: "\(dir)/renamed"), profile)
        // No temporary or probe files are left behind.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["no-extension", "p.json", "renamed"])
    }

    func testWriteReplacesAFileAndFollowsSymlinks() throws {
        let path = "\(dir)/p.json"
        try Data("old".utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.createSymbolicLink(atPath: "\(dir)/link.json", withDestinationPath: path)
        let profile = SyntheticProfiles.pythonCPUThreads(ticks: 20)
        try ProfileFiles.write(profile, to: "\(dir)/link.json")
        XCTAssertEqual(try ProfileFiles.read(path: path), profile)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: "\(dir)/link.json"), path)
    }

    func testInvalidProfileIsNotWritten() throws {
        var profile = SyntheticProfiles.mutexContention(ticks: 10)
        profile.samples[0].wait = 42
        let path = "\(dir)/bad.json"
        assertFileError({ try ProfileFiles.write(profile, to: path) }, .write, path, "invalid profile: sample 0 refers to wait 42")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
    }

    func testReadErrors() throws {
        assertFileError({ _ = try ProfileFiles.read(path: "\(dir)/missing.json") }, .read, "\(dir)/missing.json", "No such file or directory")
        assertFileError({ _ = try ProfileFiles.read(path: dir) }, .read, dir, "Is a directory")
        let empty = "\(dir)/empty.json"
        FileManager.default.createFile(atPath: empty, contents: Data())
        assertFileError({ _ = try ProfileFiles.read(path: empty) }, .read, empty, "not a Forkcast profile: the file is empty")
        let truncated = "\(dir)/truncated.json.gz"
        let gz = try SyntheticProfiles.mutexContention(ticks: 50).encoded(gzip: true)
        try gz.prefix(gz.count / 2).write(to: URL(fileURLWithPath: truncated))
        assertFileError({ _ = try ProfileFiles.read(path: truncated) }, .read, truncated, "corrupt profile: gzip data ends early")
        XCTAssertThrowsError(try ProfileFiles.read(path: truncated)) {
            XCTAssertNotNil(($0 as? ProfileFileError)?.profileError)
        }
    }

    func testCheckWritableReportsTheReasonUpFront() throws {
        XCTAssertNoThrow(try ProfileFiles.checkWritable(path: "\(dir)/new.json"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [], "the check leaves nothing behind")
        let missing = "\(dir)/no/such/dir/p.json"
        assertFileError({ try ProfileFiles.checkWritable(path: missing) }, .write, missing,
                        "No such file or directory (the directory '\(dir)/no/such/dir' does not exist)")
        assertFileError({ try ProfileFiles.checkWritable(path: dir) }, .write, dir, "Is a directory")
        let file = "\(dir)/plain"
        FileManager.default.createFile(atPath: file, contents: Data())
        assertFileError({ try ProfileFiles.checkWritable(path: "\(file)/p.json") }, .write, "\(file)/p.json", "Not a directory")
        assertFileError({ try ProfileFiles.checkWritable(path: "") }, .write, "", "the path is empty")
        // The same errors come from write itself.
        assertFileError({ try ProfileFiles.write(SyntheticProfiles.mutexContention(ticks: 5), to: missing) }, .write, missing,
                        "No such file or directory")
    }

    /// sysfs refuses new files even to root: a directory that cannot be written.
    func testCheckWritableInAnUnwritableDirectory() throws {
        let path = "/sys/forkcast-test.json"
        XCTAssertThrowsError(try ProfileFiles.checkWritable(path: path)) { error in
            let e = error as? ProfileFileError
            XCTAssertTrue([EACCES, EROFS, EPERM].contains(e?.errno ?? 0), "\(error)")
            XCTAssertTrue("\(error)".hasPrefix("cannot write profile to '/sys/forkcast-test.json': "), "\(error)")
        }
    }

    /// Permission bits only stop non-root users.
    func testCheckWritableInADirectoryWithoutWritePermission() throws {
        try XCTSkipIf(geteuid() == 0, "root ignores permission bits; covered by the /sys test")
        let locked = "\(dir)/locked"
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false)
        chmod(locked, 0o555)
        defer { chmod(locked, 0o755) }
        assertFileError({ try ProfileFiles.checkWritable(path: "\(locked)/p.json") }, .write, "\(locked)/p.json",
                        "Permission denied (the directory '\(locked)' is not writable)")
    }
}
