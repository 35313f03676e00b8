import Foundation
import XCTest
import ForkcastModel
import ForkcastTestSupport

/// Unwind tables are read from the target's memory, not from files named by
/// /proc/PID/maps: a binary whose path the kernel escapes there (a newline becomes
/// `\012`) or that was deleted after it started still unwinds to the root.
final class UnwindTablesTests: XCTestCase {
    private func recordBlockedProgram(at path: String) throws -> Profile {
        let source = Fixtures.scratch.appendingPathComponent("unwind-tables.c")
        try """
        #include <unistd.h>
        __attribute__((noinline)) void waiter(void) { sleep(20); __asm__ volatile(""); }
        int main(void) { waiter(); return 0; }
        """.write(to: source, atomically: true, encoding: .utf8)
        // No frame pointers: the unwind must come from .eh_frame.
        let cc = try Fixtures.run("/usr/bin/cc", ["-O2", "-fomit-frame-pointer", "-o", path, source.path])
        guard cc.status == 0 else { throw XCTSkip("cc failed: \(cc.stderr)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        try process.run()
        defer {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        usleep(300_000)
        try? FileManager.default.removeItem(atPath: path)   // deleted while it runs
        let out = Fixtures.scratch.appendingPathComponent("unwind-tables-\(process.processIdentifier).profile.json").path
        let r = try Fixtures.run(try Fixtures.forkcastBinary(),
                                 ["record", "--pid", "\(process.processIdentifier)", "--duration", "1", "-q", "-o", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        return try Profile.decode(Data(contentsOf: URL(fileURLWithPath: out)))
    }

    func testBinaryInFolderWithNewlineAndDeletedUnwindsToRoot() throws {
        let dir = Fixtures.scratch.appendingPathComponent("odd\nfolder")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let profile = try recordBlockedProgram(at: dir.appendingPathComponent("prog").path)
        let stacks = profile.samples.filter { $0.stack >= 0 }.map { profile.stacks[Int($0.stack)] }
        XCTAssertFalse(stacks.isEmpty)
        for stack in stacks {
            XCTAssertFalse(stack.truncated, "stopped early: \(stack.frames.map { profile.frames[Int($0)].name })")
            // Through the program's own frames (waiter, main) to libc's start.
            XCTAssertGreaterThanOrEqual(stack.frames.count, 5)
        }
        XCTAssertEqual(profile.stats.unwindErrors, 0)
    }
}
