import ForkcastModel
import ForkcastTestSupport
import XCTest
@testable import ForkcastAnalysis

/// Every analyzer and the recommender on synthetic profiles built to show one thing each.
final class AnalyzerTests: XCTestCase {
    func testMutexContentionFindsHotLockWithHolderAndSaysFixFirst() throws {
        let a = Analyzer.analyze(SyntheticProfiles.mutexContention())
        let lock = try XCTUnwrap(a.locks.first)
        XCTAssertEqual(lock.kind, "pthread-mutex")
        XCTAssertEqual(lock.lock, "futex:0x555500001000")
        XCTAssertFalse(lock.idle)
        XCTAssertEqual(lock.waiters, 4)
        XCTAssertEqual(lock.waitSeconds, 28, accuracy: 0.5) // 4 threads × 1000 ticks × 70% × 10 ms
        XCTAssertEqual(lock.waitShare, 0.70, accuracy: 0.05)
        XCTAssertEqual(lock.site, "worker")
        // Waiters' stack, outermost first.
        XCTAssertEqual(lock.topStacks.first?.first, "start_thread")
        XCTAssertEqual(lock.topStacks.first?.last, "__futex_abstimed_wait_common")
        // A holder in the same critical section (sleeping inside worker) at every contended tick.
        XCTAssertNotNil(lock.holder)
        XCTAssertEqual(lock.holderEvidence, "same-site")
        XCTAssertEqual(lock.holderShare ?? 0, 1, accuracy: 0.01)
        XCTAssertTrue(a.findings.contains { $0.id == "lock.hot" && $0.severity == .critical })

        let r = try XCTUnwrap(a.recommendation)
        let fix = try XCTUnwrap(r.fixFirst)
        XCTAssertTrue(fix.text.hasPrefix("Fix this lock first"))
        XCTAssertTrue(fix.text.contains("futex:0x555500001000"))
        XCTAssertEqual(fix.stack?.first, "start_thread")
        XCTAssertEqual(r.strategy, .serial)
        XCTAssertEqual(r.workers, 1)
    }

    /// A thread blocked in queue.SimpleQueue.get waits for work, even when the Python
    /// code calling it is not the standard library's (an executor's feeder thread).
    func testSimpleQueueGetFromUserCodeIsIdleNotAHotLock() throws {
        let feeder = [SyntheticProfiles.native("__futex_abstimed_wait_common", module: "/lib/libc.so.6"),
                      SyntheticProfiles.native("PyThread_acquire_lock_timed", module: "/usr/bin/python3.11"),
                      SyntheticProfiles.native("_queue_SimpleQueue_get_impl", module: "/usr/bin/python3.11"),
                      SyntheticProfiles.python("HybridExecutor._feed", file: "/tmp/hook/forkcast_swap.py", line: 157),
                      SyntheticProfiles.python("Thread.run", file: "/usr/lib/python3.11/threading.py", line: 975)]
        let wait = WaitInfo(syscall: "futex", futex: 0x7f00_0000_2000)
        let thread = SyntheticProfiles.ThreadScript(name: "feeder", pid: 300, tid: 301, cycle: [(.lockWait, feeder, wait, false)])
        let a = Analyzer.analyze(SyntheticProfiles.make(threads: [thread], ticks: 200, command: ["python3", "app.py"]))
        let lock = try XCTUnwrap(a.locks.first)
        XCTAssertTrue(lock.idle, "\(lock.kind) \(lock.lock)")
        XCTAssertNil(a.recommendation?.fixFirst)
        XCTAssertFalse(a.findings.contains { $0.id == "lock.hot" })
    }

