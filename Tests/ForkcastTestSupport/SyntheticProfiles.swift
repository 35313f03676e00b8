import ForkcastModel

/// Builds profiles in memory for unit tests and benchmarks of analysis and reporting:
/// no recording, fully deterministic.
public enum SyntheticProfiles {
    /// A thread to simulate: its name, and the cycle of (state, stack leaf-first, wait)
    /// it repeats, one entry per tick.
    public struct ThreadScript {
        public var name: String
        public var pid: Int32
        public var tid: Int32
        public var cycle: [(state: ThreadState, stack: [Frame], wait: WaitInfo?, holdsGIL: Bool?)]
        public init(name: String, pid: Int32, tid: Int32, cycle: [(state: ThreadState, stack: [Frame], wait: WaitInfo?, holdsGIL: Bool?)]) {
            self.name = name
            self.pid = pid
            self.tid = tid
            self.cycle = cycle
        }
    }

    public static func native(_ name: String, module: String = "/usr/bin/fixture") -> Frame {
        Frame(kind: .native, name: name, module: module, offset: UInt64(abs(name.hashValue) % 0x10000))
    }

    public static func python(_ name: String, file: String = "/app/work.py", line: Int) -> Frame {
        Frame(kind: .python, name: name, file: file, line: line)
    }

    /// A profile of `ticks` ticks at `rateHz` of the given threads (one process per pid).
    public static func make(threads: [ThreadScript], ticks: Int, rateHz: Double = 100, command: [String] = ["fixture"]) -> Profile {
        let period = UInt64(1e9 / rateHz)
        var b = ProfileBuilder(recording: RecordingInfo(
            toolVersion: "test", mode: .launch, command: command, rootPid: threads.first?.pid ?? 1,
            startedAt: "2026-01-01T00:00:00.000Z", durationNs: UInt64(ticks) * period, rateHz: rateHz,
            hostname: "test", cores: 2, kernel: "test", endReason: "target-exited", rootExit: ExitInfo(code: 0)))
        var seenPids = Set<Int32>()
        for t in threads where !seenPids.contains(t.pid) {
            seenPids.insert(t.pid)
            b.add(ProcessInfo(pid: t.pid, ppid: 1, command: command, executable: "/usr/bin/fixture", startNs: 0,
                              endNs: UInt64(ticks) * period, exit: ExitInfo(code: 0), origin: "launched"))
        }
        for t in threads {
            b.add(ThreadInfo(pid: t.pid, tid: t.tid, name: t.name, startNs: 0, endNs: UInt64(ticks) * period))
        }
        // Intern each script step once.
        var steps: [[(stack: Int32, wait: Int32)]] = []
        for t in threads {
            steps.append(t.cycle.map { step in
                let s = b.intern(frames: step.stack, truncated: false)
                let w = step.wait.map { b.intern($0) } ?? -1
                return (s, w)
            })
        }
        var samples: [Sample] = []
        samples.reserveCapacity(ticks * threads.count)
        for tick in 0..<ticks {
            for (ti, t) in threads.enumerated() where !t.cycle.isEmpty {
                let k = tick % t.cycle.count
                let step = t.cycle[k]
                samples.append(Sample(timeNs: UInt64(tick) * period, pid: t.pid, tid: t.tid, stack: steps[ti][k].stack,
                                      state: step.state, wait: steps[ti][k].wait, holdsGIL: step.holdsGIL))
            }
        }
        b.update { p in
            p.samples = samples
            p.stats.ticks = ticks
            p.stats.samplesExpected = samples.count
            p.stats.samplesTaken = samples.count
            p.stats.stacksComplete = samples.count
        }
        return b.profile
    }

