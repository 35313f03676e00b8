import Foundation
import ForkcastModel
import ForkcastSystem

/// Raw samples as recorded: program counters, not yet symbolized.
struct RawStore {
    struct StackKey: Hashable {
        var addressSpace: Int32
        var pcs: [UInt64]
        var truncated: Bool
        /// The Python frames the thread was running (leaf first), merged after symbolization.
        var python: [PythonFrame] = []
    }

    /// One sample. The fields are ordered so that it packs into 32 bytes (40 in the
    /// natural order): with 2,000 threads at 100 Hz, 200,000 of them a second.
    struct Sample {
        var timeNs: UInt64
        /// The thread's row (`TracedThread.row`).
        var thread: Int32
        var pid: Int32
        var tid: Int32
        var stack: Int32
        var wait: Int32
        var state: ThreadState
        var holdsGIL: Bool?

        init(timeNs: UInt64, thread: Int32, pid: Int32, tid: Int32, stack: Int32, state: ThreadState, wait: Int32,
             holdsGIL: Bool?) {
            self.timeNs = timeNs
            self.thread = thread
            self.pid = pid
            self.tid = tid
            self.stack = stack
            self.wait = wait
            self.state = state
            self.holdsGIL = holdsGIL
        }
    }

    /// The samples in order, kept in chunks of fixed capacity: appending never moves what
    /// was recorded (a growing array copied all of it at each doubling — with 2,000
    /// threads at 100 Hz, a tenth of the tracer's time in the tick).
    struct SampleLog: Sequence {
        static let chunkCapacity = 32_768
        private var chunks: [[Sample]] = []
        private(set) var count = 0

        mutating func append(_ sample: Sample) {
            if chunks.isEmpty || chunks[chunks.count - 1].count == Self.chunkCapacity {
                var chunk: [Sample] = []
                chunk.reserveCapacity(Self.chunkCapacity)
                chunks.append(chunk)
            }
            chunks[chunks.count - 1].append(sample)
            count += 1
        }

        func makeIterator() -> FlattenSequence<[[Sample]]>.Iterator { chunks.joined().makeIterator() }
    }

    /// A thread's sample recorded again, with nothing read, at every tick from `firstTick`
    /// to `lastTick` (indices in `tickTimes`): a thread asleep since, whose wait has nothing
    /// to re-read (no mutex owner, no GIL). 2,000 idle threads at 100 Hz are 200,000
    /// samples a second; as runs they cost the tick nothing but a comparison each.
    /// Expanded into samples at the end (`TraceSession.finish`).
    struct Run {
        var sample: Sample
        var firstTick: Int32
        var lastTick: Int32
    }

    var runs: [Run] = []
    /// The time of each tick, since the recording's start.
    var tickTimes: [UInt64] = []

    /// Every sample, the runs' expanded, in time order (stable: one tick's samples keep
    /// their order).
    func allSamples() -> [Sample] {
        var all: [Sample] = []
        all.reserveCapacity(samples.count + runs.reduce(0) { $0 + Int($1.lastTick - $1.firstTick + 1) })
        all.append(contentsOf: samples)
        for run in runs {
            var s = run.sample
            for k in run.firstTick...run.lastTick {
                s.timeNs = tickTimes[Int(k)]
                all.append(s)
            }
        }
        // Samples filled in from a late stop were appended after later ticks, and runs
        // after everything: restore time order (stable).
        all.sort { $0.timeNs < $1.timeNs }
        return all
    }

    var stacks: [StackKey] = []
    var stackIndex: [StackKey: Int32] = [:]
    var waits: [WaitInfo] = []
    var waitIndex: [WaitInfo: Int32] = [:]
    var samples = SampleLog()

    /// Interns a stack; `isNew` tells the caller to check the mappings cover it.
    mutating func intern(_ key: StackKey) -> (index: Int32, isNew: Bool) {
        if let i = stackIndex[key] { return (i, false) }
        let i = Int32(stacks.count)
        stacks.append(key)
        stackIndex[key] = i
        return (i, true)
    }

    mutating func intern(_ wait: WaitInfo?) -> Int32 {
        guard let wait else { return -1 }
        if let i = waitIndex[wait] { return i }
        let i = Int32(waits.count)
        waits.append(wait)
        waitIndex[wait] = i
        return i
    }
}

/// The mappings of one address space (a process between execs). Snapshots of
/// /proc/PID/maps accumulate: a library unmapped later still symbolizes the samples
/// taken while it was there.
struct AddressSpace {
    let pid: Int32
    var mappings: [MemoryMapping] = []
    var map = AddressSpaceMap([])
    var lastRefreshNs: UInt64 = 0
    /// Set when the process runs in another root (chroot, container): its mapped files
    /// are opened through /proc/PID/root while it lives, never by their paths here.
    let root: ProcessRoot?
    /// A stack had a pc outside these mappings shortly after the last re-read.
    var stale = false