    func testPythonCPUThreadsRecommendProcesses() throws {
        let a = Analyzer.analyze(SyntheticProfiles.pythonCPUThreads())
        let gil = try XCTUnwrap(a.gil.first)
        XCTAssertEqual(gil.heldShare, 1, accuracy: 0.01)
        XCTAssertEqual(gil.heldEvidence, "flag")
        XCTAssertEqual(gil.waitShare, 0.75, accuracy: 0.05)
        XCTAssertEqual(a.locks.first?.kind, "gil")
        XCTAssertNotNil(a.locks.first?.holder, "the GIL holder comes from holdsGIL")
        XCTAssertEqual(a.locks.first?.holderEvidence, "gil-flag")
        XCTAssertTrue(a.findings.contains { $0.id == "gil.contention" })
        let r = try XCTUnwrap(a.recommendation)
        XCTAssertEqual(r.strategy, .processes)
        XCTAssertEqual(r.workers, 2)
        XCTAssertNil(r.fixFirst, "the GIL is not a lock to fix")
        XCTAssertEqual(r.reasons.first?.factor, .gil)
        XCTAssertGreaterThan(r.confidence, 0.5)
    }

    func testSerialPythonInfersGILHeldFromFrames() throws {
        let a = Analyzer.analyze(SyntheticProfiles.serialPythonCPU())
        let gil = try XCTUnwrap(a.gil.first)
        XCTAssertEqual(gil.heldEvidence, "interpreter-frames")
        XCTAssertEqual(gil.heldShare, 1, accuracy: 0.01)
        XCTAssertEqual(a.recommendation?.strategy, .processes)
    }

    func testGILReleasingWorkRecommendsThreads() throws {
        for flag in [true, false] {
            let a = Analyzer.analyze(SyntheticProfiles.gilReleasingThreads(flag: flag))
            let gil = try XCTUnwrap(a.gil.first)
            XCTAssertEqual(gil.heldShare, 0.1, accuracy: 0.05, "flag \(flag)")
            XCTAssertEqual(gil.releasedStack.last, "sha256_block_data_order_avx2")
            XCTAssertEqual(a.overall?.parallelism ?? 0, 2, accuracy: 0.01)
            let r = try XCTUnwrap(a.recommendation)
            // Two threads already run it on two cores: the evidence favours threads, which is
            // the design it has — keep, saying so.
            XCTAssertEqual(r.strategy, .keep, "flag \(flag)")
            XCTAssertEqual(r.workers, 2)
            XCTAssertTrue(r.reasons.first?.text.contains("threads × 2") ?? false, "\(r.reasons.map(\.text))")
            XCTAssertTrue(r.reasons.contains { $0.factor == .gil }, "the GIL evidence stays among the reasons")
            // The main thread waiting on future.result() is idle, not a hot lock.
            XCTAssertTrue(a.locks.allSatisfy(\.idle))
            XCTAssertEqual(a.locks.first?.kind, "future-wait")
            XCTAssertNil(r.fixFirst)
        }
    }

    func testSocketIOGroupsByCallSiteAndRecommendsManyThreads() throws {
        let a = Analyzer.analyze(SyntheticProfiles.socketIO())
        let io = try XCTUnwrap(a.io.first)
        XCTAssertEqual(io.kind, .socket)
        XCTAssertEqual(io.callSite, "app/net_io.py:30 fetch")
        XCTAssertEqual(io.targets, ["127.0.0.1:8765"])
        XCTAssertEqual(io.threads, 4)
        XCTAssertEqual(io.syscalls, ["recvfrom"])
        XCTAssertEqual(io.waitSeconds, 36, accuracy: 0.5) // 4 × 1000 × 90% × 10 ms
        XCTAssertTrue(a.findings.contains { $0.id == "io.bound" })
        let r = try XCTUnwrap(a.recommendation)
        XCTAssertEqual(r.strategy, .threads)
        XCTAssertGreaterThan(r.workers, 4, "I/O-bound work wants more threads than cores")
        XCTAssertTrue(r.reasons.first?.text.contains("127.0.0.1:8765") ?? false)
        XCTAssertEqual(r.reasons.first?.factor, .taskType)
    }

    func testPythonHotLockSaysFixFirstWithTheLine() throws {
        let a = Analyzer.analyze(SyntheticProfiles.pythonHotLock())
        let lock = try XCTUnwrap(a.locks.first)
        XCTAssertEqual(lock.kind, "python-lock")
        XCTAssertEqual(lock.lock, "python:app/hot_lock.py:18 update")
        XCTAssertEqual(lock.waitShare, 0.75, accuracy: 0.05)
        XCTAssertEqual(lock.waiters, 4)
        XCTAssertNotNil(lock.holder)
        let r = try XCTUnwrap(a.recommendation)
        XCTAssertNotNil(r.fixFirst)
        XCTAssertTrue(r.fixFirst?.text.contains("hot_lock.py:18") ?? false)
        XCTAssertEqual(r.strategy, .serial)
    }

