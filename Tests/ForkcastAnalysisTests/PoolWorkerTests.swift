import ForkcastModel
import ForkcastTestSupport
import XCTest
@testable import ForkcastAnalysis

/// Which children of a Python program are a pool's workers, on a loaded machine: the shape
/// of the failing `python3 -m compileall -j 2` recordings (RealToolsAnalysisTests). One
/// worker was CPU-starved all its life — 20 of 22 samples runnable, 13 ms on a CPU in
/// 250 ms — so it was never caught blocked on the task queue nor on a CPU pickling; every
/// sample of it showed `_process_worker` running compileall's task. Before, it was not
/// counted ("pool worker processes: 1" of the 2 the executor started).
final class PoolWorkerTests: XCTestCase {
    typealias Step = SyntheticProfiles.Step
    static let lib = "/usr/lib/python3.11"
    static let libc = "/lib/x86_64-linux-gnu/libc.so.6"
    static let python = "/usr/bin/python3.11"

    static func py(_ name: String, _ file: String, _ line: Int) -> Frame { SyntheticProfiles.python(name, file: "\(lib)/\(file)", line: line) }
    static func native(_ name: String, _ module: String = python) -> Frame { SyntheticProfiles.native(name, module: module) }

    /// The pool's worker loop and compileall's task under it (leaf first, outermost last).
    static let loop = [py("_process_chunk", "concurrent/futures/process.py", 205), py("_process_worker", "concurrent/futures/process.py", 261),
                       py("BaseProcess.run", "multiprocessing/process.py", 108), py("BaseProcess._bootstrap", "multiprocessing/process.py", 314)]
    static let compiling: [Frame] = [native("_PyPegen_update_memo"), native("_PyEval_EvalFrameDefault"),
                                     py("SourceLoader.source_to_code", "<frozen importlib._bootstrap_external>", 1), py("compile", "py_compile.py", 144),
                                     py("compile_file", "compileall.py", 238)] + loop
    /// `call_queue.get()` blocked on the queue's reader lock (a SemLock) or reading the pipe.
    static let lockedGet: [Frame] = [native("__futex_abstimed_wait_common", libc), native("__new_sem_wait_slow64.constprop.0", libc),
                                     native("_multiprocessing_SemLock___enter__", "\(lib)/lib-dynload/_multiprocessing.so"),
                                     py("SemLock.__enter__", "multiprocessing/synchronize.py", 95), py("Queue.get", "multiprocessing/queues.py", 102),
                                     py("_process_worker", "concurrent/futures/process.py", 240),
                                     py("BaseProcess.run", "multiprocessing/process.py", 108), py("BaseProcess._bootstrap", "multiprocessing/process.py", 314)]
    static let pipeGet: [Frame] = [native("read", libc), native("os_read"), py("Connection._recv", "multiprocessing/connection.py", 395),
                                   py("Connection._recv_bytes", "multiprocessing/connection.py", 430),
                                   py("Queue.get", "multiprocessing/queues.py", 103), py("_process_worker", "concurrent/futures/process.py", 240),
                                   py("BaseProcess.run", "multiprocessing/process.py", 108), py("BaseProcess._bootstrap", "multiprocessing/process.py", 314)]
    static let afterFork: [Frame] = [native("method_dealloc"), py("Queue._reset", "multiprocessing/queues.py", 73),
                                     py("Queue._after_fork", "multiprocessing/queues.py", 64),
                                     py("BaseProcess._bootstrap", "multiprocessing/process.py", 306)]
    static let pipeRead = WaitInfo(syscall: "read", fd: 5, fdKind: .pipe, target: "pipe:[9963700]")
    static let semFutex = WaitInfo(syscall: "futex", futex: 0x7f40_0000_2000)

    /// Parent (pid 900) waiting on futures; worker 910 compiles and is seen waiting for its
    /// next task; `starved` (pid 911) compiles too but every sample of it is on a CPU or
    /// runnable; `others` are more children with their own scripts.
    static func profile(starved: [Step], others: [(pid: Int32, cycle: [Step])] = []) -> Profile {
        let busy: [Step] = SyntheticProfiles.repeated((.onCPU, compiling, nil, true), 8)
            + [(.ioWait, pipeGet, pipeRead, false), (.lockWait, lockedGet, semFutex, false)]
        var threads = [SyntheticProfiles.waitingMain(pid: 900, tid: 900, file: "\(lib)/compileall.py"),
                       SyntheticProfiles.ThreadScript(name: "python3", pid: 910, tid: 910, cycle: busy),
                       SyntheticProfiles.ThreadScript(name: "python3", pid: 911, tid: 911, cycle: starved)]
        threads += others.map { SyntheticProfiles.ThreadScript(name: "python3", pid: $0.pid, tid: $0.pid, cycle: $0.cycle) }
        return pool(threads, ticks: 30, command: ["/usr/bin/python3", "-m", "compileall", "-q", "-j", "2", "src"])
    }