    /// Four threads of a C program contending on one mutex held across a sleep: each
    /// waits 70% of the time in pthread_mutex_lock and holds the lock (sleeping) 30%.
    public static func mutexContention(ticks: Int = 1000) -> Profile {
        let lockStack = [native("__futex_abstimed_wait_common", module: "/lib/libc.so.6"), native("__lll_lock_wait", module: "/lib/libc.so.6"),
                         native("pthread_mutex_lock", module: "/lib/libc.so.6"), native("worker"), native("start_thread", module: "/lib/libc.so.6")]
        let sleepStack = [native("clock_nanosleep", module: "/lib/libc.so.6"), native("nanosleep", module: "/lib/libc.so.6"),
                          native("worker"), native("start_thread", module: "/lib/libc.so.6")]
        let futex = WaitInfo(syscall: "futex", futex: 0x5555_0000_1000)
        let sleep = WaitInfo(syscall: "clock_nanosleep")
        typealias Step = (state: ThreadState, stack: [Frame], wait: WaitInfo?, holdsGIL: Bool?)
        let waiting: Step = (.lockWait, lockStack, futex, nil)
        let holding: Step = (.sleep, sleepStack, sleep, nil)
        var cycle: [Step] = Array(repeating: waiting, count: 7)
        cycle.append(contentsOf: Array(repeating: holding, count: 3))
        var threads: [ThreadScript] = []
        for i in 0..<4 {
            let shift = i * 3 % 10
            let rotated: [Step] = Array(cycle[shift...]) + Array(cycle[..<shift])
            threads.append(ThreadScript(name: "worker-\(i)", pid: 100, tid: 101 + Int32(i), cycle: rotated))
        }
        return make(threads: threads, ticks: ticks, command: ["./mutex_fixture"])
    }

    /// Four pure-Python CPU threads on 2 cores: each holds the GIL a quarter of the time.
    public static func pythonCPUThreads(ticks: Int = 1000) -> Profile {
        let run = [python("spin", line: 5), python("run", file: "/usr/lib/python3.11/threading.py", line: 975)]
        let gil = [native("__futex_abstimed_wait_common", module: "/lib/libc.so.6"), native("pthread_cond_timedwait", module: "/lib/libc.so.6"),
                   native("take_gil", module: "/usr/bin/python3.11"), python("spin", line: 5),
                   python("run", file: "/usr/lib/python3.11/threading.py", line: 975)]
        let threads = (0..<4).map { i in
            ThreadScript(name: "Thread-\(i + 1)", pid: 200, tid: 201 + Int32(i), cycle: (0..<4).map { k in
                k == i ? (ThreadState.onCPU, run, nil, true) : (ThreadState.gilWait, gil, WaitInfo(syscall: "futex", futex: 0x7f00_0000_0040), false)
            })
        }
        return make(threads: threads, ticks: ticks, command: ["python3", "cpu_threads.py"])
    }
}

// MARK: - More workloads (analysis tests and benchmarks)

extension SyntheticProfiles {
    public typealias Step = (state: ThreadState, stack: [Frame], wait: WaitInfo?, holdsGIL: Bool?)

    static let libc = "/lib/x86_64-linux-gnu/libc.so.6"
    static let pythonBin = "/usr/bin/python3.11"

    /// `count` copies of `step`.
    public static func repeated(_ step: Step, _ count: Int) -> [Step] { Array(repeating: step, count: count) }

    /// An interpreter frame (native, in the python binary).
    public static func interp(_ name: String = "_PyEval_EvalFrameDefault") -> Frame { native(name, module: pythonBin) }

    /// A Python main thread that submitted work and waits on `future.result()`
    /// (Condition.wait → lock acquire): idle, not contention.
    public static func waitingMain(pid: Int32, tid: Int32, file: String = "/app/main.py") -> ThreadScript {
        let stack = [native("__futex_abstimed_wait_common", module: libc), native("__new_sem_wait_slow64", module: libc),
                     native("PyThread_acquire_lock_timed", module: pythonBin),
                     python("wait", file: "/usr/lib/python3.11/threading.py", line: 320),
                     python("result", file: "/usr/lib/python3.11/concurrent/futures/_base.py", line: 451),
                     python("main", file: file, line: 40), python("<module>", file: file, line: 50)]
        return ThreadScript(name: "MainThread", pid: pid, tid: tid,
                            cycle: [(.lockWait, stack, WaitInfo(syscall: "futex", futex: 0x7f00_0000_1000), false)])
    }

