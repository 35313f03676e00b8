import Foundation
import ForkcastModel
import ForkcastTestSupport
import XCTest
@testable import ForkcastAnalysis

/// Issue 11 on synthetic profiles shaped like the real recordings: idle is not work, roles,
/// `keep` / `undecided`, lock identity by caller, pthread mutex holders.
final class IdleRolesKeepTests: XCTestCase {
    typealias Step = SyntheticProfiles.Step
    static let libc = "/lib/x86_64-linux-gnu/libc.so.6"
    static func n(_ name: String, _ module: String = "/usr/sbin/server") -> Frame { SyntheticProfiles.native(name, module: module) }
    static func c(_ name: String) -> Frame { n(name, libc) }

    /// Gives the profile's processes a tree and command lines (the maker makes flat ones).
    static func tree(_ p: Profile, root: Int32, commands: [Int32: [String]]) -> Profile {
        var p = p
        p.recording.rootPid = root
        p.processes = p.processes.map { info in
            var info = info
            info.ppid = info.pid == root ? 1 : root
            info.origin = info.pid == root ? "attached" : "fork"
            info.command = commands[info.pid] ?? info.command
            return info
        }
        return p
    }

    /// A master in sigsuspend and two workers that serve requests from an event loop: 30% on
    /// CPU, 70% in epoll_wait on their epoll fd.
    static func eventServer(ticks: Int = 1000) -> Profile {
        let master: Step = (.other, [c("__sigsuspend"), n("master_cycle"), n("main"), c("__libc_start_main"), n("_start")],
                            WaitInfo(syscall: "rt_sigsuspend"), nil)
        let wait: Step = (.ioWait, [c("epoll_wait"), n("process_events"), n("worker_cycle"), n("spawn"), n("master_cycle"), n("main"),
                                    c("__libc_start_main"), n("_start")],
                          WaitInfo(syscall: "epoll_wait", fd: 9, fdKind: .epoll, target: "anon_inode:[eventpoll]"), nil)
        let work: Step = (.onCPU, [n("http_handler"), n("process_events"), n("worker_cycle"), n("spawn"), n("master_cycle"), n("main"),
                                   c("__libc_start_main"), n("_start")], nil, nil)
        let cycle = SyntheticProfiles.repeated(work, 3) + SyntheticProfiles.repeated(wait, 7)
        let p = SyntheticProfiles.make(threads: [
            .init(name: "server", pid: 300, tid: 300, cycle: [master]),
            .init(name: "server", pid: 301, tid: 301, cycle: cycle),
            .init(name: "server", pid: 302, tid: 302, cycle: Array(cycle.reversed())),
        ], ticks: ticks, command: ["server: master process"])
        return tree(p, root: 300, commands: [301: ["server: worker process"], 302: ["server: worker process"]])
    }

    func testEventLoopWaitsAreIdleAndTheServerIsKept() throws {
        let a = Analyzer.analyze(Self.eventServer())
        let master = try XCTUnwrap(a.processes.first { $0.pid == 300 })
        XCTAssertTrue(master.idle)
        XCTAssertTrue(master.idleReason?.contains("signal") ?? false, master.idleReason ?? "")
        XCTAssertEqual(master.role, .supervisor)
        let workers = a.processes.filter { $0.pid != 300 }
        XCTAssertEqual(workers.map(\.role), [.worker, .worker])
        XCTAssertFalse(workers.contains { $0.idle })
        // Working time only: the epoll waits are idle, not I/O.
        XCTAssertEqual(a.overall?.states.ioWait ?? 1, 0, accuracy: 1e-9)
        XCTAssertEqual(a.overall?.states.onCPU ?? 0, 1, accuracy: 1e-9)
        XCTAssertTrue(a.io.isEmpty, "\(a.io.map(\.callSite))")
        XCTAssertEqual(a.threads.first { $0.tid == 301 }?.idleShare ?? 0, 0.7, accuracy: 0.01)
        XCTAssertTrue(a.findings.contains { $0.id == "design.event-driven" })
        let r = try XCTUnwrap(a.recommendation)
        XCTAssertEqual(r.strategy, .keep, r.reasons.map(\.text).joined(separator: " | "))
        XCTAssertEqual(r.workers, 2)
    }