    /// A CPython 3.11 program run as pid 900 whose other processes it forked.
    static func pool(_ threads: [SyntheticProfiles.ThreadScript], ticks: Int, command: [String]) -> Profile {
        var p = SyntheticProfiles.make(threads: threads, ticks: ticks, command: command)
        p.recording.rootPid = 900
        for i in p.processes.indices {
            p.processes[i].executable = python
            p.processes[i].runtime = "CPython 3.11.2"
            if p.processes[i].pid != 900 {
                p.processes[i].ppid = 900
                p.processes[i].origin = "fork"
            }
        }
        return p
    }

    /// The failing shape: the starved worker's first ticks run the fork's after-fork hooks
    /// on a CPU, then compileall's task, runnable, until it is woken from the task queue's
    /// lock — still runnable — at the end.
    static let starvedWorker: [Step] = SyntheticProfiles.repeated((.onCPU, afterFork, nil, true), 2)
        + SyntheticProfiles.repeated((.runnable, compiling, nil, nil), 27) + [(.runnable, lockedGet, nil, nil)]

    func testAStarvedWorkerInThePoolsLoopIsAPoolWorker() throws {
        let a = Analyzer.analyze(Self.profile(starved: Self.starvedWorker))
        let mp = try XCTUnwrap(a.multiprocessing)
        XCTAssertEqual(mp.workerProcesses, 2)
        XCTAssertEqual(mp.poolWorkerProcesses, 2, "both of the executor's workers: \(mp.poolWorkerPids)")
        XCTAssertEqual(Set(mp.poolWorkerPids), [910, 911])
        // Ready at its first sample in the task (tick 2), not at the end of the recording.
        let startup = try XCTUnwrap(mp.startupByProcess.first { $0.pid == 911 })
        XCTAssertTrue(startup.reachedUserCode)
        XCTAssertEqual(startup.seconds, 0.02, accuracy: 0.001)
        // Its runnable task code is busy time: both workers were busy most of their lives.
        XCTAssertGreaterThanOrEqual(mp.workerBusyShare, 0.7)
        let r = try XCTUnwrap(a.recommendation)
        XCTAssertFalse(r.reasons.contains { $0.text.hasPrefix("Tasks too small for processes") }, "\(r.reasons.map(\.text))")
    }

    /// Either kind of evidence alone is enough: the loop frame with no traffic at all
    /// (every sample in the task), or the traffic with no loop frame (a hand-made pool: a
    /// `multiprocessing.Process` reading a Queue in user code), caught runnable.
    func testTheLoopOrTheTrafficInAnyStateEachMakeAPoolWorker() throws {
        let onlyTask = SyntheticProfiles.repeated((.runnable, Self.compiling, nil, nil), 30)
        let handMadeGet: [Frame] = [Self.native("read", Self.libc), Self.native("os_read"),
                                    Self.py("Connection._recv", "multiprocessing/connection.py", 395),
                                    Self.py("Queue.get", "multiprocessing/queues.py", 103),
                                    SyntheticProfiles.python("consume", file: "/app/consumer.py", line: 12),
                                    Self.py("BaseProcess.run", "multiprocessing/process.py", 108)]
        let userWork = [Self.native("_PyEval_EvalFrameDefault"), SyntheticProfiles.python("crunch", file: "/app/consumer.py", line: 20),
                        SyntheticProfiles.python("consume", file: "/app/consumer.py", line: 14),
                        Self.py("BaseProcess.run", "multiprocessing/process.py", 108)]
        let handMade = SyntheticProfiles.repeated((.onCPU, userWork, nil, true), 28) + SyntheticProfiles.repeated((.runnable, handMadeGet, nil, nil), 2)
        let mp = try XCTUnwrap(Analyzer.analyze(Self.profile(starved: onlyTask, others: [(912, handMade)])).multiprocessing)
        XCTAssertEqual(Set(mp.poolWorkerPids), [910, 911, 912])
    }

