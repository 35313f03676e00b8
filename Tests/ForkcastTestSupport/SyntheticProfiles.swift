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
