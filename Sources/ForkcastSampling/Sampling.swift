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

    struct Sample {
        var timeNs: UInt64
        /// The thread's row (`TracedThread.row`).
        var thread: Int32
        var pid: Int32
        var tid: Int32
        var stack: Int32
        var state: ThreadState
        var wait: Int32
        var holdsGIL: Bool?
    }

    var stacks: [StackKey] = []
    var stackIndex: [StackKey: Int32] = [:]
    var waits: [WaitInfo] = []
    var waitIndex: [WaitInfo: Int32] = [:]
    var samples: [Sample] = []

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

    init(pid: Int32) { self.pid = pid }

    mutating func refresh() {
        guard let fresh = try? ProcMaps.read(pid: pid), !fresh.isEmpty else { return }
        lastRefreshNs = Clock.now()
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
        for tid in threadOrder {
            guard let thread = threads[tid], thread.phase == .running || thread.phase == .jobStopped || thread.phase == .interrupting
            else { continue }
            guard let files = thread.files, processes[thread.pid]?.awaitingExec != true, let stat = files.stat() else { continue }
            let began = Clock.now()
            if !stat.comm.isEmpty { thread.name = stat.comm }
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
                    _ = sampleBlocked(thread, files: files, timeNs: t, uninterruptible: true, began: began)
                }
                continue
            }
            switch stat.state {
            case UInt8(ascii: "R"):
                requestStop(thread, PendingSample(timeNs: t, state: Self.runState(previous, sched), requestedAt: began))
            case UInt8(ascii: "S"), UInt8(ascii: "D"):
                if !sampleBlocked(thread, files: files, timeNs: t, uninterruptible: stat.state == UInt8(ascii: "D"), began: began) {
                    requestStop(thread, PendingSample(timeNs: t, state: .onCPU, requestedAt: began))
                }
            case UInt8(ascii: "Z"), UInt8(ascii: "X"):
                continue
            case UInt8(ascii: "t"):
                continue  // in a ptrace stop whose event we have not handled yet
            default:
                record(thread, timeNs: t, state: .other, wait: nil, stack: nil, cost: began)
            }
        }
    }

    private func requestStop(_ thread: TracedThread, _ pending: PendingSample) {
        do {
            try Ptrace.interrupt(thread.tid)
            var pending = pending
            pending.requestCostNs = Clock.now() - pending.requestedAt
            thread.pending = pending
            thread.phase = .interrupting
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
        record(thread, timeNs: pending.timeNs, state: pending.state, wait: pending.wait, stack: stack, cost: nil, python: python)
        for later in pending.laterTicks {
            stats.missedStops += 1
            record(thread, timeNs: later, state: .runnable, wait: nil, stack: stack, cost: nil, python: python)
        }
        // Tracer time for this sample: reading /proc and sending the interrupt, then the
        // unwind and the bookkeeping (not the wait for the stop in between).
        let unwindCost = pending.unwindStartedAt.map { Clock.now() - $0 } ?? 0
        sampleCosts.append(UInt32(min(pending.requestCostNs + unwindCost, UInt64(UInt32.max))))
    }

    /// Samples a thread blocked in the kernel without stopping it: the syscall and its
    /// arguments say what it waits for; the user pc/sp let us unwind its stack from
    /// memory; re-reading the syscall afterwards proves the stack did not move.
    /// Returns false when the thread turned out to be running.
    private func sampleBlocked(_ thread: TracedThread, files: TaskFiles, timeNs: UInt64, uninterruptible: Bool, began: UInt64) -> Bool {
        guard let state = files.syscall() else {
            record(thread, timeNs: timeNs, state: .other, wait: nil, stack: nil, cost: began)
            return true
        }
        let pc: UInt64, sp: UInt64
        var threadState: ThreadState
        var wait: WaitInfo?
        switch state {
        case .running:
            return false
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
                    requestStop(thread, PendingSample(timeNs: timeNs, state: threadState, requestedAt: began, wait: wait))
                    return true
                }
            }
            if files.syscall() != state {
                // It woke while we read its stack: only the leaf is trustworthy.
                stats.inconsistentStacks += 1
                r = Unwinder.Result(pcs: [pc], complete: false, truncated: true, failed: false)
            }
            result = r
        }
        record(thread, timeNs: timeNs, state: threadState, wait: wait, stack: result, cost: began, python: pythonSample(thread))
        return true
    }

    private func firstPollFD(pid: Int32, address: UInt64, count: UInt64) -> Int32? {
        guard count > 0, address != 0 else { return nil }
        var fd: Int32 = -1
        let n = withUnsafeMutableBytes(of: &fd) { try? RemoteMemory.read(pid: pid, address: address, into: $0) }
        return n == 4 ? fd : nil
    }

    /// Appends one sample. `cost` (when given) is when work on this sample began.
    func record(_ thread: TracedThread, timeNs: UInt64, state: ThreadState, wait: WaitInfo?, stack: Unwinder.Result?,
                cost began: UInt64?, python: PythonSample? = nil) {
        guard let process = processes[thread.pid] else { return }
        // A Python thread blocked on its GIL's futex, or asking for the GIL (3.15+), waits for the GIL.
        let state = (state == .lockWait || state == .other) && python?.waitsForGIL(wait) == true ? .gilWait : state
        let pcs = stack?.pcs ?? []
        let complete = stack?.complete ?? false
        let key = RawStore.StackKey(addressSpace: process.addressSpace, pcs: pcs, truncated: !complete, python: python?.frames ?? [])
        let (index, isNew) = store.intern(key)
        if isNew, !pcs.isEmpty, !addressSpaces[Int(process.addressSpace)].covers(pcs), process.endNs == nil {
            addressSpaces[Int(process.addressSpace)].refresh()
        }
        if complete { stats.stacksComplete += 1 }
        if stack?.failed ?? false { stats.unwindErrors += 1 }
        stats.samplesTaken += 1
        store.samples.append(RawStore.Sample(timeNs: timeNs, thread: thread.row, pid: thread.pid, tid: thread.tid, stack: index, state: state,
                                             wait: store.intern(wait), holdsGIL: python?.holdsGIL))
        if let began {
            let cost = Clock.now() - began
            sampleCosts.append(UInt32(min(cost, UInt64(UInt32.max))))
        }
    }
}