    func testHeavyIPCMeasuresPicklingAndRecommendsThreads() throws {
        let a = Analyzer.analyze(SyntheticProfiles.heavyIPC())
        let mp = try XCTUnwrap(a.multiprocessing)
        XCTAssertEqual(mp.processes, 3)
        XCTAssertEqual(mp.workerProcesses, 2)
        XCTAssertEqual(mp.pickleSeconds, 5, accuracy: 0.2) // feeder: 50% of 10 s
        XCTAssertEqual(mp.unpickleSeconds, 6, accuracy: 0.2) // 2 workers × 30% × 10 s
        XCTAssertEqual(mp.ipcCPUSeconds, 8, accuracy: 0.2) // 2 workers × 40% × 10 s
        XCTAssertEqual(mp.pipeWriteWaitSeconds, 5, accuracy: 0.2)
        XCTAssertGreaterThan(mp.serializationShare, 0.7)
        XCTAssertTrue(a.findings.contains { $0.id == "ipc.serialization" })
        let r = try XCTUnwrap(a.recommendation)
        XCTAssertEqual(r.strategy, .threads)
        XCTAssertEqual(r.reasons.first?.factor, .ipc)
    }

    func testTinyTasksMeasureStartupAndRecommendSerial() throws {
        let a = Analyzer.analyze(SyntheticProfiles.tinyTasks())
        let mp = try XCTUnwrap(a.multiprocessing)
        XCTAssertEqual(mp.workerProcesses, 2)
        // Workers boot for the first 200 ticks (2 s), then work 10% of the time.
        for s in mp.startupByProcess {
            XCTAssertTrue(s.reachedUserCode)
            XCTAssertEqual(s.seconds, 2.0, accuracy: 0.15)
        }
        XCTAssertEqual(mp.startupSeconds, 4, accuracy: 0.3)
        XCTAssertLessThan(mp.workerBusyShare, 0.15)
        let r = try XCTUnwrap(a.recommendation)
        XCTAssertEqual(r.strategy, .serial)
        XCTAssertEqual(r.reasons.first?.factor, .startup)
    }

    func testMixedCPUAndIORecommendsHybrid() throws {
        let a = Analyzer.analyze(SyntheticProfiles.mixedCPUAndIO())
        let r = try XCTUnwrap(a.recommendation)
        XCTAssertEqual(r.strategy, .hybrid)
        XCTAssertEqual(r.reasons.first?.factor, .gil)
    }

    /// Nothing recorded: nothing to advise (issue 11: too few working samples → undecided).
    func testEmptyProfileIsUndecided() throws {
        let p = SyntheticProfiles.make(threads: [], ticks: 0)
        let a = Analyzer.analyze(p)
        XCTAssertEqual(a.threads.count, 0)
        XCTAssertEqual(a.recommendation?.strategy, .undecided)
        XCTAssertTrue(a.recommendation?.reasons.first?.text.contains("too few working samples") ?? false)
        XCTAssertLessThanOrEqual(a.recommendation?.confidence ?? 1, 0.3)
        XCTAssertTrue(a.errors.isEmpty)
    }

    func testFailingPluginIsReportedAndOthersRun() throws {
        struct Broken: AnalyzerPlugin {
            struct Boom: Error, CustomStringConvertible { var description: String { "boom" } }
            var descriptor: PluginDescriptor { PluginDescriptor(name: "broken", kind: .analyzer, version: "0", summary: "fails") }
            func analyze(_ profile: Profile, into analysis: inout Analysis) throws { throw Boom() }
        }
        let a = Analyzer.analyze(SyntheticProfiles.mutexContention(), analyzers: [Broken()] + Analyzer.builtinAnalyzers())
        XCTAssertEqual(a.errors, ["analyzer broken: boom"])
        XCTAssertFalse(a.locks.isEmpty)
    }