    /// The same server with nothing to do: undecided, mostly idle.
    /// zstd -T2 as recorded: one pool (same start routine, the process's name) of four
    /// threads — two compress (on CPU), two read and write the files (waiting for work 85%
    /// of the time) — and a main thread waiting on the pool. It already runs threads × 2:
    /// before, the I/O threads counted as workers (threads × 4 now), so the advice read
    /// "threads × 2" as if it were a change.
    func testHelperThreadsOfTheSamePoolDoNotCountAsWorkersSoZstdIsKept() throws {
        func n(_ name: String, _ module: String) -> Frame { Self.n(name, module) }
        func c(_ name: String) -> Frame { Self.c(name) }
        let wait: Step = (.lockWait, [c("__futex_abstimed_wait_common"), c("pthread_cond_wait"), n("POOL_thread", "/usr/bin/zstd"),
                                      c("start_thread"), c("clone3")], WaitInfo(syscall: "futex", futex: 0x5555_0000_2000), nil)
        let compress: Step = (.onCPU, [n("ZSTD_compressBlock_lazy2", "/usr/bin/zstd"), n("ZSTDMT_compressionJob", "/usr/bin/zstd"),
                                       n("POOL_thread", "/usr/bin/zstd"), c("start_thread"), c("clone3")], nil, nil)
        let read: Step = (.onCPU, [c("read"), n("AIO_IOPool_threadPoolEntry", "/usr/bin/zstd"), n("POOL_thread", "/usr/bin/zstd"),
                                   c("start_thread"), c("clone3")], nil, nil)
        let mainWait: Step = (.lockWait, [c("__futex_abstimed_wait_common"), c("pthread_cond_wait"), n("ZSTDMT_compressStream2", "/usr/bin/zstd"),
                                          n("main", "/usr/bin/zstd"), c("__libc_start_main"), n("_start", "/usr/bin/zstd")],
                              WaitInfo(syscall: "futex", futex: 0x5555_0000_3000), nil)
        let mainWork: Step = (.onCPU, [n("FIO_compressFilename", "/usr/bin/zstd"), n("main", "/usr/bin/zstd"), c("__libc_start_main"),
                                       n("_start", "/usr/bin/zstd")], nil, nil)
        let p = SyntheticProfiles.make(threads: [
            .init(name: "zstd", pid: 400, tid: 400, cycle: SyntheticProfiles.repeated(mainWork, 2) + SyntheticProfiles.repeated(mainWait, 8)),
            .init(name: "zstd", pid: 400, tid: 401, cycle: SyntheticProfiles.repeated(read, 3) + SyntheticProfiles.repeated(wait, 17)),
            .init(name: "zstd", pid: 400, tid: 402, cycle: SyntheticProfiles.repeated(read, 3) + SyntheticProfiles.repeated(wait, 17)),
            .init(name: "zstd", pid: 400, tid: 403, cycle: SyntheticProfiles.repeated(compress, 19) + [wait]),
            .init(name: "zstd", pid: 400, tid: 404, cycle: SyntheticProfiles.repeated(compress, 19) + [wait]),
        ], ticks: 1000, command: ["zstd", "-T2", "data.txt"])
        let a = Analyzer.analyze(p)
        XCTAssertEqual(a.threads.filter { $0.role == .worker }.count, 4, "the four pool threads are one family")
        let design = try XCTUnwrap(Recommender.currentDesign(a))
        XCTAssertEqual(design.strategy, .threads)
        XCTAssertEqual(design.workers, 2, "the reader and writer threads are not the workers")
        let r = try XCTUnwrap(a.recommendation)
        XCTAssertEqual(r.strategy, .keep, "\(r.strategy) × \(r.workers): \(r.reasons.map(\.text))")
        XCTAssertEqual(r.workers, 2)
        XCTAssertTrue(r.reasons.first?.text.contains("threads × 2") ?? false, "\(r.reasons.map(\.text))")
    }