    /// What is not a pool worker stays out: a `multiprocessing.Process` child running its
    /// own code with no pool loop and no traffic with the parent (however loaded the
    /// machine), and a child interpreter that only imports the modules of the pool's
    /// traffic.
    func testAChildWithNeitherTheLoopNorTrafficIsNotAPoolWorker() throws {
        let ownWork = [Self.native("_PyEval_EvalFrameDefault"), SyntheticProfiles.python("crunch", file: "/app/job.py", line: 20),
                       Self.py("BaseProcess.run", "multiprocessing/process.py", 108),
                       Self.py("BaseProcess._bootstrap", "multiprocessing/process.py", 314)]
        let importing = [Self.native("list_extend"), Self.py("<module>", "multiprocessing/connection.py", 10),
                         SyntheticProfiles.python("<module>", file: "/app/server.py", line: 1)]
        let loneProcess = SyntheticProfiles.repeated((.runnable, ownWork, nil, nil), 20) + SyntheticProfiles.repeated((.onCPU, ownWork, nil, true), 10)
        let importer = SyntheticProfiles.repeated((.runnable, importing, nil, nil), 30)
        let mp = try XCTUnwrap(Analyzer.analyze(Self.profile(starved: Self.starvedWorker, others: [(920, loneProcess), (921, importer)]))
            .multiprocessing)
        XCTAssertEqual(mp.workerProcesses, 4)
        XCTAssertEqual(Set(mp.poolWorkerPids), [910, 911])
    }

    /// examples/tiny_tasks.py as recorded (Debian's python3.11): the workers wait for their
    /// next task on the call queue's reader lock, entered by `with self._rlock:` — the C
    /// frame is `_multiprocessing_SemLock___enter__` (the acquire inlined). That frame was
    /// not known as a SemLock acquire, so the wait was an anonymous futex grouped by caller,
    /// not idle: "Fix this lock first: 2 threads spent 283% of their working time waiting on
    /// futex caller:_multiprocessing_SemLock___enter__" (serial 0.83, from the pool's own
    /// idle workers). It is the pool waiting for work.
    func testWorkersWaitingOnTheTaskQueuesLockAreIdleNotAHotLock() throws {
        let waiting: Step = (.lockWait, Self.lockedGet, Self.semFutex, false)
        let task: Step = (.onCPU, [Self.native("_PyEval_EvalFrameDefault"), SyntheticProfiles.python("square", file: "/app/tiny_tasks.py", line: 15)]
                            + Self.loop, nil, true)
        let worker = SyntheticProfiles.repeated(waiting, 9) + [task]
        let submit: Step = (.onCPU, [Self.native("_PyEval_EvalFrameDefault"), Self.py("ProcessPoolExecutor.submit", "concurrent/futures/process.py", 780),
                                     SyntheticProfiles.python("main", file: "/app/tiny_tasks.py", line: 22)], nil, true)
        let p = Self.pool([.init(name: "MainThread", pid: 900, tid: 900, cycle: [submit]),
                           .init(name: "python3", pid: 910, tid: 910, cycle: worker),
                           .init(name: "python3", pid: 911, tid: 911, cycle: worker)],
                          ticks: 300, command: ["/usr/bin/python3", "tiny_tasks.py"])
        let a = Analyzer.analyze(p)
        let queueLock = try XCTUnwrap(a.locks.first { ($0.waiterPids ?? [$0.pid]).contains(910) }, "\(a.locks.map(\.lock))")
        XCTAssertTrue(queueLock.idle, "\(queueLock.kind) \(queueLock.lock): waiting for the next task")
        XCTAssertEqual(queueLock.kind, LockWaitKind.queueGet.rawValue)
        let r = try XCTUnwrap(a.recommendation)
        XCTAssertNil(r.fixFirst, "\(r.fixFirst?.text ?? "")")
        XCTAssertEqual(r.strategy, .serial, "\(r.reasons.map(\.text))")
        XCTAssertTrue(r.reasons.first?.text.hasPrefix("Tasks too small for processes") ?? false, "\(r.reasons.map(\.text))")
    }