    func testAnalyzerAloneComputesBreakdownItNeeds() throws {
        var a = Analysis()
        try LockContentionAnalyzer().analyze(SyntheticProfiles.mutexContention(), into: &a)
        XCTAssertEqual(a.locks.first?.waitShare ?? 0, 0.7, accuracy: 0.05)
    }

    func testRecommenderWeighsVotes() {
        var a = Analysis()
        a.profile = ProfileSummary(command: [], durationSeconds: 10, rateHz: 100, cores: 4, samples: 1000, ticks: 1000,
                                   periodSeconds: 0.01, processes: 1, threads: 1, truncatedShare: 0, notes: [])
        let advice = [
            Advice(rule: "a", strategy: .threads, weight: 0.6, workers: 8, reason: Reason(factor: .taskType, text: "t")),
            Advice(rule: "b", strategy: .processes, weight: 0.3, workers: 4, reason: Reason(factor: .gil, text: "p")),
            Advice(rule: "c", strategy: nil, weight: 0, workers: 4, reason: Reason(factor: .cpuStarvation, text: "s")),
        ]
        let r = Recommender.weigh(advice, analysis: a)
        XCTAssertEqual(r.strategy, .threads)
        XCTAssertEqual(r.workers, 4, "starvation caps CPU-bound workers at the cores")
        XCTAssertEqual(r.reasons.map(\.text), ["t", "s", "Against (processes): p"])
        XCTAssertGreaterThan(r.confidence, 0.4)
        XCTAssertLessThan(r.confidence, 0.8)
    }
}

final class MeasuredRuleTests: XCTestCase {
    func summary(_ strategy: String, _ workers: Int, _ median: Double, spread: Double) -> ConfigurationSummary {
        ConfigurationSummary(strategy: strategy, workers: workers, medianWallSeconds: median, ciLowSeconds: median - spread,
                             ciHighSeconds: median + spread, speedup: 2.0 / median, cpuSeconds: 1, peakRSSBytes: 0)
    }

    /// A clear measurement outweighs the profile's GIL-based guess.
    func testClearMeasurementWins() throws {
        let experiment = ExperimentResult(summary: [summary("serial", 1, 2.0, spread: 0.05), summary("threads", 2, 1.1, spread: 0.05),
                                                    summary("processes", 2, 1.6, spread: 0.05)])
        let a = Analyzer.analyze(SyntheticProfiles.pythonCPUThreads(), experiment: experiment)
        let r = try XCTUnwrap(a.recommendation)
        XCTAssertEqual(r.strategy, .threads)
        XCTAssertEqual(r.reasons.first?.factor, .measured)
        XCTAssertTrue(r.reasons.contains { $0.text.hasPrefix("Against (processes)") })
    }

    /// Overlapping intervals only nudge: the profile's evidence still decides.
    func testOverlappingMeasurementOnlyNudges() throws {
        let experiment = ExperimentResult(summary: [summary("threads", 2, 1.50, spread: 0.3), summary("processes", 2, 1.55, spread: 0.3)])
        let a = Analyzer.analyze(SyntheticProfiles.pythonCPUThreads(), experiment: experiment)
        XCTAssertEqual(a.recommendation?.strategy, .processes)
    }
}