    /// `python3 -m http.server` (ThreadingHTTPServer) attached under wrk: a thread per
    /// request, 542 threads in 4 s, about two alive at once, the work in send with the GIL
    /// released. Before: "threads × 2 workers (0.91)", a pool of two as if it were a change;
    /// it already runs threads, their count following the load. Now: keep, saying so.
    func testAThreadPerRequestServerIsKeptNotGivenAPoolOfTwo() throws {
        func n(_ name: String, _ module: String) -> Frame { Self.n(name, module) }
        func c(_ name: String) -> Frame { Self.c(name) }
        let py = "/usr/bin/python3.11"
        let send: Step = (.onCPU, [c("send"), n("sock_sendall", py), SyntheticProfiles.python("_SocketWriter.write", file: "/usr/lib/python3.11/socketserver.py", line: 834),
                                   SyntheticProfiles.python("SimpleHTTPRequestHandler.do_GET", file: "/usr/lib/python3.11/http/server.py", line: 671),
                                   n("thread_run", py), c("start_thread"), c("clone3")], nil, false)
        let accept: Step = (.onCPU, [n("sock_accept", py), SyntheticProfiles.python("TCPServer.get_request", file: "/usr/lib/python3.11/socketserver.py", line: 505),
                                     SyntheticProfiles.python("BaseServer.serve_forever", file: "/usr/lib/python3.11/socketserver.py", line: 233),
                                     n("Py_RunMain", py), c("__libc_start_main")], nil, true)
        let ticks = 400
        var p = SyntheticProfiles.make(threads: [.init(name: "MainThread", pid: 700, tid: 700, cycle: [accept]),
                                                 .init(name: "python3", pid: 700, tid: 701, cycle: [send])],
                                       ticks: ticks, command: ["/usr/bin/python3", "-m", "http.server"])
        // Thread 701 stands for the first request; the others each live 4 ticks, two at a time.
        let sendStack = try XCTUnwrap(p.samples.first { $0.tid == 701 }).stack
        p.samples.removeAll { $0.tid == 701 && $0.timeNs >= 4 * 10_000_000 }
        p.threads = p.threads.map { t in var t = t; if t.tid == 701 { t.endNs = 4 * 10_000_000 }; return t }
        for k in 1..<200 {
            let tid = Int32(701 + k), start = (k * 2) % (ticks - 4)
            p.threads.append(ThreadInfo(pid: 700, tid: tid, name: "python3", startNs: UInt64(start) * 10_000_000, endNs: UInt64(start + 4) * 10_000_000))
            for t in start..<(start + 4) {
                p.samples.append(Sample(timeNs: UInt64(t) * 10_000_000, pid: 700, tid: tid, stack: sendStack, state: .onCPU, wait: -1, holdsGIL: false))
            }
        }
        p.samples.sort { $0.timeNs < $1.timeNs }
        let a = Analyzer.analyze(p)
        let perTask = try XCTUnwrap(Recommender.threadPerTask(a))
        XCTAssertEqual(perTask.started, 201)
        XCTAssertEqual(perTask.atOnce, 3, "the main thread and two request threads")
        let r = try XCTUnwrap(a.recommendation)
        XCTAssertEqual(r.strategy, .keep, "\(r.strategy) × \(r.workers): \(r.reasons.map(\.text))")
        XCTAssertTrue(r.reasons.first?.text.contains("a thread per task") ?? false, "\(r.reasons.map(\.text))")
    }

    func testIdleServerIsUndecided() throws {
        var p = Self.eventServer(ticks: 500)
        // The workers saw no request: every sample is the epoll wait.
        let epoll = p.samples.first { $0.state == .ioWait }!
        p.samples = p.samples.map { s in
            var s = s
            if s.pid != 300 { s.state = .ioWait; s.stack = epoll.stack; s.wait = epoll.wait }
            return s
        }
        let a = Analyzer.analyze(p)
        XCTAssertTrue(a.processes.allSatisfy(\.idle), "\(a.processes.map { ($0.pid, $0.idle) })")
        XCTAssertTrue(a.threads.first { $0.tid == 301 }?.idleReason?.contains("event loop") ?? false)
        let r = try XCTUnwrap(a.recommendation)
        XCTAssertEqual(r.strategy, .undecided)
        XCTAssertLessThan(r.confidence, 0.35)
    }

