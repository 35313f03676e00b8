import Foundation
import XCTest
import ForkcastModel
import ForkcastSampling
import ForkcastTestSupport

/// `record` on Python fixtures, through the whole recorder, on every CPython this
/// machine has (docs/python.md, "Tested on"): this host's 3.11 (pyenv's build with
/// symbols; Debian's stripped python3.11 with its debug package), a 3.12 where one is
/// installed (pyenv; Debian has none), 3.13, 3.14 and 3.15
/// from Debian sid in a chroot (run with `chroot DIR pythonX.Y`, recorded from outside:
/// the container case), and 3.13 with and without the GIL built from trixie's source.
/// Python frames, GIL holder and GIL wait, lock waits at the line that waits, C
/// extensions without the GIL, process pools; on the free-threaded 3.13t no GIL at all
/// and CPU-bound threads running in parallel.
///
/// One test method per interpreter and scenario, so a missing interpreter skips only
/// its own tests, with the command that provides it.
final class RecorderPythonTests: XCTestCase {
    /// One interpreter to run fixtures under.
    struct Target {
        var name: String
        /// The command up to the script (`[python]` or `[chroot, DIR, python3.14]`).
        var prefix: [String]
        /// Where the fixture scripts are, as the interpreter sees them.
        var scripts: String
        var versionPrefix: String
        var freeThreaded = false

        func command(_ script: String, _ args: String...) -> [String] { prefix + ["\(scripts)/\(script)"] + args }
    }

    static let cache = ProcessInfo.processInfo.environment["FORKCAST_CACHE"]
        ?? (ProcessInfo.processInfo.environment["HOME", default: "/root"] + "/.cache/forkcast")

    /// 3.11: every 3.11 on the host.
    func host311() throws -> [Target] {
        let found = Fixtures.pythonInterpreters
        if found.isEmpty { throw XCTSkip("no CPython 3.11 on this machine (apt install python3.11 python3.11-dbg)") }
        let scripts = Fixtures.pythonScript("x").replacingOccurrences(of: "/x", with: "")
        return found.map { Target(name: $0, prefix: [$0], scripts: scripts, versionPrefix: "CPython 3.11") }
    }

    /// Debian sid's pythonX.Y in the cached chroot (scripts/assets/sid-chroot.sh), the
    /// fixtures copied into it.
    func chroot(_ version: String) throws -> Target {
        let dir = "\(Self.cache)/sid-chroot"
        guard FileManager.default.fileExists(atPath: "\(dir)/.forkcast-stamp"),
              FileManager.default.isExecutableFile(atPath: "\(dir)/usr/bin/python\(version)") else {
            throw XCTSkip("no sid chroot with python\(version) under \(dir): run scripts/assets/sid-chroot.sh (as root)")
        }
        guard getuid() == 0 else { throw XCTSkip("chroot needs root") }
        let inside = "/opt/forkcast-fixtures"
        let target = "\(dir)\(inside)"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        let source = URL(fileURLWithPath: Fixtures.pythonScript("x")).deletingLastPathComponent().path
        for file in try FileManager.default.contentsOfDirectory(atPath: source) where file.hasSuffix(".py") {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(source)/\(file)"))
            try data.write(to: URL(fileURLWithPath: "\(target)/\(file)"), options: .atomic)
        }
        return Target(name: "sid python\(version)", prefix: ["/usr/sbin/chroot", dir, "python\(version)"],
                      scripts: inside, versionPrefix: "CPython \(version)")
    }