    /// Four threads fetching from a slow local server: 90% blocked in recv on a socket, 10% on CPU.
    public static func socketIO(ticks: Int = 1000) -> Profile {
        let recv = [native("__libc_recv", module: libc), native("sock_recv_impl", module: "/usr/lib/python3.11/lib-dynload/_socket.so"),
                    python("recv_into", file: "/usr/lib/python3.11/socket.py", line: 705),
                    python("fetch", file: "/app/net_io.py", line: 30), python("run", file: "/usr/lib/python3.11/threading.py", line: 975)]
        let cpu = [interp(), python("parse", file: "/app/net_io.py", line: 22), python("fetch", file: "/app/net_io.py", line: 33)]
        let wait = WaitInfo(syscall: "recvfrom", fd: 5, fdKind: .socket, target: "127.0.0.1:8765")
        var threads = [waitingMain(pid: 300, tid: 300, file: "/app/net_io.py")]
        for i in 0..<4 {
            var cycle = repeated((.ioWait, recv, wait, false), 9)
            cycle.insert((.onCPU, cpu, nil, true), at: i * 2)
            threads.append(ThreadScript(name: "ThreadPoolExecutor-0_\(i)", pid: 300, tid: 301 + Int32(i), cycle: cycle))
        }
        return make(threads: threads, ticks: ticks, command: ["python3", "net_io.py"])
    }

    /// Two threads hashing large buffers: on CPU in libcrypto with the GIL released, both at once.
    public static func gilReleasingThreads(ticks: Int = 1000, flag: Bool = true) -> Profile {
        let hash = [native("sha256_block_data_order_avx2", module: "/usr/lib/x86_64-linux-gnu/libcrypto.so.3"),
                    native("SHA256_Update", module: "/usr/lib/x86_64-linux-gnu/libcrypto.so.3"),
                    native("_hashlib_HASH_update", module: "/usr/lib/python3.11/lib-dynload/_hashlib.so"),
                    python("digest_chunk", file: "/app/gil_release.py", line: 14),
                    python("run", file: "/usr/lib/python3.11/threading.py", line: 975)]
        let interpStep: Step = (.onCPU, [interp(), python("digest_chunk", file: "/app/gil_release.py", line: 13)], nil, flag ? true : nil)
        let hashStep: Step = (.onCPU, hash, nil, flag ? false : nil)
        var cycle = repeated(hashStep, 9)
        cycle.append(interpStep)
        let threads = [waitingMain(pid: 400, tid: 400, file: "/app/gil_release.py")]
            + (0..<2).map { ThreadScript(name: "worker-\($0)", pid: 400, tid: 401 + Int32($0), cycle: cycle) }
        return make(threads: threads, ticks: ticks, command: ["python3", "gil_release.py"])
    }

    /// Four Python threads taking one `threading.Lock` held across a sleep: each waits 75%
    /// of the time in `with lock:` at hot_lock.py:18 and sleeps holding it 25%.
    public static func pythonHotLock(ticks: Int = 1000) -> Profile {
        let waitStack = [native("__futex_abstimed_wait_common", module: libc), native("__new_sem_wait_slow64", module: libc),
                         native("PyThread_acquire_lock_timed", module: pythonBin), native("lock_PyThread_acquire_lock", module: pythonBin),
                         python("update", file: "/app/hot_lock.py", line: 18),
                         python("run", file: "/usr/lib/python3.11/threading.py", line: 975)]
        let sleepStack = [native("clock_nanosleep", module: libc), native("pysleep", module: pythonBin),
                          python("update", file: "/app/hot_lock.py", line: 19),
                          python("run", file: "/usr/lib/python3.11/threading.py", line: 975)]
        let lockWait = WaitInfo(syscall: "futex", futex: 0x7f12_3400_0010)
        let threads = [waitingMain(pid: 500, tid: 500, file: "/app/hot_lock.py")] + (0..<4).map { i in
            ThreadScript(name: "Thread-\(i + 1)", pid: 500, tid: 501 + Int32(i), cycle: (0..<4).map { k in
                k == i ? (.sleep, sleepStack, WaitInfo(syscall: "clock_nanosleep"), false) : (.lockWait, waitStack, lockWait, false)
            })
        }
        return make(threads: threads, ticks: ticks, command: ["python3", "hot_lock.py"])
    }