    init(pid: Int32) {
        self.pid = pid
        root = ProcessRoot.foreign(pid: pid)
    }

    mutating func refresh() {
        guard let fresh = try? ProcMaps.read(pid: pid), !fresh.isEmpty else { return }
        lastRefreshNs = Clock.now()
        root?.openAll(fresh)
        stale = false
        // Newest first so they win where ranges overlap.
        var merged = fresh
        let freshSet = Set(fresh)
        for m in mappings where !freshSet.contains(m) && !fresh.contains(where: { $0.start < m.end && m.start < $0.end }) {
            merged.append(m)
        }
        mappings = merged
        map = AddressSpaceMap(mappings)
    }

    func covers(_ pcs: [UInt64]) -> Bool {
        pcs.allSatisfy { map.mapping(containing: $0) != nil }
    }
}

extension TraceSession {
    /// One sampling tick: classify every live thread from /proc; unwind blocked threads
    /// in place; interrupt running ones. Their stops are handled as they arrive (by the
    /// event loop), so a tick never waits for its slowest thread.
    func tick(now: UInt64) {
        let t = now - startNs
        stats.ticks += 1
        beginPythonTick(now: now)
        // Reused samples are counted here and added to `stats` once a tick: one access
        // to the session's stats per tick, not five per idle thread.
        var tally = ReuseTally()
        defer { tally.add(to: &stats) }
        let tick = Int32(store.tickTimes.count)
        store.tickTimes.append(t)
        var exited = 0
        // Threads of one process are mostly consecutive: look their process up once.
        var current: (pid: Int32, process: TracedProcess?, pythonKnown: Bool) = (-1, nil, false)
        for thread in tickThreads {
            guard thread.phase == .running || thread.phase == .jobStopped || thread.phase == .interrupting else {
                if thread.phase == .exited { exited += 1 }
                continue
            }
            if thread.pid != current.pid {
                current = (thread.pid, processes[thread.pid], python.processes[thread.pid]?.inspector != nil)
            }
            guard let process = current.process, !process.awaitingExec else { continue }
            // The reuse rule (ReusableSample). With scheduler events: nothing named the
            // thread since its sample, so it has neither been woken nor run — nothing is read
            // (and no clock either: this is the path of every idle thread at every tick).
            if let reusable = thread.reusable, thread.phase == .running, quietOnEvents(thread, reusable),
               reusable.addressSpace == process.addressSpace, reusable.pythonKnown == current.pythonKnown {
                thread.quietAtNs = now
                if reusable.ownerLookup == nil && !reusable.python {
                    // Nothing to read again either: one run of identical samples, stored once.
                    if thread.runOf !== reusable {
                        closeRun(of: thread)
                        thread.runOf = reusable
                        thread.runPid = thread.pid
                        thread.runFirstTick = tick
                    }
                    thread.runLastTick = tick
                } else {
                    recordReused(thread, reusable, timeNs: t, began: nil, onEvents: true, tally: &tally)
                }
                continue
            }
            if thread.runOf != nil { closeRun(of: thread) }
            guard let files = thread.files else { continue }
            let began = Clock.now()
            var woken: ReusableSample?
            if let reusable = thread.reusable {
                // Otherwise the syscall line, *then* schedstat — the sample stands for the
                // moment of the syscall read, when the thread was sleeping in the same call
                // and had not run since the sample was read. Not tried for a thread the events
                // named (woken or put on a CPU since): it has all but surely run, and a fresh
                // read is exact in any case.
                if thread.phase == .running, !namedOnEvents(thread, reusable),
                   files.syscallLineIs(reusable.syscallLine), let sched = files.schedstat(),
                   reusable.stillValid(sched: sched, addressSpace: process.addressSpace),
                   reusable.pythonKnown == current.pythonKnown {
                    thread.lastSched = sched
                    // Checked now, after this tick's drain: from here the events alone can
                    // tell (a run or a wake-up after this read is named by a later drain).
                    reusable.quietSince = activityGeneration
                    recordReused(thread, reusable, timeNs: t, began: began, tally: &tally)
                    continue
                }
                thread.reusable = nil
                woken = reusable
            }
            // Threads name themselves as they start: a thread's name is read with every
            // full read in its first 500 ms, and at least every 5 s after that.
            if thread.phase == .running, t &- thread.startNs > 500_000_000, t &- thread.nameReadAt < 5_000_000_000,
               sampleWithoutStat(thread, files: files, timeNs: t, woken: woken, process: process,
                                 pythonKnown: current.pythonKnown, began: began, tally: &tally) {
                continue
            }
            guard let stat = files.stat() else { continue }
            if !stat.comm.isEmpty {
                thread.name = stat.comm
                thread.nameReadAt = t
            }
            let sched = files.schedstat()
            let previous = thread.lastSched
            thread.lastSched = sched
            if thread.phase == .jobStopped {
                record(thread, timeNs: t, state: .other, wait: WaitInfo(syscall: "job-control stop"), stack: nil, cost: began)
                continue
            }
            if thread.phase == .interrupting {
                // Still on its way to the previous tick's stop. Runnable threads run no user
                // code until they stop, so the stack they stop with is this tick's too.
                if stat.state == UInt8(ascii: "R") {
                    thread.pending?.laterTicks.append(t)
                } else if stat.state == UInt8(ascii: "D") {
                    _ = sampleBlocked(thread, files: files, timeNs: t, stat: stat.state, sched: nil, began: began)
                }
                continue
            }
            switch stat.state {
            case UInt8(ascii: "R"):
                sampleRunning(thread, timeNs: t, previous: previous, sched: sched, woken: thread.phase == .running ? woken : nil,
                              process: process, pythonKnown: current.pythonKnown, began: began, tally: &tally)
            case UInt8(ascii: "S"), UInt8(ascii: "D"):
                sampleBlockedOrStop(thread, files: files, timeNs: t, stat: stat.state, sched: sched, began: began)
            case UInt8(ascii: "Z"), UInt8(ascii: "X"):
                continue
            case UInt8(ascii: "t"):
                continue  // in a ptrace stop whose event we have not handled yet
            default:
                record(thread, timeNs: t, state: .other, wait: nil, stack: nil, cost: began)
            }
        }
        if exited > 64, exited * 4 > tickThreads.count {
            tickThreads.removeAll { $0.phase == .exited }
        }
        if anyStaleMappings { refreshStaleMappings() }
    }