    /// `python3 -m compileall -j 2` as recorded: the executor's manager thread in the parent
    /// waits in `multiprocessing.connection.wait` (poll on the workers' result pipes) for the
    /// results. That wait was the tasks' own I/O — "Mixed work: the tasks wait on I/O or sleep
    /// 42% of their own time" → hybrid × 2 in 14 of 80 recordings. It is the pool waiting for
    /// its workers, as a main thread waiting on futures is.
    func testTheManagerThreadWaitingForResultsIsIdleNotTheTasksIO() throws {
        let poll: Step = (.ioWait, [Self.native("__GI___poll", Self.libc), Self.native("select_poll_poll"),
                                    Self.py("_PollLikeSelector.select", "selectors.py", 415), Self.py("wait", "multiprocessing/connection.py", 930),
                                    Self.py("_ExecutorManagerThread.wait_result_broken_or_wakeup", "concurrent/futures/process.py", 407),
                                    Self.py("_ExecutorManagerThread.run", "concurrent/futures/process.py", 339),
                                    Self.py("Thread._bootstrap_inner", "threading.py", 1038), Self.py("Thread._bootstrap", "threading.py", 995),
                                    Self.native("start_thread", Self.libc)],
                          WaitInfo(syscall: "poll", fd: 7, fdKind: .pipe, target: "pipe:[9963701]"), false)
        let compile: Step = (.onCPU, Self.compiling, nil, true)
        let p = Self.pool([SyntheticProfiles.waitingMain(pid: 900, tid: 900, file: "\(Self.lib)/compileall.py"),
                           .init(name: "python3", pid: 900, tid: 901, cycle: SyntheticProfiles.repeated(poll, 9) + [compile]),
                           .init(name: "python3", pid: 910, tid: 910, cycle: [compile]),
                           .init(name: "python3", pid: 911, tid: 911, cycle: [compile])],
                          ticks: 300, command: ["/usr/bin/python3", "-m", "compileall", "-q", "-j", "2", "src"])
        let a = Analyzer.analyze(p)
        let manager = try XCTUnwrap(a.threads.first { $0.tid == 901 })
        XCTAssertGreaterThanOrEqual(manager.idleShare, 0.85, "waiting for results is waiting for the workers")
        let r = try XCTUnwrap(a.recommendation)
        XCTAssertNotEqual(r.strategy, .hybrid, r.reasons.map(\.text).joined(separator: " | "))
        XCTAssertFalse(r.reasons.contains { $0.text.hasPrefix("Mixed work") }, r.reasons.map(\.text).joined(separator: " | "))
    }

    /// The GIL rule judges the busiest pool worker's on-CPU samples. compileall's workers on a
    /// loaded machine had 4-14 each, most of their life runnable: "GIL released: 60% of on-CPU
    /// samples ran in C code" (3 of 5) → threads × 2, or "GIL held" → keep processes, from a
    /// handful. Under 20 on-CPU samples the rule says so and does not vote.
    func testTheGILIsNotJudgedFromAHandfulOfOnCPUSamples() throws {
        let released: Step = (.onCPU, [Self.native("open", Self.libc), Self.native("_io_FileIO___init__")] + Array(Self.compiling.dropFirst(2)), nil, false)
        let held: Step = (.onCPU, Self.compiling, nil, true)
        let waiting: Step = (.runnable, Self.compiling, nil, nil)
        func analysis(onCPU: Int) -> Analysis {
            // Each worker: `onCPU` on-CPU samples, 3 in 5 of them in C code without the GIL; the rest runnable.
            let cycle = (0..<onCPU).map { $0 % 5 < 3 ? released : held } + SyntheticProfiles.repeated(waiting, 30 - onCPU)
            var p = Self.profile(starved: cycle)
            p.samples.removeAll { $0.pid == 910 }  // one worker: the busiest is the one judged
            return Analyzer.analyze(p)
        }
        let few = analysis(onCPU: 5)
        let r = try XCTUnwrap(few.recommendation)
        let gil = try XCTUnwrap(r.reasons.first { $0.factor == .gil }, "\(r.reasons.map(\.text))")
        XCTAssertTrue(gil.text.hasPrefix("GIL not judged"), gil.text)
        XCTAssertNotEqual(r.strategy, .threads, r.reasons.map(\.text).joined(separator: " | "))
        // With enough samples the same mix is judged: released.
        let many = try XCTUnwrap(analysis(onCPU: 25).recommendation)
        XCTAssertTrue(many.reasons.contains { $0.factor == .gil && $0.text.hasPrefix("GIL released") }, "\(many.reasons.map(\.text))")
    }
}