    /// Issue 11's database: a postmaster in select, background helpers parked on their own
    /// latches, and four backends (8 connections' worth of work on 2 cores) that are
    /// runnable half the time and otherwise sleep on a semaphore of their own while
    /// waiting for the same WAL lock, or wait for the client.
    static func database(ticks: Int = 1000) -> Profile {
        let pm = "/usr/lib/postgresql/15/bin/postgres"
        func b(_ name: String) -> Frame { n(name, pm) }
        let root = [b("PostgresMain"), b("BackendRun"), b("ServerLoop"), b("PostmasterMain"), b("main"), c("__libc_start_main"), b("_start")]
        let postmaster: Step = (.ioWait, [c("select"), b("ServerLoop"), b("PostmasterMain"), b("main"), c("__libc_start_main"), b("_start")],
                                WaitInfo(syscall: "select"), nil)
        let walwriter: Step = (.ioWait, [c("epoll_wait"), b("WaitEventSetWait"), b("WaitLatch"), b("WalWriterMain"), b("AuxiliaryProcessMain"),
                                         b("main"), c("__libc_start_main"), b("_start")],
                               WaitInfo(syscall: "epoll_wait", fd: 5, fdKind: .epoll), nil)
        let run: Step = (.onCPU, [b("ExecUpdate")] + root, nil, nil)
        let starved: Step = (.runnable, [b("ExecUpdate")] + root, nil, nil)
        let client: Step = (.ioWait, [c("epoll_wait"), b("WaitEventSetWait"), b("secure_read"), b("pq_getbyte"), b("ReadCommand")] + root,
                            WaitInfo(syscall: "epoll_wait", fd: 4, fdKind: .epoll), nil)
        var threads: [SyntheticProfiles.ThreadScript] = [
            .init(name: "postgres", pid: 400, tid: 400, cycle: [postmaster]),
            .init(name: "postgres", pid: 401, tid: 401, cycle: [walwriter]),
        ]
        for i in 0..<4 {
            let pid = Int32(410 + i)
            // Each backend's own semaphore: a different futex address per process.
            let lock: Step = (.lockWait, [c("futex_wait"), c("do_futex_wait"), c("__new_sem_wait_slow64"), b("PGSemaphoreLock"),
                                          b("LWLockAcquire"), b("XLogFlush"), b("RecordTransactionCommit")] + root,
                              WaitInfo(syscall: "futex", futex: 0x7f00_0000_0000 + UInt64(i) * 0x40), nil)
            var cycle = SyntheticProfiles.repeated(run, 3) + SyntheticProfiles.repeated(starved, 4) + SyntheticProfiles.repeated(lock, 2) + [client]
            cycle = Array(cycle[(i * 2)...] + cycle[..<(i * 2)])
            threads.append(.init(name: "postgres", pid: pid, tid: pid, cycle: cycle))
        }
        let p = SyntheticProfiles.make(threads: threads, ticks: ticks, command: [pm, "-D", "/tmp/db"])
        var commands: [Int32: [String]] = [401: ["postgres: walwriter "]]
        for i in 0..<4 { commands[Int32(410 + i)] = ["postgres: postgres bench 127.0.0.1(\(50000 + i)) UPDATE"] }
        var t = tree(p, root: 400, commands: commands)
        t.processes = t.processes.map { var x = $0; x.executable = pm; return x }
        return t
    }

    func testDatabaseRolesLockByCallerAndKeep() throws {
        let a = Analyzer.analyze(Self.database())
        let roles = Dictionary(uniqueKeysWithValues: a.processes.map { ($0.pid, $0.role) })
        XCTAssertEqual(roles[400], .supervisor)
        XCTAssertEqual(roles[401], .helper)
        XCTAssertEqual((410...413).map { roles[Int32($0)] }, Array(repeating: .worker, count: 4))
        XCTAssertTrue(a.processes.first { $0.pid == 400 }?.idle ?? false)
        XCTAssertTrue(a.processes.first { $0.pid == 401 }?.idle ?? false)

        // One lock, four waiters in four processes, grouped by the caller.
        let hot = try XCTUnwrap(a.locks.first { !$0.idle })
        XCTAssertEqual(hot.grouping, "caller")
        XCTAssertEqual(hot.waiters, 4)
        XCTAssertEqual(hot.waiterPids, [410, 411, 412, 413])
        XCTAssertTrue(hot.lock.contains("LWLockAcquire ← XLogFlush"), hot.lock)
        XCTAssertEqual(a.locks.filter { !$0.idle }.count, 1, "\(a.locks.map(\.lock))")
        // 2 of the 9 working ticks of each backend (the client wait is idle).
        XCTAssertEqual(hot.waitShare, 2.0 / 9.0, accuracy: 0.02)

        let r = try XCTUnwrap(a.recommendation)
        XCTAssertEqual(r.strategy, .keep, r.reasons.map(\.text).joined(separator: " | "))
        XCTAssertEqual(r.reasons.first?.factor, .cpuStarvation, r.reasons.map(\.text).joined(separator: " | "))
        XCTAssertTrue(r.reasons.contains { $0.factor == .locks && $0.text.contains("XLogFlush") })
        XCTAssertFalse(r.reasons.contains { $0.text.hasPrefix("I/O-bound") }, "client waits are idle, not I/O work")
    }