    /// A thread that is neither stopped nor being interrupted, read without its `stat`
    /// (the costliest of its files: a woken thread among 2,000 cost four reads, this one a
    /// third of their time): schedstat, then /proc/TID/syscall says whether it runs or in
    /// which call it blocks — all a blocked thread's sample needs. Returns false, having
    /// read only schedstat, when the thread is blocked outside a system call (the caller's
    /// `stat` tells a stop, an uninterruptible sleep or a zombie there) or its syscall file
    /// cannot be read. Its name is read with `stat` (see the caller) and at the end. A
    /// thread in a ptrace stop the tracer has not handled yet, inside a call, is sampled in
    /// that call: it was blocked there until the signal came, at most a tick before.
    private func sampleWithoutStat(_ thread: TracedThread, files: TaskFiles, timeNs t: UInt64, woken: ReusableSample?,
                                   process: TracedProcess, pythonKnown: Bool, began: UInt64,
                                   tally: inout ReuseTally) -> Bool {
        let sched = files.schedstat()
        guard let read = files.syscallWithLine() else { return false }  // gone, or unreadable: as `stat` says
        switch read.state {
        case .blockedOutsideSyscall:
            return false
        case .running:
            let previous = thread.lastSched
            // Read after "running", as the stat path reads it after `R`.
            let now = files.schedstat() ?? sched
            thread.lastSched = now
            sampleRunning(thread, timeNs: t, previous: previous, sched: now, woken: woken, process: process,
                          pythonKnown: pythonKnown, began: began, tally: &tally)
            return true
        case .inSyscall:
            thread.lastSched = sched
            sampleBlockedOrStop(thread, files: files, timeNs: t, stat: UInt8(ascii: "S"), sched: sched, began: began, first: read)
            return true
        }
    }

    /// A thread that is `R`, its schedstat read after that: interrupted for its stack —
    /// unless it was `woken` and has not been on a CPU once since that sample was read
    /// (schedstat unchanged): then runnable, with the very stack it slept with, and no
    /// interrupt, which a starved thread would not answer for as long as it is starved.
    private func sampleRunning(_ thread: TracedThread, timeNs t: UInt64, previous: SchedStat?, sched: SchedStat?,
                               woken: ReusableSample?, process: TracedProcess, pythonKnown: Bool, began: UInt64,
                               tally: inout ReuseTally) {
        if let woken, let sched, woken.stillValid(sched: sched, addressSpace: process.addressSpace), woken.pythonKnown == pythonKnown {
            thread.reusable = woken
            recordReused(thread, woken, timeNs: t, began: began, woken: true, tally: &tally)
        } else {
            requestStop(thread, PendingSample(timeNs: t, state: Self.runState(previous, sched), requestedAt: began))
        }
    }

