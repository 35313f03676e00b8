import ForkcastModel
import ForkcastTestSupport
import Foundation
import XCTest

/// Real servers from Debian's packages, each under its own load generator, attached to
/// with `forkcast record --pid` while the load runs, then analyzed with `forkcast analyze
/// --json`. Four designs: nginx (a master and worker processes, event loops), redis (one
/// event loop and background threads), memcached (worker threads with event loops),
/// PostgreSQL (a postmaster, background processes and one backend per client).
///
/// What must hold for each (issue 11): no `threads`/`processes`/`hybrid` advice at
/// confidence ≥ 0.5 (none of these is limited by its concurrency model on 2 cores), idle
/// processes labelled idle with a reason, roles (supervisor, workers, helpers), and the
/// contention point, where there is one, named as one lock with its waiters.
///
/// The servers come from `RealServers` (Tests/ForkcastTestSupport): each test skips with
/// its message when the server or its load generator is not installed (`scripts/setup.sh
/// --test` installs them). Every process started here is bounded in time and stopped at
/// the end.
final class RealServerAnalysisTests: XCTestCase {
    // MARK: helpers

    /// A background process, stopped (SIGTERM, then SIGKILL) when the test ends.
    final class Background {
        let program: BackgroundProgram
        let name: String
        init(_ executable: String, _ arguments: [String], name: String, log: URL) throws {
            self.name = name
            program = try BackgroundProgram([executable] + arguments, stdout: .file(log.path), stderr: .stdout)
        }
        var pid: Int32 { program.pid }
        func stop() {
            guard program.isRunning else { return }
            program.signal(SIGTERM)
            waitUntil(10) { !program.isRunning }
            program.stop()
        }
    }

    var started: [Background] = []
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = Fixtures.scratch.appendingPathComponent("servers-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDown() {
        for b in started.reversed() { b.stop() }
        started = []
    }

    /// Starts a load generator, a little below the server's priority, so the server and the
    /// recorder are not starved by it on a busy 2-core machine.
    @discardableResult
    func load(_ executable: String, _ arguments: [String], name: String) throws -> Background {
        try start("/usr/bin/nice", ["-n", "3", executable] + arguments, name: name)
    }

    @discardableResult
    func start(_ executable: String, _ arguments: [String], name: String) throws -> Background {
        let b = try Background(executable, arguments, name: name, log: scratch.appendingPathComponent("\(name).log"))
        started.append(b)
        return b
    }

    /// Attaches to `pid` for `seconds`, then analyzes the profile.
    func recordAndAnalyze(pid: Int32, seconds: Int = 3, name: String) throws -> (Profile, Analysis) {
        let out = scratch.appendingPathComponent("\(name).profile.json.gz").path
        let rec = try CLI.run(["record", "-q", "--pid", String(pid), "--duration", String(seconds), "-o", out])
        XCTAssertEqual(rec.status, 0, "record failed: \(rec.stderr)")
        let json = try CLI.run(["analyze", "--json", out])
        XCTAssertEqual(json.status, 0, "analyze failed: \(json.stderr)")
        let profile = try Profile.decode(Data(contentsOf: URL(fileURLWithPath: out)))
        let analysis = try Analysis.decode(Data(json.stdout.utf8))
        let schema = Fixtures.repositoryRoot.appendingPathComponent("docs/analysis.schema.json")
        if case .checked(let problems) = try JSONSchemaCheck.validate([Data(json.stdout.utf8)], schema: schema), let problem = problems.first ?? nil {
            XCTFail("analysis of \(name) does not match docs/analysis.schema.json: \(problem)")
        }
        let r = analysis.recommendation
        // One line per server for the calibration table (docs/analysis.md).
        print("CALIBRATION \(name): \(r?.strategy.rawValue ?? "none") confidence \(r?.confidence ?? 0) — "
              + (r?.reasons.first?.text.prefix(160) ?? ""))
        return (profile, analysis)
    }

    /// The checks every server must pass.
    func assertServerAdvice(_ a: Analysis, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let r = a.recommendation else { return XCTFail("\(name): no recommendation", file: file, line: line) }
        if [.threads, .processes, .hybrid].contains(r.strategy) {
            XCTAssertLessThan(r.confidence, 0.5, "\(name): confident \(r.strategy.rawValue) advice: \(r.reasons.map(\.text))", file: file, line: line)
        }
        for p in a.processes where p.idle {
            XCTAssertNotNil(p.idleReason, "\(name): idle process \(p.pid) without a reason", file: file, line: line)
        }
        for t in a.threads where t.idle {
            XCTAssertNotNil(t.idleReason, "\(name): idle thread \(t.tid) without a reason", file: file, line: line)
        }
        // The contention point, where there is one, is one lock with its waiters: no two
        // single-waiter futex "locks" taken from the same place.
        let single = a.locks.filter { !$0.idle && $0.waiters == 1 && $0.kind == "futex" && $0.waitShare >= 0.02 }
        let sites = Dictionary(grouping: single, by: { $0.topStacks.first?.suffix(4).joined(separator: ";") ?? "" })
        for (site, locks) in sites where locks.count >= 2 && !site.isEmpty {
            XCTFail("\(name): \(locks.count) one-waiter locks at the same site, not grouped: \(locks.map(\.lock))", file: file, line: line)
        }
    }

    // MARK: servers