    /// A pthread mutex whose owner the recorder read: the holder is that thread, with its stack.
    func testMutexOwnerNamesTheHolderAndItsStack() throws {
        var p = SyntheticProfiles.mutexContention(ticks: 200)
        // The waits' owner: the one thread sleeping (holding the lock) at that tick.
        var waits = p.waits
        var waitIndex: [Int32: Int32] = [:]
        var samples = p.samples
        var start = 0
        while start < samples.count {
            var end = start
            while end < samples.count && samples[end].timeNs == samples[start].timeNs { end += 1 }
            let holder = samples[start..<end].first { $0.state == .sleep }?.tid
            for i in start..<end where samples[i].state == .lockWait {
                guard let holder else { continue }
                if waitIndex[holder] == nil {
                    var w = waits[Int(samples[i].wait)]
                    w.owner = holder
                    waitIndex[holder] = Int32(waits.count)
                    waits.append(w)
                }
                samples[i].wait = waitIndex[holder]!
            }
            start = end
        }
        p.waits = waits
        p.samples = samples
        let a = Analyzer.analyze(p)
        let hot = try XCTUnwrap(a.locks.first)
        XCTAssertEqual(hot.holderEvidence, "mutex-owner")
        XCTAssertEqual(hot.holderShare ?? 0, 1, accuracy: 0.01)
        XCTAssertTrue(hot.holderStack?.contains("nanosleep") ?? false, "\(hot.holderStack ?? [])")
        XCTAssertEqual(hot.grouping, "futex-address")
    }

    /// Waiters each on their own futex but idle (parked for the whole recording, never
    /// running) are not merged into a "lock".
    func testIdleParkedThreadsAreNotALock() throws {
        let park: (Int) -> Step = { i in
            (.lockWait, [Self.c("futex_wait"), Self.n("park"), Self.n("pool_worker_loop"), Self.c("start_thread")],
             WaitInfo(syscall: "futex", futex: 0x1000 + UInt64(i) * 8), nil)
        }
        let work: Step = (.onCPU, [Self.n("compute"), Self.n("main"), Self.c("__libc_start_main")], nil, nil)
        let p = SyntheticProfiles.make(threads: [.init(name: "app", pid: 500, tid: 500, cycle: [work])]
                                       + (0..<3).map { .init(name: "pool", pid: 500, tid: 501 + Int32($0), cycle: [park($0)]) }, ticks: 400)
        let a = Analyzer.analyze(p)
        XCTAssertEqual(a.threads.filter(\.idle).count, 3, "\(a.threads.map { ($0.tid, $0.idle, $0.idleReason ?? "") })")
        XCTAssertTrue(a.threads.first { $0.tid == 501 }?.idleReason?.contains("same wait") ?? false)
        XCTAssertFalse(a.locks.contains { $0.grouping == "caller" })
        XCTAssertEqual(a.threads.first { $0.tid == 500 }?.role, .main)
    }

    /// A threads recording that advises processes says what it cannot see and caps its confidence.
    func testProcessesFromAThreadsRecordingIsCapped() throws {
        let a = Analyzer.analyze(SyntheticProfiles.pythonCPUThreads())
        let r = try XCTUnwrap(a.recommendation)
        XCTAssertEqual(r.strategy, .processes)
        XCTAssertLessThanOrEqual(r.confidence, 0.75)
        XCTAssertTrue(r.reasons.contains { $0.text.contains("forkcast experiment") })
    }

    /// CPU-bound Python threads on a free-threaded CPython without the GIL scale on threads:
    /// threads, where a GIL build would be advised processes.
    func testFreeThreadedPythonThreadsAdviseThreads() throws {
        var p = SyntheticProfiles.pythonCPUThreads()
        p.processes = p.processes.map { var x = $0; x.python = PythonRuntimeInfo(version: "3.13.5", freeThreaded: true, gilEnabled: false); return x }
        // No GIL: every thread runs (two on CPU, two runnable on 2 cores).
        let run = p.samples.first { $0.state == .onCPU }!.stack
        p.samples = p.samples.enumerated().map { i, s in
            var s = s
            s.state = i % 2 == 0 ? .onCPU : .runnable
            s.stack = run
            s.wait = -1
            s.holdsGIL = nil
            return s
        }
        let a = Analyzer.analyze(p)
        XCTAssertEqual(a.gil.first?.freeThreaded, true)
        let r = try XCTUnwrap(a.recommendation)
        XCTAssertEqual(r.strategy, .threads, r.reasons.map(\.text).joined(separator: " | "))
        XCTAssertTrue(r.reasons.first?.text.contains("Free-threaded") ?? false)
        // The same work on a GIL build: processes.
        var gil = p
        gil.processes = gil.processes.map { var x = $0; x.python = PythonRuntimeInfo(version: "3.13.5", freeThreaded: false, gilEnabled: true); return x }
        gil.samples = gil.samples.map { var s = $0; s.holdsGIL = s.state == .onCPU; return s }
        XCTAssertEqual(Analyzer.analyze(gil).recommendation?.strategy, .processes)
    }