    /// A blocked thread read in place (`sampleBlocked`), or interrupted when it turned out
    /// to be running.
    private func sampleBlockedOrStop(_ thread: TracedThread, files: TaskFiles, timeNs t: UInt64, stat: UInt8, sched: SchedStat?,
                                     began: UInt64, first: (state: SyscallState, line: [UInt8])? = nil) {
        if !sampleBlocked(thread, files: files, timeNs: t, stat: stat, sched: sched, began: began, first: first) {
            requestStop(thread, PendingSample(timeNs: t, state: .onCPU, requestedAt: began))
        }
    }

    /// Re-reads the mappings of live processes whose stacks went outside them soon after
    /// the previous re-read (`intern` limits re-reads to one per 20 ms per process).
    func refreshStaleMappings() {
        let now = Clock.now()
        var pending = false
        for p in processes.values where p.endNs == nil && addressSpaces[Int(p.addressSpace)].stale {
            if now &- addressSpaces[Int(p.addressSpace)].lastRefreshNs > 20_000_000 {
                addressSpaces[Int(p.addressSpace)].refresh()
            } else {
                pending = true
            }
        }
        anyStaleMappings = pending
    }

    private func requestStop(_ thread: TracedThread, _ pending: PendingSample) {
        do {
            try Ptrace.interrupt(thread.tid)
            var pending = pending
            pending.requestCostNs = Clock.now() - pending.requestedAt
            thread.pending = pending
            thread.phase = .interrupting
            awaitingStop.append(thread)
        } catch {
            thread.pending = nil  // gone; its exit status follows
        }
    }

    /// On CPU or waiting for one, from how the thread's run and run-queue times grew
    /// since the previous tick.
    static func runState(_ previous: SchedStat?, _ current: SchedStat?) -> ThreadState {
        guard let previous, let current, current.runNs >= previous.runNs, current.waitNs >= previous.waitNs else { return .onCPU }
        let ran = current.runNs - previous.runNs
        let waited = current.waitNs - previous.waitNs
        return waited > ran ? .runnable : .onCPU
    }

    /// Called at the sampling stop of an interrupted thread.
    func takeStoppedSample(_ thread: TracedThread) {
        guard thread.pending != nil, let process = processes[thread.pid], let unwinder = process.unwinder else {
            completePendingSample(thread, stack: nil)
            return
        }
        thread.pending?.unwindStartedAt = Clock.now()
        let (result, registers) = unwinder.unwindStoppedKeepingRegisters(tid: thread.tid)
        thread.stoppedRegisters = registers
        completePendingSample(thread, stack: result, python: pythonSample(thread))
    }

    /// Records the pending sample of `thread` (with or without a stack) and clears it;
    /// ticks that passed while the stop was on its way get the same stack, as runnable.
    func completePendingSample(_ thread: TracedThread, stack: Unwinder.Result?,
                               python: PythonSample? = nil) {
        guard let pending = thread.pending else { return }
        thread.pending = nil
        // The GIL was read at the latest tick: earlier ticks' samples of a late stop do not
        // know who held it then (another thread may have: "unknown", not a second holder).
        var earlier = python
        if !pending.laterTicks.isEmpty, earlier?.holdsGIL != nil { earlier?.holdsGIL = nil }
        record(thread, timeNs: pending.timeNs, state: pending.state, wait: pending.wait, stack: stack, cost: nil,
               python: pending.laterTicks.isEmpty ? python : earlier)
        for (i, later) in pending.laterTicks.enumerated() {
            stats.missedStops += 1
            record(thread, timeNs: later, state: .runnable, wait: nil, stack: stack, cost: nil,
                   python: i == pending.laterTicks.count - 1 ? python : earlier)
        }
        // Tracer time for this sample: reading /proc and sending the interrupt, then the
        // unwind and the bookkeeping (not the wait for the stop in between).
        let unwindCost = pending.unwindStartedAt.map { Clock.now() - $0 } ?? 0
        sampleCosts.append(UInt32(min(pending.requestCostNs + unwindCost, UInt64(UInt32.max))))
    }

    /// Ends `thread`'s run of samples reused on the events (`RawStore.Run`): stored, and
    /// counted in the stats as that many reused samples.
    func closeRun(of thread: TracedThread) {
        guard let r = thread.runOf else { return }
        thread.runOf = nil
        let first = thread.runFirstTick, last = thread.runLastTick
        guard last >= first else { return }
        store.runs.append(RawStore.Run(
            sample: RawStore.Sample(timeNs: 0, thread: thread.row, pid: thread.runPid, tid: thread.tid, stack: r.stack,
                                    state: r.state, wait: r.wait, holdsGIL: r.holdsGIL),
            firstTick: first, lastTick: last))
        let n = Int(last - first + 1)
        ReuseTally(reused: n, onEvents: n, complete: r.complete ? n : 0, failed: r.failed ? n : 0).add(to: &stats)
    }