    /// A process pool moving large payloads: the parent pickles and writes to pipes, two
    /// workers read, unpickle and hash (GIL released) — pickling and transfer dominate.
    public static func heavyIPC(ticks: Int = 1000) -> Profile {
        let pickleStack = [native("save_bytes", module: "/usr/lib/python3.11/lib-dynload/_pickle.so"),
                           native("_pickle_dumps", module: "/usr/lib/python3.11/lib-dynload/_pickle.so"),
                           python("dumps", file: "/usr/lib/python3.11/multiprocessing/reduction.py", line: 51),
                           python("_feed", file: "/usr/lib/python3.11/multiprocessing/queues.py", line: 244)]
        let writeStack = [native("__libc_write", module: libc), native("os_write", module: pythonBin),
                          python("_send", file: "/usr/lib/python3.11/multiprocessing/connection.py", line: 373),
                          python("_feed", file: "/usr/lib/python3.11/multiprocessing/queues.py", line: 250)]
        let readStack = [native("__libc_read", module: libc), native("os_read", module: pythonBin),
                         python("_recv", file: "/usr/lib/python3.11/multiprocessing/connection.py", line: 379),
                         python("recv_bytes", file: "/usr/lib/python3.11/multiprocessing/connection.py", line: 216),
                         python("_process_worker", file: "/usr/lib/python3.11/concurrent/futures/process.py", line: 244)]
        let unpickleStack = [native("load", module: "/usr/lib/python3.11/lib-dynload/_pickle.so"),
                             native("_pickle_loads", module: "/usr/lib/python3.11/lib-dynload/_pickle.so"),
                             python("_process_worker", file: "/usr/lib/python3.11/concurrent/futures/process.py", line: 245)]
        let hashStack = [native("sha256_block_data_order_avx2", module: "/usr/lib/x86_64-linux-gnu/libcrypto.so.3"),
                         python("work", file: "/app/heavy_ipc.py", line: 12),
                         python("_process_worker", file: "/usr/lib/python3.11/concurrent/futures/process.py", line: 246)]
        let pipeW = WaitInfo(syscall: "write", fd: 7, fdKind: .pipe, target: "pipe:[4242]")
        let pipeR = WaitInfo(syscall: "read", fd: 3, fdKind: .pipe, target: "pipe:[4242]")
        let feeder = ThreadScript(name: "QueueFeederThread", pid: 600, tid: 601, cycle:
            repeated((.onCPU, pickleStack, nil, true), 5) + repeated((.ioWait, writeStack, pipeW, false), 5))
        let workerCycle: [Step] = repeated((.onCPU, readStack, nil, true), 4) + repeated((.onCPU, unpickleStack, nil, true), 3)
            + repeated((.onCPU, hashStack, nil, false), 2) + [(.ioWait, readStack, pipeR, false)]
        let workers = (0..<2).map { ThreadScript(name: "python3", pid: 610 + Int32($0), tid: 610 + Int32($0), cycle: workerCycle) }
        var p = make(threads: [waitingMain(pid: 600, tid: 600, file: "/app/heavy_ipc.py"), feeder] + workers, ticks: ticks,
                     command: ["python3", "heavy_ipc.py"])
        p.recording.rootPid = 600
        for i in p.processes.indices where p.processes[i].pid != 600 {
            p.processes[i].ppid = 600
            p.processes[i].origin = "fork"
            p.processes[i].runtime = "CPython 3.11"
        }
        p.processes[0].runtime = "CPython 3.11"
        return p
    }