    /// A threads recording of a GIL-bound pool: the task size read from the workers' queue
    /// traffic sets how sure "processes" can be (short tasks: a round trip each costs as much).
    func testTaskSizeFromQueueTrafficCapsProcessesConfidence() throws {
        func pool(every k: Int) -> Analysis {
            var p = SyntheticProfiles.pythonCPUThreads()
            let f0 = Int32(p.frames.count)
            p.frames += [Self.c("__futex_abstimed_wait_common"), Self.n("_queue_SimpleQueue_get", "/usr/bin/python3.11"),
                         SyntheticProfiles.python("_worker", file: "/usr/lib/python3.11/concurrent/futures/thread.py", line: 81)]
            let getStack = Int32(p.stacks.count)
            p.stacks.append(Stack(frames: [f0, f0 + 1, f0 + 2]))
            let wait = Int32(p.waits.count)
            p.waits.append(WaitInfo(syscall: "futex", futex: 0x7f00_0000_9000))
            var tickOfThread: [Int32: Int] = [:]
            p.samples = p.samples.map { s in
                var s = s
                let n = tickOfThread[s.tid, default: 0]
                tickOfThread[s.tid] = n + 1
                if n % k == 0 { s.state = .lockWait; s.stack = getStack; s.wait = wait; s.holdsGIL = false }
                return s
            }
            return Analyzer.analyze(p)
        }
        let short = pool(every: 2)
        let tasks = try XCTUnwrap(short.findings.first { $0.id == "pool.tasks" })
        XCTAssertEqual(tasks.metrics["task_seconds"] ?? 0, 0.01, accuracy: 0.002)
        XCTAssertEqual(short.recommendation?.strategy, .processes)
        XCTAssertLessThanOrEqual(short.recommendation?.confidence ?? 1, 0.5)
        XCTAssertTrue(short.recommendation?.reasons.contains { $0.text.contains("round trip per task can cost as much") } ?? false)

        let long = pool(every: 25)
        let longTasks = try XCTUnwrap(long.findings.first { $0.id == "pool.tasks" })
        XCTAssertEqual(longTasks.metrics["task_seconds"] ?? 0, 0.24, accuracy: 0.01)
        XCTAssertGreaterThan(long.recommendation?.confidence ?? 0, short.recommendation?.confidence ?? 1)
        // Workers that waited for work 4% of their time took most tasks from a full queue
        // unseen (python3 -m pkg.cf, a pre-filled ThreadPoolExecutor.map of 24 tasks, read as
        // "its 3 tasks did about 1.7 s of work each, long next to a round trip", cap 0.85):
        // the count is a lower bound, the size an upper one, and says nothing about a round trip.
        XCTAssertEqual(longTasks.metrics["tasks_lower_bound"], 1)
        XCTAssertTrue(longTasks.title.contains("at least") && longTasks.title.contains("at most"), longTasks.title)
        XCTAssertEqual(tasks.metrics["tasks_lower_bound"], 0, "workers waiting half their time show each task")
        let r = try XCTUnwrap(long.recommendation)
        XCTAssertLessThanOrEqual(r.confidence, 0.7)
        XCTAssertTrue(r.reasons.contains { $0.text.contains("at most 0.24 s of work each") }, "\(r.reasons.map(\.text))")
        XCTAssertFalse(r.reasons.contains { $0.text.contains("long next to a round trip") }, "\(r.reasons.map(\.text))")
    }
}