    /// Records again the sample of a thread that has not run since it was read
    /// (`ReusableSample.stillValid`): no parse of /proc, no unwind, no Python read.
    /// `woken`: the thread is runnable, woken but not yet on a CPU: recorded as such, with
    /// no wait.
    /// `began`: when work on this sample began, for its cost; nil for a sample reused on
    /// the scheduler events, which reads nothing (not counted in the cost statistics).
    private func recordReused(_ thread: TracedThread, _ r: ReusableSample, timeNs: UInt64, began: UInt64?,
                              woken: Bool = false, onEvents: Bool = false, tally: inout ReuseTally) {
        var holdsGIL = r.holdsGIL
        if r.python, let inspector = python.inspector(pid: thread.pid) {
            holdsGIL = inspector.holdsGIL(tid: thread.tid)  // read this tick, like any sample's
        }
        var waitIndex = woken ? -1 : r.wait
        if !woken, let lookup = r.ownerLookup {
            let q = lookup.query
            var info = lookup.waitInfo
            // The mutex's owner is read again: it changes without this thread running.
            let owner = mutexOwner(pid: thread.pid, waiter: thread.tid, address: q.address, op: q.op, value: q.value)
            if owner != info.owner {
                info.owner = owner
                waitIndex = store.intern(info)
            }
        }
        if r.complete { tally.complete += 1 }
        if r.failed { tally.failed += 1 }
        tally.reused += 1
        if onEvents { tally.onEvents += 1 }
        store.samples.append(RawStore.Sample(timeNs: timeNs, thread: thread.row, pid: thread.pid, tid: thread.tid, stack: r.stack,
                                             state: woken ? .runnable : r.state, wait: waitIndex, holdsGIL: holdsGIL))
        if let began { sampleCosts.append(UInt32(min(Clock.now() - began, UInt64(UInt32.max)))) }
    }

    /// Samples a thread blocked in the kernel without stopping it (`readBlocked`).
    /// Returns false when the thread turned out to be running. `sched` is the thread's
    /// schedstat read this tick *before* the stack: given, a consistent sample is kept
    /// for reuse at later ticks while the thread does not run.
    /// `first`: /proc/TID/syscall as the caller just read it (else read here).
    private func sampleBlocked(_ thread: TracedThread, files: TaskFiles, timeNs: UInt64, stat statState: UInt8,
                               sched: SchedStat?, began: UInt64, first: (state: SyscallState, line: [UInt8])? = nil) -> Bool {
        switch readBlocked(thread, files: files, uninterruptible: statState == UInt8(ascii: "D"), schedBefore: sched,
                           first: first) {
        case .running:
            return false
        case .unreadable:
            record(thread, timeNs: timeNs, state: .other, wait: nil, stack: nil, cost: began)
            return true
        case .needsStop(let state, let wait):
            requestStop(thread, PendingSample(timeNs: timeNs, state: state, requestedAt: began, wait: wait))
            return true
        case .read(let read):
            let pythonErrors = stats.pythonReadErrors
            let python = pythonSample(thread)
            let (stack, waitIndex, recorded) = record(thread, timeNs: timeNs, state: read.state, wait: read.wait,
                                                      stack: read.stack, cost: began, python: python)
            if read.consistent, let sched, stats.pythonReadErrors == pythonErrors {
                keepForReuse(thread, read, state: recorded, sched: sched, stack: stack, wait: waitIndex, python: python)
            }
            return true
        }
    }

    /// Keeps a consistent in-place read for reuse; `state` is the state recorded for it
    /// (after the GIL refinement).
    func keepForReuse(_ thread: TracedThread, _ read: BlockedRead, state: ThreadState, sched: SchedStat,
                      stack: Int32, wait: Int32, python: PythonSample?) {
        guard stack >= 0, let line = read.syscallLine, let process = processes[thread.pid] else { return }
        thread.reusable = ReusableSample(
            syscallLine: line, sched: sched, addressSpace: process.addressSpace, stack: stack, wait: wait,
            state: state, complete: read.stack?.complete ?? false, failed: read.stack?.failed ?? false,
            python: python != nil, holdsGIL: python?.holdsGIL,
            waitInfo: read.ownerQuery == nil ? nil : read.wait, ownerQuery: read.ownerQuery,
            pythonKnown: self.python.processes[thread.pid]?.inspector != nil,
            quietSince: activityGeneration)
    }

