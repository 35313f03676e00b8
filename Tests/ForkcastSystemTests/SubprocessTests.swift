import Foundation
import XCTest
@testable import ForkcastSystem

/// `Subprocess`, `ProcessTree`, `AtomicFile` and `Errno` on real programs: the shell and
/// coreutils, children that block on purpose, files in a temporary directory.
final class SubprocessTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("forkcast-subprocess-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Reads a pipe to its end.
    private func readAll(_ fd: FileDescriptor?) -> String {
        guard let fd else { return "" }
        var buffer = [UInt8]()
        while fd.readAvailable(into: &buffer) {}
        fd.close()
        return String(decoding: buffer, as: UTF8.self)
    }

    func testCwdEnvironmentPipesAndExitStatus() throws {
        let options = Subprocess.Options(workingDirectory: dir, environment: ["FORKCAST_TEST_VALUE": "forty two"],
                                         standardInput: .null, standardOutput: .pipe, standardError: .pipe)
        let child = try Subprocess.spawn(["sh", "-c", "pwd; echo \"$FORKCAST_TEST_VALUE\"; echo oops >&2; exit 3"], options: options)
        let out = readAll(child.standardOutput)
        let err = readAll(child.standardError)
        let (termination, _) = try XCTUnwrap(child.wait())
        XCTAssertEqual(termination, .exited(3))
        XCTAssertEqual(termination.description, "exited with status 3")
        let real = try XCTUnwrap(realpath(dir, nil).map { p -> String in defer { free(p) }; return String(cString: p) })
        XCTAssertEqual(out, "\(real)\nforty two\n")
        XCTAssertEqual(err, "oops\n")
        XCTAssertEqual(child.processGroup, child.pid)
    }

    func testStdinPipeAndFileOutput() throws {
        let outPath = "\(dir)/out.txt"
        let child = try Subprocess.spawn(["cat"], options: Subprocess.Options(standardInput: .pipe, standardOutput: .file(outPath)))
        let input = try XCTUnwrap(child.standardInput)
        let written = try Array("hello\n".utf8).withUnsafeBytes { try input.writeSome($0) }
        XCTAssertEqual(written, 6)
        input.close()
        XCTAssertEqual(child.wait()?.0, .exited(0))
        XCTAssertEqual(try String(contentsOfFile: outPath, encoding: .utf8), "hello\n")
    }

    func testChildGetsDefaultSignalsAndAnEmptyMaskWhateverForkcastIgnores() throws {
        // forkcast ignores SIGPIPE while it talks to a plugin; its children must not inherit that.
        let ignored = IgnoredSignal(SIGPIPE)
        defer { ignored.restore() }
        let child = try Subprocess.spawn(["sh", "-c", "grep -E '^(SigIgn|SigBlk)' /proc/self/status"],
                                         options: Subprocess.Options(standardOutput: .pipe))
        let out = readAll(child.standardOutput)
        _ = child.wait()
        let lines = out.split(separator: "\n")
        XCTAssertEqual(lines.count, 2, out)
        for line in lines {
            let mask = UInt64(line.split(separator: "\t").last ?? "", radix: 16)
            // sh itself may ignore nothing but blocks nothing; SIGPIPE (bit 12) must not be ignored.
            XCTAssertEqual((mask ?? 1) & (1 << (UInt64(SIGPIPE) - 1)), 0, String(line))
        }
    }

    func testMissingProgramAndMissingDirectoryAreTypedErrors() {
        XCTAssertThrowsError(try Subprocess.spawn(["/no/such/program"])) { error in
            XCTAssertEqual((error as? SystemError)?.errno, .ENOENT)
        }
        XCTAssertThrowsError(try Subprocess.spawn(["true"], options: Subprocess.Options(workingDirectory: "\(dir)/missing"))) { error in
            let e = error as? SystemError
            XCTAssertEqual(e?.errno, .ENOENT)
            XCTAssertEqual(e?.call, "chdir \(dir)/missing")
        }
        XCTAssertEqual(Errno.ESRCH.name, "ESRCH")
        XCTAssertEqual(Errno(Int32(9999)).name, "errno 9999")
    }

    func testGroupKillReachesGrandchildrenAndTheTreeIsWalked() throws {
        Subprocess.becomeChildSubreaper()
        // A shell with two sleeping children: the tree has three members until the group is killed.
        let child = try Subprocess.spawn(["sh", "-c", "sleep 30 & sleep 30 & echo ready; wait"],
                                         options: Subprocess.Options(standardOutput: .pipe))
        let out = try XCTUnwrap(child.standardOutput)
        var buffer = [UInt8]()
        while !buffer.contains(0x0a), out.readAvailable(into: &buffer) {}
        var members: [Int32] = []
        for _ in 0..<200 {
            members = ProcessTree.members(of: child.pid)
            if members.count == 3 { break }
            Thread.sleep(forTimeInterval: 0.01)
        }
        XCTAssertEqual(members.count, 3, "\(members)")
        XCTAssertEqual(members.first, child.pid)
        let usage = ProcessTree.usage(of: child.pid)
        XCTAssertEqual(usage.processes, 3)
        XCTAssertGreaterThan(usage.residentBytes, 0)
        child.signalGroup(SIGKILL)
        let (termination, _) = try XCTUnwrap(child.wait())
        XCTAssertEqual(termination, .signaled(SIGKILL, coreDumped: false))
        _ = Subprocess.killAndReapGroup(child.pid)
        for pid in members { XCTAssertFalse(ProcFS.exists(pid: pid), "\(pid) survived the group kill") }
        out.close()
    }

    func testSpawnStoppedChildWaitsForSIGCONTAndReportsExecFailure() throws {
        let stopped = try Subprocess.spawnStopped(executable: "/bin/true", arguments: ["true"], environment: [])
        guard case .stopped(_, let sig, _) = try Wait.untraced(stopped.pid) else { return XCTFail("not stopped") }
        XCTAssertEqual(sig, SIGSTOP)
        Subprocess.signal(stopped.pid, SIGCONT)
        XCTAssertNil(stopped.execError())
        XCTAssertEqual(try Wait.untraced(stopped.pid), .exited(tid: stopped.pid, code: 0))

        let missing = try Subprocess.spawnStopped(executable: "/no/such/program", arguments: ["x"], environment: [])
        _ = try Wait.untraced(missing.pid)
        Subprocess.signal(missing.pid, SIGCONT)
        XCTAssertEqual(missing.execError()?.errno, .ENOENT)
        XCTAssertEqual(try Wait.untraced(missing.pid), .exited(tid: missing.pid, code: 127))
    }

    // MARK: - AtomicFile

    func testAtomicWriteReplacesAndLeavesNoTemporary() throws {
        let path = "\(dir)/out.json"
        try AtomicFile.write("old", to: path)
        try AtomicFile.write("new", to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "new")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["out.json"])
    }

    func testAtomicWriteFailureKeepsTheOldFileAndRemovesTheTemporary() throws {
        struct Boom: Error {}
        let path = "\(dir)/keep.txt"
        try AtomicFile.write("kept", to: path)
        XCTAssertThrowsError(try AtomicFile.write(to: path) { sink in
            try Array("partial".utf8).withUnsafeBytes { try sink($0) }
            throw Boom()
        }) { XCTAssertTrue($0 is Boom) }
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "kept")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["keep.txt"])
    }

    func testAtomicWriteErrorsAreOneLineWithAHint() {
        XCTAssertThrowsError(try AtomicFile.write("x", to: "\(dir)/missing/out.txt")) { error in
            let e = error as? AtomicFile.WriteError
            XCTAssertEqual(e?.errno, .ENOENT)
            XCTAssertEqual(e?.description, "cannot write '\(dir)/missing/out.txt': No such file or directory (the directory '\(dir)/missing' does not exist)")
        }
        XCTAssertThrowsError(try AtomicFile.write("x", to: dir)) { error in
            XCTAssertEqual((error as? AtomicFile.WriteError)?.errno, .EISDIR)
        }
    }

    func testAtomicWriteThroughASymlinkReplacesItsTarget() throws {
        let real = "\(dir)/real.txt"
        try AtomicFile.write("one", to: real)
        try FileManager.default.createSymbolicLink(atPath: "\(dir)/link.txt", withDestinationPath: real)
        try AtomicFile.write("two", to: "\(dir)/link.txt")
        XCTAssertEqual(try String(contentsOfFile: real, encoding: .utf8), "two")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: "\(dir)/link.txt"), real)
    }
}