/// Python threads started with different targets keep a name each (`Thread-1 (spin_a)`,
/// or the program's own `worker-alpha`): they are still the program's workers, and four
/// of them fighting over the GIL are advised processes — not, as helpers left out of the
/// work, a sleeping main thread's "I/O-bound".
final class PythonThreadNameRolesTests: XCTestCase {
    /// pythonCPUThreads' four GIL-bound threads under the given names, and a main thread
    /// sleeping in time.sleep while they run (as cpu_threads.py does).
    func profile(names: [String]) -> Profile {
        typealias S = SyntheticProfiles
        let run = [S.python("spin", line: 5), S.python("run", file: "/usr/lib/python3.11/threading.py", line: 975)]
        let gil = [S.native("__futex_abstimed_wait_common", module: "/lib/libc.so.6"),
                   S.native("pthread_cond_timedwait", module: "/lib/libc.so.6"),
                   S.native("take_gil", module: "/usr/bin/python3.11")] + run
        var threads = names.enumerated().map { i, name in
            S.ThreadScript(name: name, pid: 200, tid: 201 + Int32(i), cycle: (0..<4).map { k in
                k == i ? (ThreadState.onCPU, run, nil, true)
                    : (ThreadState.gilWait, gil, WaitInfo(syscall: "futex", futex: 0x7f00_0000_0040), false)
            })
        }
        let sleep = [S.native("clock_nanosleep", module: "/lib/libc.so.6"), S.python("main", file: "/app/cpu_threads.py", line: 60)]
        threads.insert(S.ThreadScript(name: "MainThread", pid: 200, tid: 200,
                                      cycle: [(.sleep, sleep, WaitInfo(syscall: "clock_nanosleep"), false)]), at: 0)
        return S.make(threads: threads, ticks: 1000, command: ["python3", "cpu_threads.py"])
    }

    func check(_ names: [String]) throws {
        let a = Analyzer.analyze(profile(names: names))
        let workers = a.threads.filter { names.contains($0.name) }
        XCTAssertEqual(workers.map(\.role), Array(repeating: .worker, count: 4), "\(names)")
        let r = try XCTUnwrap(a.recommendation)
        XCTAssertEqual(r.strategy, .processes, r.reasons.map(\.text).joined(separator: " | "))
    }

    func testDefaultNamesWithTargets() throws {
        try check(["Thread-1 (spin_alpha)", "Thread-2 (spin_beta)", "Thread-3 (spin_gamma)", "Thread-4 (spin_delta)"])
    }

    func testOneFamilyOfProgramNames() throws {
        try check(["worker-spin_alpha", "worker-spin_beta", "worker-spin_gamma", "worker-spin_delta"])
    }
}

/// Recorded profiles of real programs kept as fixtures, where the recording decides the case
/// and a new run on a loaded machine might not show it again.
final class RecordedProfileTests: XCTestCase {
    /// `make -s -j2` of 16 generated C files on a loaded 2-core machine (load average 15),
    /// recorded with `forkcast record`: make waits in pselect on its jobserver pipe (91% of
    /// its samples, read as I/O work, not as idle), gcc drivers wait for cc1, cc1 and `as`
    /// do the work. Before: the compilers were helpers, so the workload was make's pselect,
    /// and the advice "threads × 32 (0.95): I/O-bound". Now: keep, processes × 2.
    func testMakeJ2RecordingIsKeptAsTwoProcessesNotIOBoundThreads() throws {
        let url = Fixtures.repositoryRoot.appendingPathComponent("Tests/Fixtures/profiles/make-j2-loaded.json.gz")
        let a = Analyzer.analyze(try Profile.decode(Data(contentsOf: url)))
        let cc1 = a.processes.filter { ($0.command.first ?? "").hasSuffix("/cc1") }
        XCTAssertFalse(cc1.isEmpty)
        XCTAssertTrue(cc1.allSatisfy { $0.role == .worker }, "the compilers are the work: \(cc1.map { $0.role?.rawValue ?? "" })")
        XCTAssertEqual(a.processes.first { $0.pid == a.profile?.rootPid }?.role, .supervisor)
        XCTAssertFalse(a.findings.contains { $0.id == "design.event-driven" })
        let r = try XCTUnwrap(a.recommendation)
        XCTAssertEqual(r.strategy, .keep, "\(r.strategy) × \(r.workers): \(r.reasons.map(\.text))")
        XCTAssertEqual(r.workers, 2)
        XCTAssertTrue(r.reasons.first?.text.contains("processes × 2") ?? false, "\(r.reasons.map(\.text))")
        XCTAssertTrue(r.reasons.contains { $0.factor == .taskType && $0.text.contains("other programs") }, "\(r.reasons.map(\.text))")
    }