    enum BlockedReadResult {
        /// /proc/TID/syscall says the thread is running.
        case running
        /// /proc/TID/syscall could not be read.
        case unreadable
        /// Its stack needs registers that only a stop gives (see `readBlocked`).
        case needsStop(state: ThreadState, wait: WaitInfo?)
        case read(BlockedRead)
    }

    /// What a blocked thread is doing, read in place: the syscall and its arguments say
    /// what it waits for; the user pc/sp let us unwind its stack from memory; schedstat
    /// unchanged since before the first read — or else the same syscall line re-read —
    /// proves the stack did not move (`consistent`).
    struct BlockedRead {
        var state: ThreadState
        var wait: WaitInfo?
        var stack: Unwinder.Result?
        var consistent: Bool
        /// The /proc/TID/syscall line read with the stack when `consistent` (the one read
        /// before it when schedstat proved the thread did not run; else the one read after
        /// it, equal to it): what a reused sample checks at later ticks.
        var syscallLine: [UInt8]? = nil
        /// A futex wait whose mutex owner was looked up: the owner is another thread's
        /// data, so a reused sample looks it up again.
        var ownerQuery: OwnerQuery?
    }

    struct OwnerQuery {
        var address: UInt64
        var op: UInt64
        var value: UInt64
    }

    /// `schedBefore`: the thread's schedstat, read before this (nil: not read).
    func readBlocked(_ thread: TracedThread, files: TaskFiles, uninterruptible: Bool, schedBefore: SchedStat? = nil,
                     first: (state: SyscallState, line: [UInt8])? = nil) -> BlockedReadResult {
        guard let firstRead = first ?? files.syscallWithLine() else { return .unreadable }
        let state = firstRead.state
        let pc: UInt64, sp: UInt64
        var threadState: ThreadState
        var wait: WaitInfo?
        var ownerQuery: OwnerQuery?
        switch state {
        case .running:
            return .running
        case .blockedOutsideSyscall(let s, let p):
            sp = s
            pc = p
            threadState = .other
            wait = WaitInfo(syscall: uninterruptible ? "uninterruptible" : "none")
        case .inSyscall(let number, let args, let s, let p):
            sp = s
            pc = p
            let c = SyscallClassifier.classify(number: number, args: args)
            threadState = c.state
            var info = WaitInfo(syscall: c.name, futex: c.futexAddress)
            if number == 202, let address = c.futexAddress, args.count > 2,
               Self.mayBeMutexWait(address: address, op: args[1], value: args[2]) {
                info.owner = mutexOwner(pid: thread.pid, waiter: thread.tid, address: address, op: args[1], value: args[2])
                ownerQuery = OwnerQuery(address: address, op: args[1], value: args[2])
            }
            var fd: Int32?
            switch c.fd {
            case .none: break
            case .firstArgument: fd = Int32(truncatingIfNeeded: args[0])
            case .pollArray: fd = firstPollFD(pid: thread.pid, address: args[0], count: args[1])
            }
            if let fd {
                let d = fdDescriber.describe(pid: thread.pid, fd: fd)
                info.fd = fd
                info.fdKind = d.kind
                info.target = d.target
            }
            wait = info
        }
        var result: Unwinder.Result?
        var consistent = false
        var line: [UInt8]?
        if let unwinder = processes[thread.pid]?.unwinder {
            var r = unwinder.unwindBlocked(tid: thread.tid, pc: pc, sp: sp)
            if r.needsRegisters {
                // A caller's CFA is register-based (rbp in a frame-pointer function) and
                // the register is still live: pc/sp are not enough. Registers from this
                // thread's last stop at the same pc and sp pin it (the frames up to that
                // caller are the same, so is its frame pointer); else stop it once.
                if let known = thread.stoppedRegisters, known.pc == pc, known.sp == sp {
                    let again = unwinder.unwindBlocked(tid: thread.tid, pc: pc, sp: sp, known: known)
                    if again.complete { r = again }
                }
                if !r.complete && thread.phase == .running {
                    return .needsStop(state: threadState, wait: wait)
                }
            }
            if let before = schedBefore, before.slices > 0, files.schedstat() == before {
                // Not on a CPU once since before the first read (schedstat is the reuse
                // rule's proof too, and a cheaper read than the syscall file, which takes
                // the run queue's lock twice): what was read is one consistent moment.
                consistent = true
                line = firstRead.line
            } else if let after = files.syscallWithLine(), after.state == state {
                consistent = true
                line = after.line
            } else {
                // It woke while we read its stack: only the leaf is trustworthy.
                stats.inconsistentStacks += 1
                r = Unwinder.Result(pcs: [pc], complete: false, truncated: true, failed: false)
            }
            result = r
        }
        return .read(BlockedRead(state: threadState, wait: wait, stack: result, consistent: consistent, syscallLine: line,
                                 ownerQuery: ownerQuery))
    }

