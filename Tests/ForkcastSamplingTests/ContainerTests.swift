import Foundation
import XCTest
import ForkcastModel
import ForkcastTestSupport

/// A process in another root — a chroot, and a separate mount namespace — recorded from
/// outside with `forkcast record --pid`: its libc is Debian sid's (not this machine's),
/// so frames are named only if every mapped file is read through /proc/PID/root, and the
/// profile's mapping rows carry the build-id of the chroot's libc, not the host's.
final class ContainerTests: XCTestCase {
    nonisolated(unsafe) private static var chroot: String?
    nonisolated(unsafe) private static var chrootFailure: String?

    override func setUpWithError() throws {
        guard getuid() == 0 else { throw XCTSkip("chroot and unshare -m need root") }
        if Self.chroot == nil && Self.chrootFailure == nil {
            let script = Fixtures.repositoryRoot.appendingPathComponent("scripts/assets/sid-chroot.sh").path
            let r = try Fixtures.run("/usr/bin/timeout", ["1200", "/bin/bash", script])
            let dir = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            if r.status == 0, FileManager.default.fileExists(atPath: dir + "/usr/bin/sleep") {
                Self.chroot = URL(fileURLWithPath: dir).resolvingSymlinksInPath().path
            } else {
                Self.chrootFailure = "the sid chroot could not be built (scripts/assets/sid-chroot.sh, status \(r.status)): \(r.stderr.suffix(400))"
            }
        }
        if let failure = Self.chrootFailure { throw XCTSkip(failure) }
    }

    func testChroot() throws {
        try recordInside { dir in ["/usr/sbin/chroot", dir, "/usr/bin/sleep", "20"] }
    }

    func testMountNamespace() throws {
        try recordInside { dir in ["/usr/bin/unshare", "-m", "--root=\(dir)", "/usr/bin/sleep", "20"] }
    }

    /// As a container runtime does: a new mount namespace whose root is pivoted to the
    /// chroot. Its /proc/PID/maps then says /usr/lib/x86_64-linux-gnu/libc.so.6 — a path
    /// that here names the host's (another) libc — and /proc/PID/root reads "/".
    func testPivotRoot() throws {
        try recordInside(expectRoot: { pid in ProcFSRead.link("/proc/\(pid)/ns/mnt") }) { dir in
            ["/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c",
             "mount --bind \"$0\" \"$0\" && cd \"$0\" && mkdir -p .oldroot && /usr/sbin/pivot_root . .oldroot && exec /usr/bin/sleep 20", dir]
        }
    }