    /// The same make -j2 recorded while other programs held one of the 2 cores (load
    /// average 3.5): the CPU starvation is the machine's, so no rule votes and the answer is
    /// keep without a vote. Its worker count was every worker process seen — 16 gcc drivers,
    /// their cc1 and as: `keep × 48` (RealToolsAnalysisTests failed in 2 of 5 runs under
    /// load). The workers running at a time are make's jobs two at a time.
    func testMakeJ2KeptWithoutAVoteCountsTheJobsAtATime() throws {
        let url = Fixtures.repositoryRoot.appendingPathComponent("Tests/Fixtures/profiles/make-j2-no-vote.json.gz")
        let a = Analyzer.analyze(try Profile.decode(Data(contentsOf: url)))
        XCTAssertEqual(a.processes.filter { $0.role == .worker }.count, 48)
        let r = try XCTUnwrap(a.recommendation)
        XCTAssertEqual(r.strategy, .keep, "\(r.strategy) × \(r.workers): \(r.reasons.map(\.text))")
        XCTAssertTrue(r.reasons.contains { $0.text.hasPrefix("No rule found evidence") }, "kept without a vote: \(r.reasons.map(\.text))")
        XCTAssertEqual(r.workers, 2, "make -j2 runs two jobs at a time: \(r.reasons.map(\.text))")
    }

    /// examples/net_io.py on threads × 8 on a quiet machine (11 KB recording): 8 pool
    /// threads wait 97% on a local thread-per-connection server (a child process). Client
    /// and server both barely used a CPU, and the server's 0.02 s were "half the CPU", so
    /// it stopped being a helper and its accept loop made the program "event-driven":
    /// keep 0.79 (the fresh-clone CI run failed on it). A helper must keep a fifth of a core
    /// busy to be the work. Now: threads, more of them.
    func testNetIOClientsLocalServerStaysAHelper() throws {
        let url = Fixtures.repositoryRoot.appendingPathComponent("Tests/Fixtures/profiles/net-io-threads8-quiet.json.gz")
        let profile = try Profile.decode(Data(contentsOf: url))
        let a = Analyzer.analyze(profile)
        let server = try XCTUnwrap(a.processes.first { $0.pid != profile.recording.rootPid })
        XCTAssertEqual(server.role, .helper, "the local server the client talks to")
        XCTAssertFalse(a.findings.contains { $0.id == "design.event-driven" })
        let r = try XCTUnwrap(a.recommendation)
        XCTAssertEqual(r.strategy, .threads, r.reasons.map(\.text).joined(separator: " | "))
        XCTAssertGreaterThan(r.workers, 8)
    }

    /// `git gc --aggressive` on a clone of this repository (10 KB recording): git gc waits
    /// for git repack, which reads a pipe from git pack-objects, whose two delta threads
    /// (named `git`, not grouped as a pool) did 5 s of the recording's 5.06 s of CPU. Before:
    /// pack-objects was a helper, so "Undecided: mostly idle — the workload's threads
    /// waited for work 99% of their time (888 working samples)"; made the work but counted
    /// as threads × 4, "threads × 2 workers (0.82)" — what it already runs. Now: keep ×2.
    func testGitGcPackObjectsIsTheWorkAndItsTwoThreadsAreKept() throws {
        let url = Fixtures.repositoryRoot.appendingPathComponent("Tests/Fixtures/profiles/git-gc-aggressive.json.gz")
        let a = Analyzer.analyze(try Profile.decode(Data(contentsOf: url)))
        let pack = try XCTUnwrap(a.processes.first { $0.command.contains { $0 == "pack-objects" } })
        XCTAssertNotEqual(pack.role, .helper, "the process doing 5 s of the CPU is the work")
        let r = try XCTUnwrap(a.recommendation)
        XCTAssertEqual(r.strategy, .keep, "\(r.strategy) × \(r.workers): \(r.reasons.map(\.text))")
        XCTAssertEqual(r.workers, 2)
        XCTAssertTrue(r.reasons.first?.text.contains("threads × 2") ?? false, "\(r.reasons.map(\.text))")
    }

    /// zstd -T2 -6 on 40 MB on a near-idle machine (load 3; 3.5 KB recording): the stripped
    /// binary's five threads all read as one pool; the two compressing threads ran 90-97%,
    /// the main thread (reading and dispatching) 41%, the reader and writer threads 6%.
    /// Before: with a third of the busiest as the bar, main counted, threads × 3, so
    /// "threads × 2 workers (0.47)" — the design zstd has. Now: keep × 2.
    func testZstdT2OnAnIdleMachineIsKept() throws {
        let url = Fixtures.repositoryRoot.appendingPathComponent("Tests/Fixtures/profiles/zstd-T2-idle-machine.json.gz")
        let a = Analyzer.analyze(try Profile.decode(Data(contentsOf: url)))
        let r = try XCTUnwrap(a.recommendation)
        XCTAssertEqual(r.strategy, .keep, "\(r.strategy) × \(r.workers): \(r.reasons.map(\.text))")
        XCTAssertEqual(r.workers, 2)
    }
}