final class PythonOnlyStackTests: XCTestCase {
    /// A Python sampler may record Python frames only: a lock wait is then placed at the
    /// innermost Python line, and a future wait is still idle.
    func testPythonOnlyStacksClassify() throws {
        let lockWait = [SyntheticProfiles.python("update", file: "/app/hot_lock.py", line: 18),
                        SyntheticProfiles.python("run", file: "/usr/lib/python3.11/threading.py", line: 975)]
        let futureWait = [SyntheticProfiles.python("wait", file: "/usr/lib/python3.11/threading.py", line: 320),
                          SyntheticProfiles.python("result", file: "/usr/lib/python3.11/concurrent/futures/_base.py", line: 451),
                          SyntheticProfiles.python("main", file: "/app/hot_lock.py", line: 40)]
        let futex = WaitInfo(syscall: "futex", futex: 0x1000)
        let threads = [SyntheticProfiles.ThreadScript(name: "MainThread", pid: 1, tid: 1, cycle: [(.lockWait, futureWait, futex, false)])]
            + (0..<3).map { i in
                SyntheticProfiles.ThreadScript(name: "T\(i)", pid: 1, tid: 2 + Int32(i), cycle: (0..<3).map { k in
                    k == i ? (.sleep, lockWait, WaitInfo(syscall: "clock_nanosleep"), false) : (.lockWait, lockWait, WaitInfo(syscall: "futex", futex: 0x2000), false)
                })
            }
        let a = Analyzer.analyze(SyntheticProfiles.make(threads: threads, ticks: 300))
        let hot = try XCTUnwrap(a.locks.first)
        XCTAssertEqual(hot.kind, "python-lock")
        XCTAssertEqual(hot.lock, "python:app/hot_lock.py:18 update")
        XCTAssertTrue(a.locks.contains { $0.kind == "future-wait" && $0.idle })
        XCTAssertNotNil(a.recommendation?.fixFirst)
    }
}

final class QualifiedNameTests: XCTestCase {
    /// CPython 3.11 reports qualified names (`Condition.wait`, `Future.result`): a main thread
    /// waiting on a future is still idle.
    func testQualifiedNamesClassify() throws {
        let stack = [SyntheticProfiles.native("__futex_abstimed_wait_common", module: "/lib/libc.so.6"),
                     SyntheticProfiles.native("PyThread_acquire_lock_timed", module: "/usr/lib/libpython3.11.so"),
                     SyntheticProfiles.python("Condition.wait", file: "/usr/lib/python3.11/threading.py", line: 327),
                     SyntheticProfiles.python("Future.result", file: "/usr/lib/python3.11/concurrent/futures/_base.py", line: 451),
                     SyntheticProfiles.python("main", file: "/app/x.py", line: 9)]
        let p = SyntheticProfiles.make(threads: [SyntheticProfiles.ThreadScript(
            name: "MainThread", pid: 1, tid: 1, cycle: [(.lockWait, stack, WaitInfo(syscall: "futex", futex: 0x10), false)])], ticks: 10)
        let a = Analyzer.analyze(p)
        XCTAssertEqual(a.locks.first?.kind, "future-wait")
        XCTAssertEqual(a.threads.first?.idleShare ?? 0, 1, accuracy: 1e-9)
    }
}