    func server(_ make: () throws -> RealServers.Server) throws -> RealServers.Server {
        do {
            return try make()
        } catch let e as RealServers.Unavailable {
            throw XCTSkip(e.description)
        }
    }

    /// nginx: a master and two worker processes (event loops) under wrk.
    func testNginxWorkerProcessesUnderWrk() throws {
        let nginx = try server { try RealServers.nginx(workers: 2) }
        defer { nginx.stop() }
        let load = try nginx.load(seconds: 8)
        defer { load.wait() }
        sleep(1)
        let (_, a) = try recordAndAnalyze(pid: nginx.mainPID, name: "nginx")
        assertServerAdvice(a, "nginx")
        let master = try XCTUnwrap(a.processes.first { $0.pid == nginx.mainPID })
        XCTAssertEqual(master.role, .supervisor, "nginx master: \(master)")
        XCTAssertTrue(master.idle, "the master only waits for signals: \(master.states)")
        let workers = a.processes.filter { $0.ppid == nginx.mainPID }
        XCTAssertEqual(workers.count, 2)
        XCTAssertTrue(workers.allSatisfy { $0.role == .worker }, "\(workers.map { ($0.command, $0.role as Any) })")
        XCTAssertTrue(a.findings.contains { $0.id == "design.event-driven" }, "workers wait in epoll: \(a.findings.map(\.id))")
    }

    /// redis-server: one event loop plus background (bio) threads, under redis-benchmark.
    func testRedisUnderRedisBenchmark() throws {
        let redis = try server { try RealServers.redis() }
        defer { redis.stop() }
        let load = try redis.load(seconds: 8)
        defer { load.wait() }
        sleep(1)
        let (_, a) = try recordAndAnalyze(pid: redis.mainPID, name: "redis")
        assertServerAdvice(a, "redis")
        let main = try XCTUnwrap(a.threads.first { $0.tid == redis.mainPID })
        XCTAssertFalse(main.idle, "the event loop serves the benchmark")
        // On a saturated machine the samples can miss the loop's work (observer bias): the
        // kernel's accounting is what decides, so it must be there.
        let measured = try XCTUnwrap(main.measured, "the recorder writes the kernel's CPU accounting")
        XCTAssertGreaterThanOrEqual(measured.running, 0.1, "the kernel saw the event loop run")
        let background = a.threads.filter { $0.tid != redis.mainPID }
        XCTAssertFalse(background.isEmpty)
        XCTAssertTrue(background.allSatisfy { $0.idle && $0.role != .worker },
                      "bio threads wait for jobs: \(background.map { ($0.name, $0.idle, $0.role as Any) })")
        XCTAssertTrue(a.findings.contains { $0.id == "design.event-driven" })
    }

    /// memcached: four worker threads (each an event loop) and helpers, under memaslap.
    func testMemcachedWorkerThreadsUnderMemaslap() throws {
        let mc = try server { try RealServers.memcached(threads: 4) }
        defer { mc.stop() }
        let load = try mc.load(seconds: 8)
        defer { load.wait() }
        sleep(1)
        let (_, a) = try recordAndAnalyze(pid: mc.mainPID, name: "memcached")
        assertServerAdvice(a, "memcached")
        let workers = a.threads.filter { $0.role == .worker }
        XCTAssertGreaterThanOrEqual(workers.count, 4, "\(a.threads.map { ($0.tid, $0.name, $0.role as Any, $0.idle) })")
        XCTAssertTrue(a.threads.contains { $0.idle }, "helper threads (LRU crawler, maintainer, hash expander) wait")
        // pthread mutexes whose holder was read from the mutex word name a live thread.
        for l in a.locks where l.holderEvidence == "mutex-owner" {
            XCTAssertNotNil(l.holder)
            XCTAssertNotNil(l.holderStack, "\(l.lock): holder stack")
        }
    }

    /// PostgreSQL: a postmaster, background processes and eight backends under pgbench on 2
    /// cores — the recording of issue 11. Backends queue on a few locks each through a
    /// semaphore or latch of their own: those waits must not come out as one-waiter locks.
    func testPostgresUnderPgbench() throws {
        let pg = try server { try RealServers.postgres() }
        defer { pg.stop() }
        // Eight clients (RealServers' own load runs two): more busy connections than cores.
        try load("/usr/lib/postgresql/15/bin/pgbench", ["-h", "127.0.0.1", "-p", "\(pg.port)", "-U", "postgres", "-c", "8", "-j", "2",
                                                       "-T", "10", "postgres"], name: "pgbench")
        sleep(2)
        let (_, a) = try recordAndAnalyze(pid: pg.mainPID, seconds: 5, name: "postgres")
        assertServerAdvice(a, "postgres")
        let root = try XCTUnwrap(a.processes.first { $0.pid == pg.mainPID })
        XCTAssertEqual(root.role, .supervisor)
        let backends = a.processes.filter { $0.role == .worker }
        XCTAssertGreaterThanOrEqual(backends.count, 6, "\(a.processes.map { ($0.pid, $0.command.first ?? "", $0.role as Any, $0.idle) })")
        XCTAssertTrue(a.processes.contains { $0.idle && $0.role == .helper }, "idle background processes")
        let perWaiter = a.locks.filter { !$0.idle && $0.grouping == "caller" }
        if let hot = perWaiter.first {
            XCTAssertGreaterThanOrEqual(hot.waiters, 2)
            XCTAssertGreaterThanOrEqual(hot.waiterPids?.count ?? 0, 2)
        }
    }
}