    /// The owner of the pthread mutex a thread waits on, when the futex is one: glibc's
    /// `pthread_mutex_t` keeps the lock word (`__lock`, the futex) at offset 0 and the owner's
    /// TID (`__owner`) at offset 8. A waiter in `__lll_lock_wait` waits for the value 2
    /// (locked, with waiters); a PI mutex waits with FUTEX_LOCK_PI. The owner counts only when
    /// the lock word is still taken and the TID is a live thread of the same process (a
    /// semaphore or a condition variable has other things at offset 8).
    private func mutexOwner(pid: Int32, waiter: Int32, address: UInt64, op: UInt64, value: UInt64) -> Int32? {
        guard Self.mayBeMutexWait(address: address, op: op, value: value) else { return nil }
        let lockPI = Self.isLockPI(op)
        var words: (Int32, UInt32, Int32) = (0, 0, 0)
        let n = withUnsafeMutableBytes(of: &words) { try? RemoteMemory.read(pid: pid, address: address, into: $0) }
        guard n == 12 else { return nil }
        let lock = words.0, owner = lockPI ? words.0 & 0x3fff_ffff : words.2
        guard lock != 0, owner > 0, owner != waiter, processes[pid]?.threads.contains(owner) == true else { return nil }
        return owner
    }

    /// A futex wait that can be a pthread mutex's (`mutexOwner`): FUTEX_WAIT for the value 2,
    /// or FUTEX_LOCK_PI. Only those are looked up again at each reuse — a condition
    /// variable's or a semaphore's wait has no owner to follow, and its sample is reused
    /// with nothing read (a `RawStore.Run`).
    static func mayBeMutexWait(address: UInt64, op: UInt64, value: UInt64) -> Bool {
        let command = op & 0x7f // without FUTEX_PRIVATE_FLAG / FUTEX_CLOCK_REALTIME
        return ((command == 0 && value == 2) || isLockPI(op)) && address % 4 == 0
    }

    static func isLockPI(_ op: UInt64) -> Bool {
        let command = op & 0x7f
        return command == 6 || command == 13
    }

    private func firstPollFD(pid: Int32, address: UInt64, count: UInt64) -> Int32? {
        guard count > 0, address != 0 else { return nil }
        var fd: Int32 = -1
        let n = withUnsafeMutableBytes(of: &fd) { try? RemoteMemory.read(pid: pid, address: address, into: $0) }
        return n == 4 ? fd : nil
    }

    /// Interns a stack of `process`; a new stack with a pc outside the known mappings
    /// re-reads them (for symbolization at the end), at most every 20 ms per address space.
    func intern(_ stack: Unwinder.Result?, python: [PythonFrame]?, in process: TracedProcess) -> Int32 {
        let pcs = stack?.pcs ?? []
        let key = RawStore.StackKey(addressSpace: process.addressSpace, pcs: pcs, truncated: !(stack?.complete ?? false),
                                    python: python ?? [])
        let (index, isNew) = store.intern(key)
        let space = Int(process.addressSpace)
        if isNew, !pcs.isEmpty, process.endNs == nil, !addressSpaces[space].covers(pcs) {
            if Clock.now() &- addressSpaces[space].lastRefreshNs > 20_000_000 {
                addressSpaces[space].refresh()
            } else {
                addressSpaces[space].stale = true  // re-read after a later tick (refreshStaleMappings)
                anyStaleMappings = true
            }
        }
        return index
    }

    /// A Python thread blocked on its GIL's futex, or asking for the GIL (3.15+), waits for the GIL.
    static func refine(_ state: ThreadState, wait: WaitInfo?, python: PythonSample?) -> ThreadState {
        (state == .lockWait || state == .other) && python?.waitsForGIL(wait) == true ? .gilWait : state
    }

    /// Appends one sample. `cost` (when given) is when work on this sample began.
    /// Returns the interned stack and wait indices and the state recorded (-1, -1 when the
    /// process is unknown).
    @discardableResult
    func record(_ thread: TracedThread, timeNs: UInt64, state: ThreadState, wait: WaitInfo?, stack: Unwinder.Result?,
                cost began: UInt64?, python: PythonSample? = nil) -> (stack: Int32, wait: Int32, state: ThreadState) {
        guard let process = processes[thread.pid] else { return (-1, -1, state) }
        let state = Self.refine(state, wait: wait, python: python)
        let complete = stack?.complete ?? false
        let index = intern(stack, python: python?.frames, in: process)
        if complete { stats.stacksComplete += 1 }
        if stack?.failed ?? false { stats.unwindErrors += 1 }
        stats.samplesTaken += 1
        let waitIndex = store.intern(wait)
        store.samples.append(RawStore.Sample(timeNs: timeNs, thread: thread.row, pid: thread.pid, tid: thread.tid, stack: index,
                                             state: state, wait: waitIndex, holdsGIL: python?.holdsGIL))
        if let began {
            let cost = Clock.now() - began
            sampleCosts.append(UInt32(min(cost, UInt64(UInt32.max))))
        }
        return (index, waitIndex, state)
    }
}

