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
        let process = try BackgroundProgram([path], stderr: .inherit)
        defer { process.stop() }
        usleep(300_000)
        try? FileManager.default.removeItem(atPath: path)   // deleted while it runs
        let out = Fixtures.scratch.appendingPathComponent("unwind-tables-\(process.pid).profile.json").path
        let r = try Fixtures.run(try Fixtures.forkcastBinary(),
                                 ["record", "--pid", "\(process.pid)", "--duration", "1", "-q", "-o", out])
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

    /// A pc inside a PLT stub (lazy binding, as `-Wl,-z,lazy` builds): the stub has no
    /// frame of its own, only .eh_frame's rule for the .plt section. Samples that stop
    /// there still unwind through the caller to the thread's start; a thread blocked in a
    /// call made through the PLT unwinds to main.
    func testPCInAPLTStubUnwindsToTheRoot() throws {
        let program = try Fixtures.cProgram("plt_calls", flags: ["-O2", "-g", "-pthread", "-fno-builtin", "-Wl,-z,lazy"])
        // The PLT sections' file virtual addresses (the frames' offsets in a PIE).
        let sections = try Fixtures.run("/usr/bin/readelf", ["-SW", program]).stdout.split(separator: "\n").compactMap { line -> Range<UInt64>? in
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let i = f.firstIndex(where: { $0 == ".plt" || $0 == ".plt.sec" }), f.count > i + 4,
                  let address = UInt64(f[i + 2], radix: 16), let size = UInt64(f[i + 4], radix: 16) else { return nil }
            return address..<(address + size)
        }
        XCTAssertFalse(sections.isEmpty, "no .plt section in the fixture")
        let out = Fixtures.scratch.appendingPathComponent("plt-\(UUID().uuidString.prefix(6)).profile.json").path
        let r = try Fixtures.run(try Fixtures.forkcastBinary(), ["record", "--rate", "1000", "-q", "-o", out, "--", program, "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let profile = try Profile.decode(Data(contentsOf: URL(fileURLWithPath: out)))
        func frames(_ sample: Sample) -> [Frame] { profile.stacks[Int(sample.stack)].frames.map { profile.frames[Int($0)] } }
        let spinRow = try XCTUnwrap(profile.threads.firstIndex { $0.name == "plt_spin" })
        let inStub = profile.samples.filter { s in
            guard s.thread == Int32(spinRow), s.stack >= 0, let leaf = frames(s).first, let offset = leaf.offset,
                  leaf.mapping.map({ profile.mappings[Int($0)].file.hasSuffix("/" + URL(fileURLWithPath: program).lastPathComponent) })
                    ?? false else { return false }
            return sections.contains { $0.contains(offset) }
        }
        XCTAssertGreaterThan(inStub.count, 5, "samples stopped in labs@plt: \(inStub.count)")
        for s in inStub {
            let names = frames(s).map(\.name)
            XCTAssertFalse(profile.stacks[Int(s.stack)].truncated, "stopped early from the PLT: \(names)")
            XCTAssertEqual(Array(names.dropFirst().prefix(2)), ["spin_through_plt", "spinner"], "\(names)")
        }
        let mainSamples = profile.samples.filter { s in
            s.stack >= 0 && s.tid == profile.recording.rootPid && frames(s).contains { $0.name == "block_through_plt" }
        }
        XCTAssertGreaterThan(mainSamples.count, 100)
        for s in mainSamples {
            XCTAssertFalse(profile.stacks[Int(s.stack)].truncated)
            XCTAssertTrue(frames(s).contains { $0.name == "main" }, "\(frames(s).map(\.name))")
        }
    }
}
