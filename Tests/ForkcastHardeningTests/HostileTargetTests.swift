import Foundation
import XCTest
import ForkcastModel
import ForkcastTestSupport

/// A target whose function names, thread names, command line and file paths carry HTML,
/// JavaScript, ANSI escape sequences, newlines and invalid UTF-8
/// (Tests/Fixtures/hostile/hostile.c). Forkcast must record it faithfully, keep every
/// file it writes valid, and never pass the target's bytes raw to the terminal.
final class HostileTargetTests: XCTestCase {
    /// Function names written over the fixture's 64-byte placeholders in the symbol table.
    static let functionNames: [[UInt8]] = [
        Array("<script>document.title='pwned-fn';alert(1)</script>".utf8),
        Array("\"><img src=x onerror=\"document.title='pwned-img'\">".utf8),
        Array("\u{1b}[2J\u{1b}[31mRED\u{1b}]0;title\u{07}".utf8),
        Array("line1\nline2\r\n\tTAB".utf8),
        [0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80] + Array(" bad utf8".utf8),
    ]
    static let argv = ["<script>alert(4)</script>", "\u{1b}[2J\u{1b}]0;argv\u{07}", "two\nlines", "\"'><svg onload=alert(5)>"]

    /// Compiles the fixture and patches the hostile names into its symbol table (each padded
    /// to the placeholder's 64 bytes with 'Z'), inside a directory whose name is hostile.
    static func buildHostile() throws -> (program: String, dir: URL) {
        let source = Fixtures.repositoryRoot.appendingPathComponent("Tests/Fixtures/hostile/hostile.c").path
        let plain = Fixtures.scratch.appendingPathComponent("hostile-plain-\(UUID().uuidString.prefix(6))").path
        let cc = try Fixtures.run("/usr/bin/cc", ["-O2", "-g", "-pthread", "-o", plain, source])
        guard cc.status == 0 else { throw HardeningFailure("cc hostile.c failed: \(cc.stderr)") }
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: plain)))
        for (i, name) in functionNames.enumerated() {
            let placeholder = Array("HOSTILEFUNCTION\(i)".utf8) + [UInt8](repeating: UInt8(ascii: "A"), count: 48)
            precondition(placeholder.count == 64 && name.count <= 64)
            let replacement = name + [UInt8](repeating: UInt8(ascii: "Z"), count: 64 - name.count)
            var start = 0
            var replaced = 0
            while let r = find(placeholder, in: bytes, from: start) {
                bytes.replaceSubrange(r..<(r + 64), with: replacement)
                start = r + 64
                replaced += 1
            }
            precondition(replaced > 0, "placeholder \(i) not found in the fixture")
        }
        // No newline in the folder name here: UnwindTablesTests covers a binary under such a
        // folder. Newlines are covered by function names, argv and the FIFO path.
        let dir = Fixtures.scratch.appendingPathComponent("<img src=x onerror=alert(3)>\u{1b}[1m dir-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // A file name cannot hold '/', so no closing tags here; the directory above has the rest.
        let program = dir.appendingPathComponent("prog<svg onload=alert(6)>\u{1b}[0m").path
        try Data(bytes).write(to: URL(fileURLWithPath: program))
        guard chmod(program, 0o755) == 0 else { throw HardeningFailure("chmod \(program) failed") }
        return (program, dir)
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        var i = from
        while i <= haystack.count - needle.count {
            if haystack[i] == needle[0] && haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    /// One recording of the hostile fixture, shared by the tests below.
    struct Recording {
        var profilePath: String
        var record: Fixtures.RunResult
    }
    nonisolated(unsafe) static var recording: Recording?
    static let recordingLock = NSLock()
    static func recordHostile() throws -> Recording {
        recordingLock.lock()
        defer { recordingLock.unlock() }
        if let recording { return recording }
        let forkcast = try Fixtures.forkcastBinary()
        let (program, dir) = try buildHostile()
        let fifo = dir.appendingPathComponent("fifo<script>\u{1b}]0;x\u{07}\nline").path  // the fixture appends \xff\xfe
        let out = dir.appendingPathComponent("hostile.json").path
        let record = try Fixtures.run(forkcast, ["record", "--rate", "200", "-o", out, "--", program, "1.5", fifo] + argv)
        let result = Recording(profilePath: out, record: record)
        recording = result
        return result
    }

    static func assertNoRawControls(_ text: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(text.unicodeScalars.contains { $0.value == 0x1b }, "\(what) carries a raw ESC:\n\(text)", file: file, line: line)
        XCTAssertFalse(text.unicodeScalars.contains { (0x80...0x9f).contains($0.value) }, "\(what) carries a C1 control", file: file, line: line)
        XCTAssertFalse(text.contains("line1\nline2"), "\(what) lets a newline in a name break its lines", file: file, line: line)
    }

    func testHostileNamesReachTheProfileAndRecordOutputStaysClean() throws {
        let r = try Self.recordHostile()
        XCTAssertEqual(r.record.status, 0, r.record.stderr)
        XCTAssertEqual(r.record.stdout, "", "the fixture prints nothing; forkcast's summary goes to stderr")

        // The profile is valid JSON and a valid profile.
        let data = try Data(contentsOf: URL(fileURLWithPath: r.profilePath))
        XCTAssertNoThrow(try JSONSerialization.jsonObject(with: data))
        let profile = try Profile.decode(data)

        // The hostile content reached the profile: the test exercises what it claims to.
        let names = Set(profile.frames.map(\.name))
        XCTAssertTrue(names.contains { $0.hasPrefix("<script>document.title") }, "hostile function names missing: \(names.sorted().prefix(30))")
        XCTAssertTrue(names.contains { $0.contains("\u{1b}[2J") }, "ESC in a function name missing")
        XCTAssertTrue(names.contains { $0.hasPrefix("line1\nline2") }, "newline in a function name missing")
        let threadNames = profile.threads.map(\.name)
        XCTAssertTrue(threadNames.contains("<script>x</s"), "\(threadNames)")
        XCTAssertTrue(threadNames.contains { $0.contains("\u{1b}[2J") }, "\(threadNames)")
        XCTAssertTrue(profile.recording.command.contains(Self.argv[0]), "\(profile.recording.command)")
        XCTAssertTrue(profile.recording.command.contains(Self.argv[2]), "\(profile.recording.command)")

        // record's summary (stderr) names threads, functions and the output path.
        Self.assertNoRawControls(r.record.stderr, "record stderr")
    }

    /// `forkcast analyze` prints the command line, thread names and stacks of the profile.
    func testAnalyzeOutputStaysClean() throws {
        let forkcast = try Fixtures.forkcastBinary()
        let r = try Self.recordHostile()
        let analyze = try Fixtures.run(forkcast, ["analyze", r.profilePath])
        XCTAssertEqual(analyze.status, 0, analyze.stderr)
        Self.assertNoRawControls(analyze.stdout, "analyze stdout")
        Self.assertNoRawControls(analyze.stderr, "analyze stderr")
        // The machine-readable analysis stays parseable JSON.
        let json = try Fixtures.run(forkcast, ["analyze", "--json", r.profilePath])
        XCTAssertEqual(json.status, 0, json.stderr)
        XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)), "analyze --json is not JSON")
    }

    /// A bad path given on the command line is echoed in the error line: it must stay one
    /// line with no raw escape sequence.
    func testErrorLinesEscapeTheirInput() throws {
        let forkcast = try Fixtures.forkcastBinary()
        let hostile = "/nonexistent/\u{1b}[2J\u{1b}]0;pwned\u{07}evil\nsecond-line"
        for args in [["record", "-o", Fixtures.scratch.appendingPathComponent("x.json").path, "--", hostile],
                     ["analyze", hostile],
                     ["record", "-o", hostile + "/p.json", "--", "/bin/true"]] {
            let r = try Fixtures.run(forkcast, args)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertFalse(r.stderr.unicodeScalars.contains { $0.value == 0x1b }, "raw ESC in: \(r.stderr.debugDescription)")
            let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: true)
            XCTAssertEqual(lines.count, 1, "not one line: \(r.stderr.debugDescription)")
        }
    }
}