    /// Tiny tasks through a process pool: the parent is busy dispatching, the two workers
    /// are idle waiting for the next task 90% of their time and start up for the first 20%.
    public static func tinyTasks(ticks: Int = 1000) -> Profile {
        let submit = [interp(), python("submit", file: "/usr/lib/python3.11/concurrent/futures/process.py", line: 780),
                      python("main", file: "/app/tiny_tasks.py", line: 20)]
        let getStack = [native("__libc_read", module: libc), native("os_read", module: pythonBin),
                        python("_recv_bytes", file: "/usr/lib/python3.11/multiprocessing/connection.py", line: 430),
                        python("get", file: "/usr/lib/python3.11/multiprocessing/queues.py", line: 103),
                        python("_process_worker", file: "/usr/lib/python3.11/concurrent/futures/process.py", line: 240)]
        let work = [interp(), python("square", file: "/app/tiny_tasks.py", line: 8),
                    python("_process_worker", file: "/usr/lib/python3.11/concurrent/futures/process.py", line: 246)]
        let boot = [interp(), python("_bootstrap", file: "/usr/lib/python3.11/multiprocessing/process.py", line: 314)]
        let pipeR = WaitInfo(syscall: "read", fd: 3, fdKind: .pipe, target: "pipe:[77]")
        let parent = ThreadScript(name: "MainThread", pid: 700, tid: 700, cycle: [(.onCPU, submit, nil, true)])
        var workerCycle: [Step] = repeated((.ioWait, getStack, pipeR, false), 9)
        workerCycle.append((.onCPU, work, nil, true))
        let workers = (0..<2).map { ThreadScript(name: "python3", pid: 710 + Int32($0), tid: 710 + Int32($0), cycle: workerCycle) }
        var p = make(threads: [parent] + workers, ticks: ticks, command: ["python3", "tiny_tasks.py"])
        p.recording.rootPid = 700
        let period = UInt64(1e9 / p.recording.rateHz)
        let bootTicks = ticks / 5
        for i in p.processes.indices where p.processes[i].pid != 700 {
            p.processes[i].ppid = 700
            p.processes[i].origin = "fork"
            p.processes[i].runtime = "CPython 3.11"
        }
        // Workers start booting at tick 0 and reach user code after `bootTicks`.
        var b = ProfileBuilder(recording: p.recording)
        b.update { $0 = p }
        let bootIndex = b.intern(frames: boot, truncated: false)
        b.update { q in
            for i in q.samples.indices where q.samples[i].pid != 700 && q.samples[i].timeNs < UInt64(bootTicks) * period {
                q.samples[i].state = .onCPU
                q.samples[i].stack = bootIndex
                q.samples[i].wait = -1
            }
        }
        return b.profile
    }

    /// Python threads doing CPU work holding the GIL half the time and waiting on a socket the other half.
    public static func mixedCPUAndIO(ticks: Int = 1000) -> Profile {
        let cpu = [interp(), python("crunch", file: "/app/mixed.py", line: 15), python("task", file: "/app/mixed.py", line: 25)]
        let gil = [native("__futex_abstimed_wait_common", module: libc), native("take_gil", module: pythonBin),
                   python("crunch", file: "/app/mixed.py", line: 15), python("task", file: "/app/mixed.py", line: 25)]
        let recv = [native("__libc_recv", module: libc), python("fetch", file: "/app/mixed.py", line: 10),
                    python("task", file: "/app/mixed.py", line: 24)]
        let wait = WaitInfo(syscall: "recvfrom", fd: 6, fdKind: .socket, target: "127.0.0.1:9000")
        let threads = (0..<2).map { i in
            ThreadScript(name: "worker-\(i)", pid: 800, tid: 801 + Int32(i), cycle:
                i == 0 ? [(.onCPU, cpu, nil, true), (.gilWait, gil, nil, false), (.ioWait, recv, wait, false), (.ioWait, recv, wait, false)]
                       : [(.gilWait, gil, nil, false), (.onCPU, cpu, nil, true), (.ioWait, recv, wait, false), (.ioWait, recv, wait, false)])
        }
        return make(threads: threads, ticks: ticks, command: ["python3", "mixed.py"])
    }

