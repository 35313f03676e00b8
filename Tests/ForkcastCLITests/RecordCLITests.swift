import Foundation
import XCTest
import ForkcastModel
import ForkcastTestSupport

/// `forkcast record` through the real executable: exit statuses, one-line errors, and
/// the profile written whatever happens to the target.
final class RecordCLITests: XCTestCase {
    var forkcast: String!
    var dir: URL!

    override func setUpWithError() throws {
        forkcast = try Fixtures.forkcastBinary()
        dir = Fixtures.scratch.appendingPathComponent("cli-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// Asserts one clear error line, a non-zero exit, and returns the line.
    @discardableResult
    func assertOneLineError(_ r: Fixtures.RunResult, contains text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        XCTAssertNotEqual(r.status, 0, file: file, line: line)
        let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("forkcast: error:") }
        XCTAssertEqual(lines.count, 1, "stderr: \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.contains(text), "expected '\(text)' in: \(r.stderr)", file: file, line: line)
        return lines.first.map(String.init) ?? ""
    }

    func testNoSuchProgram() throws {
        let r = try Fixtures.run(forkcast, ["record", "-o", path("p.json"), "--", "definitely-not-a-program-xyz"])
        assertOneLineError(r, contains: "no such program")
        XCTAssertEqual(r.status, 2)
    }

    func testNotExecutable() throws {
        let file = path("data.txt")
        try "hello".write(toFile: file, atomically: true, encoding: .utf8)
        let r = try Fixtures.run(forkcast, ["record", "-o", path("p.json"), "--", file])
        assertOneLineError(r, contains: "not executable")
    }

    /// A program found as a pyenv shim runs as the interpreter the shim names, with that
    /// path as argv[0] (as `pyenv exec` does): the interpreter's `sys.executable` is then
    /// the real one, so child interpreters do not go back through the shim's bash.
    func testPyenvShimIsLookedThroughAndArgvZeroIsTheInterpreter() throws {
        let real = "/usr/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: real) else { throw XCTSkip("needs Debian's \(real)") }
        let shims = dir.appendingPathComponent(".pyenv/shims"), bin = dir.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: shims, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        // The shim runs the interpreter through bash helpers, like pyenv's; `pyenv which`
        // names the interpreter.
        try "#!/bin/bash\nname=$(/usr/bin/basename \"$0\")\nexec \(real) \"$@\"\n"
            .write(to: shims.appendingPathComponent("python3"), atomically: true, encoding: .utf8)
        try "#!/bin/sh\n[ \"$1\" = which ] && [ \"$2\" = python3 ] && echo \(real)\n"
            .write(to: bin.appendingPathComponent("pyenv"), atomically: true, encoding: .utf8)
        for f in [shims.appendingPathComponent("python3"), bin.appendingPathComponent("pyenv")] {
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: f.path)
        }
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = "\(bin.path):\(shims.path):/usr/bin:/bin"
        let script = "import subprocess, sys; print(sys.executable); subprocess.run([sys.executable, '-c', 'pass'], check=True)"
        let r = try Fixtures.run(forkcast, ["record", "-q", "-o", path("p.json"), "--", "python3", "-c", script], environment: env)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines), real, "sys.executable must be the interpreter, not the shim")
        let profile = try Profile.decode(Data(contentsOf: URL(fileURLWithPath: path("p.json"))))
        XCTAssertEqual(profile.processes.count, 2, "the interpreter and its child only: \(profile.processes.map(\.executable))")
        XCTAssertFalse(profile.processes.contains { $0.executable.hasSuffix("/bash") }, "\(profile.processes.map(\.executable))")
    }

    func testDeadPid() throws {
        // A pid that existed and is gone.
        let p = try BackgroundProgram(["/bin/true"])
        p.wait()
        let r = try Fixtures.run(forkcast, ["record", "--pid", String(p.pid), "-o", path("p.json")])
        assertOneLineError(r, contains: "no process with pid")
    }

    func testUnwritableOutputIsCheckedBeforeTheTargetStarts() throws {
        let marker = path("started")
        let r = try Fixtures.run(forkcast, ["record", "-o", "/nonexistent-dir/p.json", "--", "/bin/sh", "-c", "touch \(marker)"])
        assertOneLineError(r, contains: "/nonexistent-dir/p.json")
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "the target must not run")
        let r2 = try Fixtures.run(forkcast, ["record", "-o", dir.path, "--", "/bin/true"])
        assertOneLineError(r2, contains: "directory")
    }

    func testBadOptions() throws {
        for args in [["record", "--rate", "0", "--", "/bin/true"], ["record"], ["record", "--pid", "1", "--", "/bin/true"],
                     ["record", "--duration", "-1", "--", "/bin/true"]] {
            let r = try Fixtures.run(forkcast, args)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertTrue(r.stderr.contains("Error:"), "\(args): \(r.stderr)")
        }
    }

    func testExitStatusAndOutputPassThrough() throws {
        let out = path("p.json.gz")
        let r = try Fixtures.run(forkcast, ["record", "-q", "-o", out, "--", "/bin/sh", "-c", "echo hello-from-target; exit 3"])
        XCTAssertEqual(r.status, 3)
        XCTAssertEqual(r.stdout, "hello-from-target\n")
        let profile = try Profile.decode(Data(contentsOf: URL(fileURLWithPath: out)))
        XCTAssertEqual(profile.recording.rootExit?.code, 3)
    }

    func testTargetKilledBySignalStillWritesProfile() throws {
        let out = path("killed.json")
        let r = try Fixtures.run(forkcast, ["record", "-q", "-o", out, "--", "/bin/sh", "-c", "sleep 0.2; kill -KILL $$"])
        XCTAssertEqual(r.status, 128 + SIGKILL)
        XCTAssertTrue(r.stderr.contains("SIGKILL"), r.stderr)
        let profile = try Profile.decode(Data(contentsOf: URL(fileURLWithPath: out)))
        XCTAssertEqual(profile.recording.rootExit?.signal, SIGKILL)
        XCTAssertGreaterThan(profile.samples.count, 5)
    }

    func testSummaryShowsFidelityAndStates() throws {
        let program = try Fixtures.cProgram("mutex_contention")
        let r = try Fixtures.run(forkcast, ["record", "-o", path("m.json"), "--", program, "0.6", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("samples of"), r.stderr)
        XCTAssertTrue(r.stderr.contains("stacks to the root"), r.stderr)
        XCTAssertTrue(r.stderr.contains("lock_wait"), r.stderr)
        XCTAssertTrue(r.stderr.contains("top stacks"), r.stderr)
    }

    /// Ctrl-C reaches the whole foreground process group: forkcast stops, detaches,
    /// writes the profile and exits with the target's status.
    func testInterruptWritesProfileAndDetaches() throws {
        let program = try Fixtures.cProgram("mutex_contention")
        let out = path("int.json")
        let p = try BackgroundProgram(["/usr/bin/setsid", "--wait", forkcast, "record", "-q", "-o", out, "--", program, "30", "2"],
                                      stdout: .null, stderr: .null)
        Thread.sleep(forTimeInterval: 1.0)
        // The session leader's group is forkcast's group. setsid forks first when it is a
        // process group leader already (Foundation's Process made it one), else it is forkcast.
        let r = try Fixtures.run("/usr/bin/pgrep", ["-f", "record -q -o \(out)"])
        let pids = r.stdout.split(separator: "\n").compactMap { Int32($0) }
        let recorder = try XCTUnwrap(pids.first { $0 != p.pid } ?? pids.first { $0 == p.pid })
        let pgid = getpgid(recorder)
        XCTAssertGreaterThan(pgid, 0)
        kill(-pgid, SIGINT)
        p.wait()
        let profile = try Profile.decode(Data(contentsOf: URL(fileURLWithPath: out)))
        XCTAssertEqual(profile.recording.endReason, "interrupted")
        XCTAssertGreaterThan(profile.samples.count, 100)
    }

    /// The executable blocks SIGCHLD before it has threads, so the recorder is told of every
    /// ptrace event and, in a quiet program, waits for the stops it asked for by thread id
    /// (docs/recording.md, "Waiting for ptrace events"). Thread and process churn at
    /// 1000 Hz, with every tick interrupting running threads, is where a clone, exit or
    /// fork whose SIGCHLD merged into a stop's would be late or lost: every thread and
    /// process the program made is in the profile, each with its end.
    func testChurnAtFullRateLosesNoThreadOrProcess() throws {
        let program = try Fixtures.cProgram("thread_churn")
        let out = path("churn.json")
        let r = try Fixtures.run(forkcast, ["record", "-q", "--rate", "1000", "-o", out, "--", program, "1.5", "16"])
        XCTAssertEqual(r.status, 0, r.stderr)
        // "threads=N children=M"
        let counts = Dictionary(uniqueKeysWithValues: r.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { field in
            let kv = field.split(separator: "=")
            return kv.count == 2 ? (String(kv[0]), Int(kv[1])) : nil
        })
        let threads = try XCTUnwrap(counts["threads"] ?? nil), children = try XCTUnwrap(counts["children"] ?? nil)
        XCTAssertGreaterThan(threads, 50, r.stdout)
        let profile = try Profile.decode(Data(contentsOf: URL(fileURLWithPath: out)))
        XCTAssertEqual(profile.processes.count, children + 1, "the program and each child it forked")
        XCTAssertEqual(profile.threads.count, threads + children + 1, "each thread made, each child's, and the main thread")
        XCTAssertTrue(profile.threads.allSatisfy { $0.endNs != nil }, "every thread's end is known")
        XCTAssertTrue(profile.processes.allSatisfy { $0.exit != nil }, "every process's exit is known")
        XCTAssertGreaterThan(profile.samples.count, 500)
    }

    func testTerminateLeavesTargetRunningAndUntraced() throws {
        let program = try Fixtures.cProgram("mutex_contention")
        let out = path("term.json")
        let p = try BackgroundProgram([forkcast, "record", "-q", "-o", out, "--", program, "3", "2"], stdout: .null, stderr: .null)
        Thread.sleep(forTimeInterval: 0.8)
        let children = try Fixtures.run("/usr/bin/pgrep", ["-P", String(p.pid)])
        let target = try XCTUnwrap(children.stdout.split(separator: "\n").compactMap { Int32($0) }.first)
        p.stop(SIGTERM)
        let status = try String(contentsOfFile: "/proc/\(target)/status", encoding: .utf8)
        XCTAssertTrue(status.contains("TracerPid:\t0"), status)
        XCTAssertFalse(status.contains("(stopped)") || status.contains("(tracing stop)"), status)
        let profile = try Profile.decode(Data(contentsOf: URL(fileURLWithPath: out)))
        XCTAssertEqual(profile.recording.endReason, "terminated")
        kill(target, SIGKILL)
    }

    func testAttachedProcessExitingMidRecording() throws {
        let program = try Fixtures.cProgram("mutex_contention")
        // Long enough for a debug build of forkcast to start and attach on a loaded machine.
        let target = try BackgroundProgram([program, "2.0", "2"])
        Thread.sleep(forTimeInterval: 0.2)
        let out = path("attach.json")
        let r = try Fixtures.run(forkcast, ["record", "-q", "--pid", String(target.pid), "--duration", "30", "-o", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        let profile = try Profile.decode(Data(contentsOf: URL(fileURLWithPath: out)))
        XCTAssertEqual(profile.recording.mode, .attach)
        XCTAssertEqual(profile.recording.endReason, "target-exited")
        XCTAssertEqual(profile.recording.rootExit?.code, 0)
        XCTAssertGreaterThan(profile.samples.count, 50)
        target.wait()
    }
}