    /// 3.13 from trixie's source (scripts/assets/cpython-3.13.sh): "gil" or "ft".
    func built313(_ flavour: String) throws -> Target {
        let python = flavour == "ft" ? "\(Self.cache)/cpython-3.13/ft/bin/python3.13t" : "\(Self.cache)/cpython-3.13/gil/bin/python3.13"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw XCTSkip("\(python) not built: run scripts/assets/cpython-3.13.sh")
        }
        let scripts = Fixtures.pythonScript("x").replacingOccurrences(of: "/x", with: "")
        return Target(name: python, prefix: [python], scripts: scripts, versionPrefix: "CPython 3.13", freeThreaded: flavour == "ft")
    }

    /// 3.12: no reachable Debian suite ships it (neither binaries nor sources), so only a
    /// 3.12 already on the machine: `FORKCAST_PYTHON312`, else pyenv's
    /// `~/.pyenv/versions/3.12.*/bin/python3.12`.
    func python312() throws -> Target {
        let env = ProcessInfo.processInfo.environment
        var candidates: [String] = []
        if let explicit = env["FORKCAST_PYTHON312"] { candidates.append(explicit) }
        let pyenv = (env["PYENV_ROOT"] ?? env["HOME", default: "/root"] + "/.pyenv") + "/versions"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: pyenv)) ?? []
        candidates += versions.filter { $0.hasPrefix("3.12") }.sorted().reversed().map { "\(pyenv)/\($0)/bin/python3.12" }
        guard let python = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("no CPython 3.12 on this machine (Debian has none; set FORKCAST_PYTHON312 or install one with pyenv)")
        }
        let scripts = Fixtures.pythonScript("x").replacingOccurrences(of: "/x", with: "")
        return Target(name: python, prefix: [python], scripts: scripts, versionPrefix: "CPython 3.12")
    }

    // MARK: - Scenarios, one method each per interpreter

    func testCPUThreads311() throws { for t in try host311() { try cpuThreads(t) } }
    func testCPUThreads312() throws { try cpuThreads(try python312()) }
    func testCPUThreads313() throws { try cpuThreads(try chroot("3.13")) }
    func testCPUThreads314() throws { try cpuThreads(try chroot("3.14")) }
    func testCPUThreads315() throws { try cpuThreads(try chroot("3.15")) }
    func testCPUThreads313Built() throws { try cpuThreads(try built313("gil")) }
    func testCPUThreads313FreeThreaded() throws { try cpuThreads(try built313("ft")) }

    func testLockWait311() throws { for t in try host311() { try lockWait(t) } }
    func testLockWait312() throws { try lockWait(try python312()) }
    func testLockWait313() throws { try lockWait(try chroot("3.13")) }
    func testLockWait314() throws { try lockWait(try chroot("3.14")) }
    func testLockWait315() throws { try lockWait(try chroot("3.15")) }
    func testLockWait313FreeThreaded() throws { try lockWait(try built313("ft")) }

    func testHashing311() throws { for t in try host311() { try hashing(t) } }
    func testHashing312() throws { try hashing(try python312()) }
    func testHashing313() throws { try hashing(try chroot("3.13")) }
    func testHashing314() throws { try hashing(try chroot("3.14")) }
    func testHashing315() throws { try hashing(try chroot("3.15")) }
    func testHashing313FreeThreaded() throws { try hashing(try built313("ft")) }

    func testProcessPools311() throws { try processPools(try XCTUnwrap(try host311().first)) }
    func testProcessPools312() throws { try processPools(try python312()) }
    func testProcessPools313() throws { try processPools(try chroot("3.13")) }
    func testProcessPools314() throws { try processPools(try chroot("3.14")) }
    func testProcessPools315() throws { try processPools(try chroot("3.15")) }
    func testProcessPools313FreeThreaded() throws { try processPools(try built313("ft")) }

    func testSubinterpreters314() throws { try subinterpreters(try chroot("3.14")) }
    func testSubinterpreters315() throws { try subinterpreters(try chroot("3.15")) }

    // MARK: - Scenarios

    func cpuThreads(_ t: Target) throws {
        let markers = ["spin_alpha": "LINE_ALPHA", "spin_beta": "LINE_BETA", "spin_gamma": "LINE_GAMMA", "spin_delta": "LINE_DELTA"]
        let p = try record(t.command("cpu_threads.py", "1.5"))
        let root = try XCTUnwrap(p.processes.last { $0.runtime != nil }, "\(t.name): no CPython process found")
        XCTAssertTrue(root.runtime?.hasPrefix(t.versionPrefix) ?? false, "\(t.name): \(root.runtime ?? "-")")
        XCTAssertEqual(root.python?.freeThreaded, t.freeThreaded, t.name)
        XCTAssertEqual(root.python?.gilEnabled, !t.freeThreaded, t.name)
        let workers = threads(p, named: "worker-")
        XCTAssertEqual(workers.count, 4, "\(t.name): threading names read: \(p.threads.map(\.name))")
        XCTAssertTrue(p.threads.filter { workers.contains($0.tid) }.allSatisfy { $0.interpreter == 0 }, t.name)
        let samples = p.samples.filter { workers.contains($0.tid) }
        var attributed = 0
        for s in samples {
            let pyFrames = frames(p, s).filter { $0.kind == .python }
            if try markers.contains(where: { name, marker in
                let expected = try line("cpu_threads.py", marker)
                return pyFrames.contains { $0.name == name && $0.file?.hasSuffix("cpu_threads.py") == true && ($0.line == expected || $0.line == expected - 1) }
            }) { attributed += 1 }
        }
        XCTAssertGreaterThan(Double(attributed) / Double(max(samples.count, 1)), 0.9,
                             "\(t.name): fixture functions and lines in the workers' stacks")
        var running: [UInt64: Int] = [:]
        for s in samples where s.state == .onCPU { running[s.timeNs, default: 0] += 1 }
        if t.freeThreaded {
            // No GIL: nobody holds it, nobody waits for it, and the threads run side by side.
            // (Start-up enables the GIL transiently while extension modules initialise:
            // the workers, started after that, see none.)
            XCTAssertTrue(samples.allSatisfy { $0.holdsGIL == nil }, "\(t.name): a GIL holder on a build without one")
            XCTAssertEqual(share(samples, .gilWait), 0, "\(t.name): GIL waits on a build without a GIL")
            // Never blocked: on CPU or waiting for one.
            XCTAssertGreaterThan(share(samples, .onCPU, .runnable), 0.9, "\(t.name): workers blocked")
            // Side by side: how often two or more were on CPU at one tick, against what four
            // independently scheduled threads would give at the on-CPU share this run got
            // (a loaded machine lowers both; one GIL would keep it near zero).
            let ticks = Set(samples.map(\.timeNs)).count
            let parallel = running.values.filter { $0 >= 2 }.count
            let q = share(samples, .onCPU)
            let independent = 1 - pow(1 - q, 4) - 4 * q * pow(1 - q, 3)
            XCTAssertGreaterThan(Double(parallel) / Double(max(ticks, 1)), 0.3 * independent,
                                 "\(t.name): two workers on CPU at once in few ticks (\(parallel) of \(ticks); "
                                     + "on-CPU share \(q), independent threads would give \(independent))")
            XCTAssertGreaterThan(parallel, 0, t.name)
        } else {
            // One GIL: at most one holder per tick.
            var holders: [UInt64: Int] = [:]
            for s in p.samples where s.holdsGIL == true { holders[s.timeNs, default: 0] += 1 }
            XCTAssertLessThanOrEqual(holders.values.max() ?? 0, 1, t.name)
            XCTAssertGreaterThan(holders.count, p.stats.ticks / 2, "\(t.name): the holder is known most of the time")
            // Four threads, one GIL: the workers wait for it most of the time, and nearly
            // all their waiting is for the GIL. (On a loaded machine some of that time
            // becomes runnable: the off-CPU share is what is judged.)
            XCTAssertGreaterThan(share(samples, .gilWait), 0.2, "\(t.name): workers wait for the GIL")
            let blocked = samples.filter { $0.state != .onCPU && $0.state != .runnable }
            XCTAssertGreaterThan(share(blocked, .gilWait), 0.85, "\(t.name): their waits are GIL waits")
            // GIL waits are GIL waits, not lock waits.
            XCTAssertLessThan(share(samples, .lockWait), 0.05, t.name)
        }
    }

    func lockWait(_ t: Target) throws {
        let acquire = try line("lock_contention.py", "LINE_ACQUIRE")
        let p = try record(t.command("lock_contention.py", "1.5"))
        let contenders = threads(p, named: "contender-")
        XCTAssertEqual(contenders.count, 4, t.name)
        let samples = p.samples.filter { contenders.contains($0.tid) }
        XCTAssertGreaterThan(share(samples, .lockWait), 0.55, "\(t.name): contenders wait on the lock")
        XCTAssertLessThan(share(samples, .gilWait), 0.05, "\(t.name): nobody wants the GIL")
        let waits = samples.filter { $0.state == .lockWait }
        let atAcquire = waits.filter { s in frames(p, s).first { $0.kind == .python }?.line == acquire }
        XCTAssertGreaterThan(Double(atAcquire.count) / Double(max(waits.count, 1)), 0.9, "\(t.name): attributed to line \(acquire)")
        // The holder sleeps in time.sleep inside the lock: a sleep at that line.
        let sleepLine = try line("lock_contention.py", "LINE_SLEEP")
        let sleeps = samples.filter { $0.state == .sleep }
        XCTAssertGreaterThan(Double(sleeps.count) / Double(max(samples.count, 1)), 0.1, "\(t.name): the holder sleeps")
        let atSleep = sleeps.filter { s in frames(p, s).first { $0.kind == .python }?.line == sleepLine }
        XCTAssertGreaterThan(Double(atSleep.count) / Double(max(sleeps.count, 1)), 0.9, "\(t.name): sleeps at line \(sleepLine)")
    }

    func hashing(_ t: Target) throws {
        let p = try record(t.command("hash_threads.py", "1.5"))
        let hashers = threads(p, named: "hasher-")
        XCTAssertEqual(hashers.count, 2, t.name)
        let samples = p.samples.filter { hashers.contains($0.tid) }
        XCTAssertGreaterThan(share(samples, .onCPU, .runnable), 0.6, "\(t.name): hashing threads are busy")
        let running = samples.filter { $0.state == .onCPU }
        let withoutGIL = running.filter { t.freeThreaded ? $0.holdsGIL == nil : $0.holdsGIL == false }
        XCTAssertGreaterThan(Double(withoutGIL.count) / Double(max(running.count, 1)), 0.6, "\(t.name): on CPU without the GIL")
        let inC = running.filter { s in
            frames(p, s).contains { f in
                f.kind == .native && (f.name.lowercased().contains("sha256") || f.name.lowercased().contains("sha2")
                    || (f.module ?? "").contains("libcrypto") || (f.module ?? "").contains("_sha2")
                    || (f.module ?? "").contains("_hashlib"))
            }
        }
        XCTAssertGreaterThan(Double(inC.count) / Double(max(running.count, 1)), 0.6, "\(t.name): in the C extension's frames")
        XCTAssertTrue(running.contains { s in frames(p, s).contains { $0.kind == .python && $0.name == "hash_forever" } }, t.name)
    }

    func processPools(_ t: Target) throws {
        for method in ["fork", "spawn", "forkserver"] {
            let p = try record(t.command("process_pool.py", method, "1.2"))
            let root = p.processes.first { $0.pid == p.recording.rootPid }
            // Under chroot the root is chroot itself; the Python parent is its exec'd self.
            let workers = p.processes.filter { $0.pid != p.recording.rootPid && $0.ppid != 0 && $0.runtime != nil }
            XCTAssertGreaterThanOrEqual(workers.count, 2, "\(t.name) \(method)")
            let spinning = Set(p.samples.filter { s in frames(p, s).contains { $0.kind == .python && $0.name == "pool_spin" } }.map(\.pid))
            XCTAssertGreaterThanOrEqual(spinning.count, 2, "\(t.name) \(method): both pool workers show pool_spin")
            XCTAssertTrue(spinning.allSatisfy { $0 != root?.pid }, "\(t.name) \(method)")
        }
    }

    /// InterpreterPoolExecutor (3.14+): two workers, each in a subinterpreter with its
    /// own GIL, beside the main interpreter's thread. Every interpreter is walked, each
    /// worker is labelled with its subinterpreter and read there, and with three GILs
    /// two threads can hold one at the same tick.
    func subinterpreters(_ t: Target) throws {
        let p = try record(t.command("subinterpreters.py", "1.5"))
        let root = try XCTUnwrap(p.processes.first { $0.python != nil }, t.name)
        let interpreters = root.python?.interpreters ?? []
        XCTAssertEqual(interpreters.first, PythonInterpreterInfo(id: 0), t.name)
        let subs = interpreters.filter { $0.id > 0 }
        XCTAssertGreaterThanOrEqual(subs.count, 2, "\(t.name): \(interpreters)")
        XCTAssertTrue(subs.allSatisfy { $0.ownGIL == true }, "\(t.name): \(interpreters)")
        let subThreads = Set(p.threads.filter { ($0.interpreter ?? 0) > 0 }.map(\.tid))
        XCTAssertEqual(subThreads.count, 2, "\(t.name): \(p.threads.map { ($0.name, $0.interpreter) })")
        let line = try line("subinterpreters.py", "LINE_SUB")
        let inSub = p.samples.filter { subThreads.contains($0.tid) }
        let spinning = inSub.filter { s in frames(p, s).contains { $0.kind == .python && $0.name == "sub_spin" && abs(($0.line ?? 0) - line) <= 1 } }
        // A good part of the workers' time (the rest: creating the interpreter and importing
        // in it, slow on a loaded machine; closing it).
        XCTAssertGreaterThan(Double(spinning.count) / Double(max(inSub.count, 1)), 0.3, "\(t.name): sub_spin at its line")
        var holders: [UInt64: Int] = [:]
        for s in p.samples where s.holdsGIL == true { holders[s.timeNs, default: 0] += 1 }
        XCTAssertGreaterThanOrEqual(holders.values.max() ?? 0, 2, "\(t.name): one GIL per interpreter, held at once")
    }

    // MARK: - Helpers

    func record(_ command: [String]) throws -> Profile {
        let env = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
        let outcome = try Recorder(options: RecordOptions(rateHz: 100))
            .record(.launch(executable: command[0], arguments: command, environment: env))
        XCTAssertEqual(outcome.rootExit?.code, 0, "\(command)")
        return outcome.profile
    }

    /// The line of a fixture marked with `# MARKER`.
    func line(_ script: String, _ marker: String) throws -> Int {
        let text = try String(contentsOfFile: Fixtures.pythonScript(script), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return try XCTUnwrap(lines.firstIndex { $0.contains("# \(marker)") }) + 1
    }

    func frames(_ p: Profile, _ s: Sample) -> [Frame] { p.stacks[Int(s.stack)].frames.map { p.frames[Int($0)] } }

    func threads(_ p: Profile, named prefix: String) -> Set<Int32> {
        Set(p.threads.filter { $0.name.hasPrefix(prefix) }.map(\.tid))
    }

    func share(_ samples: [Sample], _ states: ThreadState...) -> Double {
        Double(samples.filter { states.contains($0.state) }.count) / Double(max(samples.count, 1))
    }
}