/// Counts of one tick's reused samples, added to the recording's stats at its end.
struct ReuseTally {
    var reused = 0, onEvents = 0, complete = 0, failed = 0

    func add(to stats: inout RecordingStats) {
        guard reused > 0 else { return }
        stats.samplesTaken += reused
        stats.reusedSamples += reused
        stats.reusedOnEvents += onEvents
        stats.stacksComplete += complete
        stats.unwindErrors += failed
    }
}

/// A blocked thread's last sample, kept while the thread provably has not run since: the
/// reuse rule of docs/recording.md ("Cost proportional to activity").
///
/// The scheduler counters were read *before* the stack was read, and the stack was read
/// consistently (schedstat unchanged after it, or the same /proc/TID/syscall line before
/// and after). If at a later tick
/// /proc/TID/syscall reads the same line — which the kernel prints only for a thread that
/// is off CPU and not runnable — and *then* its schedstat is unchanged — run time,
/// run-queue wait and the number of times it was put on a CPU — it has not executed one
/// instruction in between and was asleep at the syscall read: its registers, its stack,
/// its Python frames and the system call it is in are those that were read. Reusing the
/// sample is then exact, not an estimate.
/// The entry lives in its `TracedThread`, so a new thread that reuses the id, and the
/// thread itself after an exec (a new address space), never see it. A class: the tick
/// looks it up for every idle thread, and a reference costs one retain, not one per field.
final class ReusableSample {
    // What every tick reads of an idle thread's sample comes first, in one cache line.
    /// The drain of the scheduler events before the thread was last read or checked
    /// asleep (`TraceSession.quietOnEvents`): a later drain naming it ends reuse on events.
    var quietSince: UInt64
    let addressSpace: Int32
    let stack: Int32
    let wait: Int32
    let state: ThreadState
    let complete: Bool
    let failed: Bool
    /// It had a Python sample (its GIL holding is re-read at each reuse).
    let python: Bool
    /// Whether CPython had been found in the process at the read: once it is found, a
    /// sample read before (without Python frames) is not reused.
    let pythonKnown: Bool
    /// Whether it held the GIL (nil: not a Python thread, or no GIL).
    let holdsGIL: Bool?
    /// For a mutex wait: the wait and how to look its owner up again (another thread's
    /// data, which can change while this thread sleeps); nil otherwise.
    let ownerLookup: OwnerLookup?
    /// The /proc/TID/syscall line of the consistent read (never "running").
    let syscallLine: [UInt8]
    /// schedstat read before the stack.
    let sched: SchedStat

    final class OwnerLookup {
        let waitInfo: WaitInfo
        let query: TraceSession.OwnerQuery
        init(waitInfo: WaitInfo, query: TraceSession.OwnerQuery) {
            self.waitInfo = waitInfo
            self.query = query
        }
    }

    init(syscallLine: [UInt8], sched: SchedStat, addressSpace: Int32, stack: Int32, wait: Int32, state: ThreadState,
         complete: Bool, failed: Bool, python: Bool, holdsGIL: Bool?, waitInfo: WaitInfo?,
         ownerQuery: TraceSession.OwnerQuery?, pythonKnown: Bool, quietSince: UInt64) {
        self.syscallLine = syscallLine
        self.sched = sched
        self.addressSpace = addressSpace
        self.stack = stack
        self.wait = wait
        self.state = state
        self.complete = complete
        self.failed = failed
        self.python = python
        self.holdsGIL = holdsGIL
        if let ownerQuery, let waitInfo {
            ownerLookup = OwnerLookup(waitInfo: waitInfo, query: ownerQuery)
        } else {
            ownerLookup = nil
        }
        self.pythonKnown = pythonKnown
        self.quietSince = quietSince
    }

    /// The rest of the rule, once the syscall line matched (`TaskFiles.syscallLineIs`).
    func stillValid(sched now: SchedStat, addressSpace space: Int32) -> Bool {
        // slices > 0: a kernel that reports schedstat as zeros (no scheduler statistics)
        // proves nothing, so nothing is reused there.
        now == sched && now.slices > 0 && space == addressSpace
    }
}