extension AnalyzerTests {
    /// A Python program's child interpreter (a helper server started with subprocess) is
    /// not a process pool because its start-up imports copyreg, pickle or
    /// multiprocessing.connection: a module's top-level code is its import, not pickling.
    /// (examples/mixed.py was advised `serial, 0.95` — "Tasks too small for processes: 1
    /// worker" — from the import samples of its slow_server child.)
    func testImportsInAChildInterpreterAreNotPoolTraffic() throws {
        typealias Step = SyntheticProfiles.Step
        let py = "/usr/lib/python3.11"
        let importing: Step = (.onCPU, [SyntheticProfiles.native("list_extend", module: "/usr/bin/python3.11"),
                                        SyntheticProfiles.python("<module>", file: "\(py)/copyreg.py", line: 7),
                                        SyntheticProfiles.python("<module>", file: "\(py)/re/__init__.py", line: 327),
                                        SyntheticProfiles.python("<module>", file: "\(py)/multiprocessing/connection.py", line: 10),
                                        SyntheticProfiles.python("<module>", file: "/app/server.py", line: 1)], nil, true)
        let serving: Step = (.ioWait, [SyntheticProfiles.native("accept4", module: "/lib/x86_64-linux-gnu/libc.so.6"),
                                       SyntheticProfiles.python("socket.accept", file: "\(py)/socket.py", line: 294),
                                       SyntheticProfiles.python("serve", file: "/app/server.py", line: 30),
                                       SyntheticProfiles.python("<module>", file: "/app/server.py", line: 50)],
                             WaitInfo(syscall: "accept4", fd: 3, fdKind: .listeningSocket, target: "tcp listening on 127.0.0.1:4000"), false)
        var profile = SyntheticProfiles.pythonCPUThreads()
        let child = SyntheticProfiles.make(threads: [SyntheticProfiles.ThreadScript(
            name: "python3", pid: 300, tid: 300, cycle: SyntheticProfiles.repeated(importing, 5) + SyntheticProfiles.repeated(serving, 95))],
            ticks: 1000)
        // Graft the child in: same interpreter, child of the program's process.
        let offset = Int32(profile.stacks.count), frameOffset = Int32(profile.frames.count), waitOffset = Int32(profile.waits.count)
        profile.frames += child.frames
        profile.stacks += child.stacks.map { Stack(frames: $0.frames.map { $0 + frameOffset }, truncated: $0.truncated) }
        profile.waits += child.waits
        for var p in child.processes {
            p.ppid = 200
            p.executable = "/usr/bin/python3.11"
            profile.processes.append(p)
        }
        for p in profile.processes.indices { profile.processes[p].executable = "/usr/bin/python3.11" }
        profile.threads += child.threads
        profile.samples += child.samples.map { s in
            var s = s
            s.stack = s.stack >= 0 ? s.stack + offset : s.stack
            s.wait = s.wait >= 0 ? s.wait + waitOffset : s.wait
            return s
        }
        profile = profile.normalized()
        let a = Analyzer.analyze(profile)
        XCTAssertEqual(a.multiprocessing?.poolWorkerProcesses ?? 0, 0, "\(a.findings.map(\.title))")
        let r = try XCTUnwrap(a.recommendation)
        XCTAssertEqual(r.strategy, .processes, r.reasons.map(\.text).joined(separator: " | "))
        XCTAssertFalse(r.reasons.contains { $0.text.contains("Tasks too small") }, r.reasons.map(\.text).joined(separator: " | "))
    }

    /// The start-up rule on the costs python3 -m compileall -j 2 showed on a hundred files:
    /// busy workers (70% of their life), 0.08 s of start-up and 0.07 s of transfer against
    /// 0.12 s of compiling — -j 1 measured faster than -j 2. Overhead beyond the work is
    /// serial; the same pool with ten times the work is not.
    func testProcessOverheadBeyondTheWorkIsSerial() throws {
        func advice(compute: Double) throws -> [Advice] {
            var a = Analysis()
            a.multiprocessing = MultiprocessingCosts(
                processes: 3, workerProcesses: 2, poolWorkerProcesses: 2, ipcCPUSeconds: 0.07, startupSeconds: 0.08,
                workerComputeSeconds: compute, workerBusyShare: 0.7, workerLifetimeSeconds: 1.6, overheadRatio: 0.15 / compute)
            return try StartupRule().advise(RecommendationInput(analysis: a))
        }
        let small = try XCTUnwrap(advice(compute: 0.12).first)
        XCTAssertEqual(small.strategy, .serial)
        XCTAssertTrue(small.reason.text.hasPrefix("Process overhead exceeds the work"), small.reason.text)
        XCTAssertTrue(try advice(compute: 1.2).isEmpty, "overhead a tenth of the work is no case for serial")
    }
}

extension AnalyzerTests {
    /// Four threads each sampled on_cpu at every tick on 2 cores (each ran most of the tick,
    /// not all at its instant — a thread per request looks like this): parallelism and its
    /// peak are at most the cores ("peak 4 of 2 cores" was printed for http.server).
    func testParallelismNeverExceedsTheCores() throws {
        let spin = [SyntheticProfiles.native("spin"), SyntheticProfiles.native("start_thread", module: "/lib/libc.so.6")]
        let threads = (0..<4).map { i in
            SyntheticProfiles.ThreadScript(name: "worker-\(i)", pid: 400, tid: 401 + Int32(i), cycle: [(.onCPU, spin, nil, nil)])
        }
        let a = Analyzer.analyze(SyntheticProfiles.make(threads: threads, ticks: 200))
        let o = try XCTUnwrap(a.overall)
        XCTAssertEqual(o.cores, 2)
        XCTAssertLessThanOrEqual(o.peakParallelism, 2)
        XCTAssertLessThanOrEqual(o.parallelism, 2.0001)
    }
}