    /// A single pure-Python thread on CPU all the time, GIL ownership unknown (no flag):
    /// the analysis must infer "held" from the interpreter leaf frames.
    public static func serialPythonCPU(ticks: Int = 1000) -> Profile {
        let run = [interp(), python("spin", file: "/app/cpu_bound.py", line: 9), python("<module>", file: "/app/cpu_bound.py", line: 30)]
        return make(threads: [ThreadScript(name: "python3", pid: 900, tid: 900, cycle: [(.onCPU, run, nil, nil)])], ticks: ticks,
                    command: ["python3", "cpu_bound.py"])
    }

    /// A big profile for benchmarks: `samples` samples over `threads` threads in `processes`
    /// processes, mixing every state, with `distinctStacks` distinct stacks.
    public static func large(samples: Int = 1_000_000, threads: Int = 16, processes: Int = 4, distinctStacks: Int = 2000) -> Profile {
        let ticks = max(1, samples / threads)
        var b = ProfileBuilder(recording: RecordingInfo(
            toolVersion: "test", mode: .launch, command: ["python3", "big.py"], rootPid: 1000,
            startedAt: "2026-01-01T00:00:00.000Z", durationNs: UInt64(ticks) * 10_000_000, rateHz: 100,
            hostname: "test", cores: 2, kernel: "test", endReason: "target-exited", rootExit: ExitInfo(code: 0)))
        for p in 0..<processes {
            b.add(ProcessInfo(pid: 1000 + Int32(p), ppid: p == 0 ? 1 : 1000, command: ["python3", "big.py"], executable: pythonBin,
                              startNs: 0, runtime: "CPython 3.11", origin: p == 0 ? "launched" : "fork"))
        }
        for t in 0..<threads {
            b.add(ThreadInfo(pid: 1000 + Int32(t % processes), tid: 2000 + Int32(t), name: "t\(t)", startNs: 0))
        }
        var stacks: [Int32] = []
        var lcg: UInt64 = 42
        func next() -> Int {
            lcg = lcg &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: lcg >> 33)
        }
        for s in 0..<distinctStacks {
            let depth = 8 + s % 20
            var frames: [Frame] = []
            for d in 0..<depth {
                frames.append(d % 3 == 0 ? python("f\((s * 7 + d) % 500)", file: "/app/m\(d % 9).py", line: d * 10 + s % 10)
                                         : native("n\((s * 13 + d) % 800)", module: d % 2 == 0 ? libc : pythonBin))
            }
            if s % 5 == 0 { frames.insert(native("take_gil", module: pythonBin), at: 1) }
            if s % 7 == 0 { frames.insert(native("pthread_mutex_lock", module: libc), at: 1) }
            if s % 11 == 0 { frames.insert(native("_pickle_dumps", module: "/usr/lib/python3.11/lib-dynload/_pickle.so"), at: 0) }
            stacks.append(b.intern(frames: frames, truncated: s % 50 == 0))
        }
        var waits: [Int32] = []
        let kinds: [FDKind] = [.socket, .file, .pipe, .tty]
        for w in 0..<64 {
            waits.append(b.intern(WaitInfo(syscall: ["futex", "read", "recvfrom", "write"][w % 4], fd: Int32(w % 16),
                                           fdKind: w % 4 == 0 ? nil : kinds[w % 4], target: "t\(w % 8)",
                                           futex: w % 4 == 0 ? UInt64(0x1000 + w * 64) : nil)))
        }
        var out: [Sample] = []
        out.reserveCapacity(ticks * threads)
        for tick in 0..<ticks {
            for t in 0..<threads {
                let r = next()
                let state = ThreadState(code: UInt8(r % 8))!
                let wait: Int32 = state.isWaiting ? waits[(r / 8) % waits.count] : -1
                out.append(Sample(timeNs: UInt64(tick) * 10_000_000, pid: 1000 + Int32(t % processes), tid: 2000 + Int32(t),
                                  stack: stacks[(r / 64) % stacks.count], state: state, wait: wait,
                                  holdsGIL: state == .onCPU ? (r % 3 == 0) : nil))
            }
        }
        b.update { p in
            p.samples = out
            p.stats.ticks = ticks
            p.stats.samplesTaken = out.count
            p.stats.samplesExpected = out.count
        }
        return b.profile
    }
}