    /// CPython in a container whose root is pivoted: /proc/PID/maps names
    /// /usr/bin/python3.1x, a file the host does not have (or another one). Detection reads
    /// the interpreter through /proc/PID/root, so the Python frames are recorded.
    func testPythonInAPivotedRoot() throws {
        let dir = try XCTUnwrap(Self.chroot)
        // A version the chroot has and the host does not: found only inside the root.
        guard let version = ["3.13", "3.14", "3.15"].first(where: {
            FileManager.default.fileExists(atPath: dir + "/usr/bin/python" + $0)
                && !FileManager.default.fileExists(atPath: "/usr/bin/python" + $0)
        }) else { throw XCTSkip("the sid chroot has no python3.13–3.15 that the host lacks") }
        let script = "import time\ndef snooze_in_container():\n    time.sleep(20)\nsnooze_in_container()\n"
        let program = try BackgroundProgram(["/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c",
                                             "mount --bind \"$0\" \"$0\" && cd \"$0\" && mkdir -p .oldroot && /usr/sbin/pivot_root . .oldroot && exec /usr/bin/python\(version) -c \"$1\"",
                                             dir, script])
        defer { program.stop() }
        let pid = program.pid
        program.waitForExecutable(endingWith: "/python\(version)")
        usleep(500_000)  // the interpreter starts and reaches time.sleep
        let out = Fixtures.scratch.appendingPathComponent("container-py-\(pid).profile.json").path
        let r = try Fixtures.run(try Fixtures.forkcastBinary(), ["record", "--pid", "\(pid)", "--duration", "1", "-q", "-o", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        let profile = try Profile.decode(Data(contentsOf: URL(fileURLWithPath: out)))
        let recorded = try XCTUnwrap(profile.processes.first { $0.pid == pid })
        XCTAssertEqual(recorded.root, ProcFSRead.link("/proc/\(pid)/ns/mnt"), "the profile notes the process's root")
        XCTAssertTrue(recorded.runtime?.hasPrefix("CPython \(version)") ?? false, "runtime: \(recorded.runtime ?? "none")")
        let pythonNames = Set(profile.samples.filter { $0.pid == pid && $0.stack >= 0 }
            .flatMap { profile.stacks[Int($0.stack)].frames.map { profile.frames[Int($0)] } }
            .filter { $0.kind == .python }.map(\.name))
        XCTAssertTrue(pythonNames.contains("snooze_in_container"), "Python frames: \(pythonNames.sorted())")
    }

    private func recordInside(expectRoot: ((Int32) -> String?)? = nil, _ command: (String) -> [String]) throws {
        let dir = try XCTUnwrap(Self.chroot)
        let program = try BackgroundProgram(command(dir))
        defer { program.stop() }
        let pid = program.pid
        // chroot and unshare exec the program in place: wait until the pid runs sleep.
        program.waitForExecutable(endingWith: "/sleep")
        let expectedRoot = expectRoot.map { $0(pid) } ?? dir
        if expectRoot == nil { XCTAssertEqual(ProcFSRead.link("/proc/\(pid)/root"), dir) }

        let out = Fixtures.scratch.appendingPathComponent("container-\(pid).profile.json").path
        let r = try Fixtures.run(try Fixtures.forkcastBinary(), ["record", "--pid", "\(pid)", "--duration", "1.5", "-q", "-o", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        let profile = try Profile.decode(Data(contentsOf: URL(fileURLWithPath: out)))

        XCTAssertEqual(profile.processes.first { $0.pid == pid }?.root, expectedRoot, "the profile notes the process's root")
        let stacks = profile.samples.filter { $0.pid == pid && $0.stack >= 0 }.map { profile.stacks[Int($0.stack)] }
        XCTAssertFalse(stacks.isEmpty, "no samples of \(pid)")
        for stack in stacks { XCTAssertFalse(stack.truncated, "a stack stopped before the root") }

        // The sleep is in sid's libc: named, and attributed to the chroot's file.
        let libcPath = "/usr/lib/x86_64-linux-gnu/libc.so.6"
        let libcFrames = stacks.flatMap { $0.frames.map { profile.frames[Int($0)] } }.filter { frame in
            // The path as /proc/PID/maps gave it: inside the root, or (a chroot below ours)
            // the same file seen from here.
            let file = frame.mapping.map { profile.mappings[Int($0)].file } ?? ""
            return file == libcPath || file == dir + libcPath
        }
        let sleepFrame = try XCTUnwrap(libcFrames.first { $0.symbolized && $0.name.hasSuffix("nanosleep") },
                                       "no named libc sleep frame in \(libcFrames.map(\.name))")
        // Its offset falls in that symbol of the chroot's libc (not the host's, where the
        // same offset is elsewhere).
        let nm = try Fixtures.run("/usr/bin/nm", ["-D", "-S", "--defined-only", dir + libcPath])
        let range = nm.stdout.split(separator: "\n").compactMap { line -> (UInt64, UInt64)? in
            let f = line.split(separator: " ")
            guard f.count == 4, f[3] == Substring(sleepFrame.name) || f[3].hasPrefix(sleepFrame.name + "@"),
                  let start = UInt64(f[0], radix: 16), let size = UInt64(f[1], radix: 16) else { return nil }
            return (start, start + size)
        }.first
        let (start, end) = try XCTUnwrap(range, "\(sleepFrame.name) is not in the chroot's libc")
        let offset = try XCTUnwrap(sleepFrame.offset)
        XCTAssertTrue(start < offset && offset <= end, "\(sleepFrame.name) at 0x\(String(offset, radix: 16)) outside 0x\(String(start, radix: 16))…0x\(String(end, radix: 16))")
        // The mapping row carries the chroot libc's build-id.
        let readelf = try Fixtures.run("/usr/bin/readelf", ["-n", dir + libcPath])
        let buildId = readelf.stdout.split(separator: "\n").first { $0.contains("Build ID:") }?
            .split(separator: " ").last.map(String.init)
        let recorded = sleepFrame.mapping.flatMap { profile.mappings[Int($0)].buildId }
        XCTAssertNotNil(buildId)
        XCTAssertEqual(recorded, buildId, "the libc read is the chroot's")
    }
}

private enum ProcFSRead {
    static func link(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
