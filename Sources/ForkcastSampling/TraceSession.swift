import Foundation
import ForkcastModel
import ForkcastSystem

/// One recording, run entirely on the tracer thread: attach or launch, then a loop that
/// handles every ptrace event and takes a sample of every thread at each tick, then
/// detach. Events are handled by one function whatever the phase (sampling, idle,
/// detaching), because any of them can arrive at any time.
final class TraceSession {
    let options: RecordOptions
    let periodNs: UInt64
    var startNs: UInt64 = 0
    var startWall = Date()

    var processes: [Int32: TracedProcess] = [:]
    var processOrder: [Int32] = []
    var threads: [Int32: TracedThread] = [:]
    var threadOrder: [Int32] = []
    /// The threads a tick visits, in creation order: every thread added, with exited ones
    /// compacted away by the tick (so a tick's cost follows the live threads, not every id
    /// ever seen).
    var tickThreads: [TracedThread] = []
    /// Processes met after the start, to be warmed in idle time (WarmUp.swift).
    var coldProcesses: [Int32] = []
    /// Some address space has `stale` mappings to re-read.
    var anyStaleMappings = false
    /// Every thread and process ever traced, in creation order: the kernel reuses ids
    /// (past pid_max), so the id-keyed tables hold only the latest of each id.
    var allThreads: [TracedThread] = []
    var allProcesses: [TracedProcess] = []
    var rootPid: Int32 = 0
    var rootCommand: [String] = []
    var mode: RecordingInfo.Mode = .launch
    var launchedPid: Int32?
    var stoppedChild: Subprocess.StoppedChild?
    var rootExecSeen = false
    var rootExit: ExitInfo?
    var stopSignal: Int32?
    var store = RawStore()
    var stats = RecordingStats()
    var sampleCosts: [UInt32] = []
    let fdDescriber = FDDescriber()
    var addressSpaces: [AddressSpace] = []
    var notes: [String] = []
    /// New threads and processes seen (their first stop) before their parent's
    /// clone/fork event: the event, when it comes, announces a thread already registered —
    /// which may have exited meanwhile and must not be registered again as alive.
    var seenBeforeAnnounced: Set<Int32> = []
    var python: PythonSampling
    /// The kernel's scheduler events (`SchedActivity`), when they can be read: idle
    /// threads are then reused with no read at all (docs/recording.md).
    var activity: SchedActivity?
    /// Counts drains of `activity`: a thread's `lastActive` and a reusable sample's
    /// `quietSince` are drain numbers.
    var activityGeneration: UInt64 = 1
    /// The drain that found events lost: samples kept before it cannot rely on events.
    var activityLostAt: UInt64 = 0
    var lastDrainNs: UInt64 = 0
    /// SIGCHLD arrived since the last waitpid poll.
    var childEventPending = true
    /// A SIGCHLD since the last full poll named a thread that no stop was expected from
    /// (a clone, an exit, a signal): the next poll walks every tracee.
    var unexpectedChildEvent = true
    /// Threads sent PTRACE_INTERRUPT whose stop may not have been handled yet. After a
    /// SIGCHLD the loop waits for each of them by id — one task for the kernel to look at —
    /// rather than with waitpid(-1), which walks every tracee (`drainExpectedStops`).
    var awaitingStop: [TracedThread] = []
    /// When the last ptrace event came that no tick had asked for (`fullPollPeriodNs`).
    var lastUnexpectedEventNs: UInt64 = 0
    /// Every thread of this process blocks SIGCHLD (the `forkcast` executable does so first
    /// thing), so the tracer's sigtimedwait sees every one and waitpid is polled only after one.
    var childSignalsReliable = false
    /// threading.Thread names by tid, refreshed while the interpreters live.
    var pythonNames: [Int32: String] = [:]
    var lastPythonNamesNs: UInt64 = 0
    /// Shared by Python detection (symbol lookups while recording) and the final
    /// symbolization, so each ELF file is read once.
    let symbolizer: Symbolizer
    /// The whole machine's CPU use (`/proc/stat`), read about every 100 ms (MachineMonitor.swift).
    var machine = MachineMonitor()

    init(options: RecordOptions) {
        self.options = options
        periodNs = UInt64(max(1, 1e9 / max(options.rateHz, 0.001)))
        python = PythonSampling(enabled: options.pythonFrames)
        symbolizer = Symbolizer(debugDirectories: options.debugDirectories)
    }

    // MARK: - Run

    func run(_ target: RecordTarget) throws -> RecordingOutcome {
        let cpuStart = Clock.threadCPU()
        // Before any thread is read: a sample kept for reuse must not miss a wake-up.
        openSchedulerEvents()
        defer { activity?.close() }
        switch target {
        case .attach(let pid): try attach(pid)
        case .launch(let exe, let args, let env, let io): try launch(executable: exe, arguments: args, environment: env, io: io)
        }
        options.onStart?(rootPid)
        // The tracer thread (only it: the target is already forked) gets a higher priority,
        // so a busy target does not delay ticks (measured: interrupt-to-stop p99 19 ms →
        // 4 ms on a loaded 2-core machine). Needs CAP_SYS_NICE; harmless without it.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, -10)
        let reason = loop()
        noteSchedulerEventLosses()
        machine.finish(now: Clock.now())
        refreshPythonNames()
        // A thread renamed after its last full read (reused samples do not read its name,
        // e.g. one that names itself just after its first sample) gets its name now.
        for thread in tickThreads where thread.phase != .exited {
            if let name = ProcFS.threadName(pid: thread.pid, tid: thread.tid), !name.isEmpty { thread.name = name }
        }
        detachAll()
        if mode == .launch, !rootExecSeen, stoppedChild?.execReportPending == true, rootExit != nil,
           let error = stoppedChild?.execError(), let argv0 = rootCommand.first {
            throw RecordError.execFailed(argv0, error)
        }
        stats.tracerCPUNs = Clock.threadCPU() - cpuStart
        let durationNs = Clock.now() - startNs
        return RecordingOutcome(profile: finish(durationNs: durationNs, reason: reason), launchedPid: launchedPid,
                                rootExit: rootExit, endReason: reason, stopSignal: stopSignal)
    }

    private func loop() -> EndReason {
        var nextTick = Clock.now()
        let deadline = options.duration.map { startNs + UInt64($0 * 1e9) }
        machine.start(now: nextTick, startNs: startNs)
        var lastPollNs: UInt64 = 0
        while true {
            // waitpid(-1, __WALL) walks every tracee in the kernel (15% of the tracer's time
            // with 2,000 threads when polled at each turn). Where every SIGCHLD reaches this
            // thread, and no ptrace event came unasked in the last second: the stops the tick
            // asked for are waited for by id, and every tracee is walked when a SIGCHLD named
            // another thread, when no asked-for stop was ready, and every 10–100 ms
            // (`fullPollPeriodNs`: SIGCHLDs merge, the one taken may hide another).
            // Otherwise — a program making threads or processes, or a library caller that
            // does not block SIGCHLD — every tracee at every SIGCHLD (every turn for the
            // library caller): a clone's event is never left waiting behind a merged signal.
            var now = Clock.now()
            let churning = now &- lastUnexpectedEventNs <= 1_000_000_000
            let full = !childSignalsReliable || unexpectedChildEvent || now &- lastPollNs >= fullPollPeriodNs(now: now)
            if full || childEventPending {
                childEventPending = false
                if full || churning || !drainExpectedStops() {
                    unexpectedChildEvent = false
                    lastPollNs = now
                    drainEvents()
                }
                if liveThreadCount == 0 { return .targetExited }
                now = Clock.now()  // handling the events took time
            }
            if let signal = stopSignal { return signal == SIGINT ? .interrupted : .terminated }
            if let deadline, now >= deadline { return .duration }
            if now >= nextTick {
                drainSchedulerEvents()
                if now > nextTick + periodNs { stats.lateTicks += 1 }
                tick(now: now)
                machine.poll(now: now)
                nextTick += periodNs
                let after = Clock.now()
                if nextTick < after { nextTick = after + periodNs / 4 }  // fell behind: don't burst
                continue
            }
            var wait = Int64(nextTick - now)
            if let deadline { wait = min(wait, Int64(deadline - now)) }
            if warmNext(budgetNs: UInt64(wait)) { continue }  // idle time: warm a new process
            // Between ticks too, at least every 50 ms, so a slow rate does not overflow a ring.
            if activity != nil, now &- lastDrainNs >= 50_000_000 { drainSchedulerEvents() }
            waitForSignal(timeoutNs: min(wait, 50_000_000))
        }
    }

    /// Waits for SIGCHLD (events) or a stop signal (recorded in `stopSignal`).
    private func waitForSignal(timeoutNs: Int64) {
        guard let (signal, sender) = TracerSignals.receive(timeoutNs: max(timeoutNs, 0)) else { return }
        if signal == SIGCHLD {
            childEventPending = true
            noteChildSignal(from: sender)
        } else if stopSignal == nil {
            stopSignal = signal
        }
    }

    var liveThreadCount: Int {
        tickThreads.reduce(0) { $0 + ($1.phase == .exited ? 0 : 1) }
    }

    // MARK: - Starting

    private func attach(_ pid: Int32) throws {
        mode = .attach
        guard ProcFS.exists(pid: pid), let ids = ProcFS.ids(tid: pid), ids.tgid == pid else {
            throw RecordError.noSuchProcess(pid)
        }
        rootPid = pid
        rootCommand = ProcFS.commandLine(pid: pid)
        startNs = Clock.now()
        startWall = Date()
        // The process and every descendant alive now; threads listed until stable
        // (threads cloned by an already-seized thread are attached automatically).
        var queue = [pid]
        var seen = Set<Int32>()
        while let p = queue.first {
            queue.removeFirst()
            guard seen.insert(p).inserted else { continue }
            let ppid = p == pid ? (ProcFS.ids(tid: p)?.ppid ?? 0) : (ProcFS.ids(tid: p)?.ppid ?? 0)
            let process = addProcess(pid: p, ppid: ppid, origin: "attached", startNs: 0)
            for _ in 0..<10 {
                var added = false
                for tid in ProcFS.threadIDs(pid: p) where threads[tid] == nil {
                    do {
                        try Ptrace.seize(tid)
                    } catch let error as SystemError {
                        guard error.isPermission else { continue }  // the thread ended meanwhile
                        // A thread that is exiting refuses a seize with EPERM too (the kernel's
                        // PF_EXITING check): a server's backend ending as we attach must not
                        // cost the recording. Gone by now: it was that. The root itself, or a
                        // thread of it, that is still there: not permitted. A descendant still
                        // there (traced by another tracer, another user's): left out, noted.
                        usleep(2_000)
                        guard access("/proc/\(p)/task/\(tid)", F_OK) == 0, ProcFS.ids(tid: tid) != nil else { continue }
                        if p == pid { throw RecordError.notPermitted(pid: p, detail: error.description) }
                        notes.append("process \(p) (\(ProcFS.commandLine(pid: p).first ?? "?")), thread \(tid), not recorded: \(error.description)")
                        continue
                    }
                    let thread = addThread(tid: tid, pid: p, phase: .running, startNs: 0)
                    process.threads.insert(tid)
                    _ = thread
                    added = true
                }
                if !added { break }
            }
            if p != pid, process.threads.isEmpty, allProcesses.last === process {
                // Not one thread seized (it was exiting, or may not be traced: noted above):
                // not a process of this recording.
                processes[p] = nil
                processOrder.removeAll { $0 == p }
                allProcesses.removeLast()
            }
            queue.append(contentsOf: childProcesses(of: p))
        }
        if processes[pid]?.threads.isEmpty ?? true { throw RecordError.noSuchProcess(pid) }
        // Warm every process before the first tick, then start the clock: the recording
        // runs at full rate from its first tick (WarmUp.swift).
        warmAll()
        startNs = Clock.now()
        startWall = Date()
    }

    private func childProcesses(of pid: Int32) -> [Int32] {
        ProcFS.allPIDs().filter { p in
            guard p != pid, p != getpid(), let ids = ProcFS.ids(tid: p) else { return false }
            return ids.ppid == pid && ids.tgid == p
        }
    }

    private func launch(executable: String, arguments: [String], environment: [String], io: LaunchIO) throws {
        mode = .launch
        rootCommand = arguments
        let spawned: Subprocess.StoppedChild
        do {
            spawned = try Subprocess.spawnStopped(executable: executable, arguments: arguments, environment: environment,
                                                workingDirectory: io.workingDirectory, standardOutput: io.standardOutput,
                                                standardError: io.standardError)
        } catch {
            throw RecordError.launchFailed("\(error)")
        }
        let pid = spawned.pid
        stoppedChild = spawned
        launchedPid = pid
        rootPid = pid
        // The child stops itself before exec; seize it there so exec is followed.
        let first = try Wait.untraced(pid)
        guard case .stopped = first else {
            if let error = spawned.execError() {
                throw RecordError.execFailed(io.workingDirectory.map { "\(executable) in \($0)" } ?? executable, error)
            }
            throw RecordError.launchFailed("the child ended before it could be traced")
        }
        do {
            try Ptrace.seize(pid)
        } catch let error as SystemError {
            _ = Subprocess.signal(pid, SIGKILL)
            _ = try? Wait.untraced(pid)
            if error.isPermission { throw RecordError.notPermitted(pid: pid, detail: error.description) }
            throw RecordError.launchFailed(error.description)
        }
        startNs = Clock.now()
        startWall = Date()
        let process = addProcess(pid: pid, ppid: getpid(), origin: "launched", startNs: 0)
        process.command = arguments
        process.executable = executable
        process.awaitingExec = true
        _ = addThread(tid: pid, pid: pid, phase: .running, startNs: 0)
        process.threads.insert(pid)
        _ = Subprocess.signal(pid, SIGCONT)
    }

    // MARK: - Bookkeeping

    @discardableResult
    func addProcess(pid: Int32, ppid: Int32, origin: String, startNs: UInt64) -> TracedProcess {
        if let existing = processes[pid], existing.endNs == nil { return existing }
        let p = TracedProcess(pid: pid, ppid: ppid, origin: origin, startNs: startNs)
        p.command = ProcFS.commandLine(pid: pid)
        p.executable = ProcFS.executable(pid: pid)
        p.addressSpace = newAddressSpace(pid: pid, forkedFrom: origin == "fork" || origin == "vfork" ? ppid : nil)
        p.unwinder = Unwinder(pid: pid, maxFrames: options.maxFrames,
                              foreignRoot: addressSpaces[Int(p.addressSpace)].root != nil)
        if processes[pid] == nil { processOrder.append(pid) }
        processes[pid] = p
        allProcesses.append(p)
        return p
    }

    @discardableResult
    func addThread(tid: Int32, pid: Int32, phase: TracedThread.Phase, startNs: UInt64) -> TracedThread {
        if let existing = threads[tid], existing.phase != .exited { return existing }
        let t = TracedThread(tid: tid, pid: pid, phase: phase, startNs: startNs)
        t.files = try? TaskFiles(pid: pid, tid: tid)
        t.name = ProcFS.threadName(pid: pid, tid: tid) ?? ""
        if threads[tid] == nil { threadOrder.append(tid) }
        threads[tid] = t
        t.row = Int32(allThreads.count)
        allThreads.append(t)
        tickThreads.append(t)
        return t
    }

    /// A new address space for `pid`, its maps read now — or, for a child just forked from
    /// a traced parent (same root), the parent's: a fork copies them, and a shell script
    /// forking hundreds of subshells spent most of the tracer's time reading and parsing
    /// identical maps. A later exec gets its own address space; a pc outside the copy
    /// marks it stale and re-reads it.
    func newAddressSpace(pid: Int32, forkedFrom parent: Int32? = nil) -> Int32 {
        let id = Int32(addressSpaces.count)
        var space = AddressSpace(pid: pid)
        if let parent, let source = processes[parent].flatMap({ $0.endNs == nil ? addressSpaces[Int($0.addressSpace)] : nil }),
           space.root == nil, source.root == nil, !source.mappings.isEmpty {
            space.mappings = source.mappings
            space.map = source.map
            space.lastRefreshNs = Clock.now()
            addressSpaces.append(space)
            return id
        }
        addressSpaces.append(space)
        addressSpaces[Int(id)].refresh()
        return id
    }

    var elapsed: UInt64 { Clock.now() - startNs }

    // MARK: - Events

    /// A SIGCHLD for `sender`: news the tick did not ask for makes the next poll a full one.
    private func noteChildSignal(from sender: Int32) {
        if sender <= 0 || threads[sender]?.phase != .interrupting { unexpectedChildEvent = true }
    }

    /// How long the loop may go without walking every tracee, when each SIGCHLD reaches it.
    /// The walk only finds what a merged SIGCHLD hid — a clone, an exit or a signal that
    /// came while the SIGCHLD of an asked-for stop was pending. 10 ms; with many tracees
    /// (the walk costs about 0.2 µs each: 40 ms of every second at 2,000 threads) and no such
    /// event in the last second, up to 100 ms: the first event after a quiet second, if its
    /// SIGCHLD merged, waits that long once; from then on every SIGCHLD walks them all.
    func fullPollPeriodNs(now: UInt64) -> UInt64 {
        let base: UInt64 = 10_000_000
        guard now &- lastUnexpectedEventNs > 1_000_000_000 else { return base }
        return min(max(base, UInt64(tickThreads.count) * 50_000), 100_000_000)
    }

    /// Waits, by id, for the stops the tick asked for (`awaitingStop`) and handles those
    /// that are ready. Returns false when none was: the SIGCHLD was for something else, and
    /// the caller walks every tracee.
    private func drainExpectedStops() -> Bool {
        var handledAny = false
        // Until a pass finds nothing: a SIGCHLD taken below may be that of a stop whose
        // thread this pass had already looked at.
        while true {
            var handled = false
            var i = 0
            while i < awaitingStop.count {
                let thread = awaitingStop[i]
                if thread.phase == .interrupting, let event = try? Wait.next(thread.tid, block: false) {
                    // Taken first: the SIGCHLD of the event handled now must not cause a walk
                    // later; one for a thread no stop was asked of makes the next poll full.
                    if let sender = TracerSignals.takePendingChildSignal() { noteChildSignal(from: sender) }
                    handle(event)
                    handled = true
                }
                if thread.phase == .interrupting {
                    i += 1
                } else {
                    awaitingStop.swapAt(i, awaitingStop.count - 1)
                    awaitingStop.removeLast()
                }
            }
            guard handled else { return handledAny }
            handledAny = true
        }
    }

    /// Handles every ptrace event that is ready, without blocking.
    func drainEvents() {
        while true {
            // A SIGCHLD raised before this poll is for an event this poll sees: taken now,
            // it does not send the loop into one more walk of every tracee afterwards.
            if childSignalsReliable { _ = TracerSignals.takePendingChildSignal() }
            switch (try? Wait.poll()) ?? .nothingReady {
            case .event(let event):
                if threads[event.tid]?.phase != .interrupting { lastUnexpectedEventNs = Clock.now() }
                handle(event)
            case .nothingReady:
                awaitingStop.removeAll { $0.phase != .interrupting }
                return
            case .noneLeft:
                // Nothing is left to wait for, so every thread still counted live is gone
                // without its exit having been reported to us: end them now, said in a note.
                endUnreported()
                return
            }
        }
    }

    /// Ends the threads counted live when the kernel says no tracee is left.
    private func endUnreported() {
        let gone = tickThreads.filter { $0.phase != .exited }
        guard !gone.isEmpty else { return }
        for thread in gone { ended(tid: thread.tid, exit: nil) }
        notes.append("\(gone.count) thread\(gone.count == 1 ? "" : "s") ended without an exit report (no tracee was left); "
                     + "their last samples stand")
    }

    func handle(_ event: WaitEvent) {
        switch event {
        case .exited(let tid, let code):
            ended(tid: tid, exit: ExitInfo(code: code))
        case .killed(let tid, let signal, let core):
            ended(tid: tid, exit: ExitInfo(signal: signal, signalName: SignalNames.name(signal), coreDumped: core))
        case .stopped(let tid, let signal, let event):
            guard let thread = threads[tid], thread.phase != .exited else {
                firstSight(tid: tid, signal: signal, event: event)
                return
            }
            stopped(thread, signal: signal, event: event)
        }
    }

    /// A stop of a thread we do not know yet: a new thread or process whose first stop
    /// arrived before its parent's clone/fork event.
    private func firstSight(tid: Int32, signal: Int32, event: Int32) {
        guard let ids = ProcFS.ids(tid: tid) else {
            try? Ptrace.cont(tid)
            return
        }
        register(newTid: tid, tgid: ids.tgid, ppid: ids.ppid, origin: ids.tgid == tid ? "fork" : "clone")
        seenBeforeAnnounced.insert(tid)
        if let thread = threads[tid] {
            stopped(thread, signal: signal, event: event)
        }
    }

    private func register(newTid: Int32, tgid: Int32, ppid: Int32, origin: String) {
        if let existing = threads[newTid], existing.phase != .exited { return }
        let live = processes[tgid].flatMap { $0.endNs == nil ? $0 : nil }
        let process = live ?? addProcess(pid: tgid, ppid: ppid, origin: origin, startNs: elapsed)
        if live == nil { noteCold(process) }
        addThread(tid: newTid, pid: tgid, phase: .newborn, startNs: elapsed)
        process.threads.insert(newTid)
    }

    private func stopped(_ thread: TracedThread, signal: Int32, event: Int32) {
        let tid = thread.tid
        switch event {
        case WaitEvent.PtraceEvent.clone, WaitEvent.PtraceEvent.fork, WaitEvent.PtraceEvent.vfork:
            if let message = try? Ptrace.eventMessage(tid) {
                let child = Int32(truncatingIfNeeded: message)
                if seenBeforeAnnounced.remove(child) != nil {
                    // Registered at its first stop (and perhaps already exited: a subshell
                    // that ran `echo` and ended before this event was read).
                    if event != WaitEvent.PtraceEvent.clone, let p = processes[child] {
                        p.origin = event == WaitEvent.PtraceEvent.fork ? "fork" : "vfork"
                        p.ppid = thread.pid
                    }
                } else if event == WaitEvent.PtraceEvent.clone {
                    register(newTid: child, tgid: thread.pid, ppid: processes[thread.pid]?.ppid ?? 0, origin: "clone")
                } else {
                    register(newTid: child, tgid: child, ppid: thread.pid, origin: event == WaitEvent.PtraceEvent.fork ? "fork" : "vfork")
                    processes[child]?.origin = event == WaitEvent.PtraceEvent.fork ? "fork" : "vfork"
                    processes[child]?.ppid = thread.pid
                }
            }
            resume(thread)
        case WaitEvent.PtraceEvent.exec:
            execed(thread)
            resume(thread)
        case WaitEvent.PtraceEvent.stop:
            if signal == SIGSTOP || signal == SIGTSTP || signal == SIGTTIN || signal == SIGTTOU {
                // Group stop (job control): stay stopped, but keep receiving events.
                if thread.phase == .interrupting { completePendingSample(thread, stack: nil) }
                thread.phase = .jobStopped
                try? Ptrace.listen(tid)
            } else if thread.phase == .interrupting {
                takeStoppedSample(thread)
                resume(thread)
            } else {
                // A new thread's first stop, or the stop after SIGCONT ends a group stop.
                resume(thread)
            }
        case WaitEvent.PtraceEvent.vforkDone:
            resume(thread)
        default:
            // Signal-delivery stop: pass the signal on. A pending PTRACE_INTERRUPT is
            // dropped by this stop, so ask again.
            let wasInterrupting = thread.phase == .interrupting
            do {
                try Ptrace.cont(tid, signal: signal)
                thread.phase = wasInterrupting ? .interrupting : .running
                if wasInterrupting { try? Ptrace.interrupt(tid) }
            } catch {
                thread.phase = .running
            }
        }
    }

    private func resume(_ thread: TracedThread) {
        do {
            try Ptrace.cont(thread.tid)
            thread.phase = .running
        } catch {
            // Gone meanwhile; its exit status will follow.
            thread.phase = .running
        }
    }

    private func execed(_ thread: TracedThread) {
        let pid = thread.pid
        guard let process = processes[pid] else { return }
        let formerTid = (try? Ptrace.eventMessage(thread.tid)).map { Int32(truncatingIfNeeded: $0) } ?? thread.tid
        // Every other thread of the process is gone; the execing thread now has tid == pid.
        for tid in process.threads where tid != thread.tid {
            if let other = threads[tid], other.phase != .exited {
                if other.phase == .interrupting { completePendingSample(other, stack: nil) }
                other.phase = .exited
                other.endNs = elapsed
                other.files?.close()
                other.files = nil
            }
        }
        process.threads = [thread.tid]
        if formerTid != thread.tid, let former = threads[formerTid] {
            former.phase = .exited
            former.endNs = elapsed
        }
        process.command = ProcFS.commandLine(pid: pid)
        process.executable = ProcFS.executable(pid: pid)
        process.addressSpace = newAddressSpace(pid: pid)
        process.unwinder = Unwinder(pid: pid, maxFrames: options.maxFrames,
                                    foreignRoot: addressSpaces[Int(process.addressSpace)].root != nil)
        process.execCount += 1
        process.awaitingExec = false
        process.runtime = nil
        python.forget(pid: pid)
        noteCold(process)
        thread.files = try? TaskFiles(pid: pid, tid: thread.tid)
        thread.name = ProcFS.threadName(pid: pid, tid: thread.tid) ?? thread.name
        thread.lastSched = nil
        thread.reusable = nil
        if pid == rootPid, !rootExecSeen {
            rootExecSeen = true
            rootCommand = process.command.isEmpty ? rootCommand : process.command
            stoppedChild?.forgetExecReport()
        }
    }

    private func ended(tid: Int32, exit: ExitInfo?) {
        guard let thread = threads[tid] else { return }
        if thread.phase == .interrupting { completePendingSample(thread, stack: nil) }
        if thread.phase != .exited {
            thread.phase = .exited
            thread.endNs = elapsed
        }
        thread.files?.close()
        thread.files = nil  // an exited thread keeps no /proc descriptors or read buffer
        let pid = thread.pid
        guard tid == pid, let process = processes[pid], process.endNs == nil else { return }
        // The leader is reported last: the whole process is gone.
        process.endNs = elapsed
        process.exit = exit
        process.unwinder = nil
        python.forget(pid: pid)
        for other in process.threads {
            if let t = threads[other], t.phase != .exited {
                if t.phase == .interrupting { completePendingSample(t, stack: nil) }
                t.phase = .exited
                t.endNs = elapsed
                t.files?.close()
                t.files = nil
            }
        }
        if pid == rootPid {
            rootExit = exit
        }
    }

    // MARK: - Detaching

    /// Leaves every traced thread running and untraced. Threads must be in a ptrace stop
    /// to be detached, so each is interrupted first; a thread that does not stop in time
    /// (uninterruptible sleep) is detached by the kernel when Forkcast exits.
    func detachAll() {
        var pending = Set<Int32>()
        for (tid, thread) in threads where thread.phase != .exited {
            if thread.phase == .interrupting {
                pending.insert(tid)  // its sampling stop is coming
                continue
            }
            if thread.phase == .newborn {
                pending.insert(tid)  // its first stop is coming
                continue
            }
            if (try? Ptrace.interrupt(tid)) != nil { pending.insert(tid) }
        }
        let deadline = Clock.now() + 3_000_000_000
        while !pending.isEmpty, Clock.now() < deadline {
            guard let event = (try? Wait.next(block: false)) ?? nil else {
                _ = TracerSignals.wait(timeoutNs: 1_000_000)
                continue
            }
            switch event {
            case .exited(let tid, let code):
                pending.remove(tid)
                ended(tid: tid, exit: ExitInfo(code: code))
            case .killed(let tid, let signal, let core):
                pending.remove(tid)
                ended(tid: tid, exit: ExitInfo(signal: signal, signalName: SignalNames.name(signal), coreDumped: core))
            case .stopped(let tid, let signal, let event):
                if event == WaitEvent.PtraceEvent.clone || event == WaitEvent.PtraceEvent.fork || event == WaitEvent.PtraceEvent.vfork,
                   let message = try? Ptrace.eventMessage(tid) {
                    pending.insert(Int32(truncatingIfNeeded: message))  // auto-attached: detach it too
                }
                if event == WaitEvent.PtraceEvent.stop, let thread = threads[tid], thread.pending != nil {
                    takeStoppedSample(thread)  // the last tick's sample, then let it go
                }
                let deliver: Int32 = event == 0 ? signal : 0
                try? Ptrace.detach(tid, signal: deliver)
                pending.remove(tid)
                threads[tid]?.phase = .exited
                threads[tid]?.files?.close()
            }
        }
        // Threads that never stopped keep what /proc said, without a stack.
        for thread in threads.values where thread.pending != nil { completePendingSample(thread, stack: nil) }
    }
}

/// A traced thread.
final class TracedThread {
    enum Phase: Equatable {
        /// Seen (clone/fork event) but its first ptrace stop has not been reported yet.
        case newborn
        /// Running or blocked, not in a ptrace stop.
        case running
        /// PTRACE_INTERRUPT sent for a sample; waiting for the stop.
        case interrupting
        /// In a job-control group stop (PTRACE_LISTEN).
        case jobStopped
        case exited
    }

    // What every tick reads of every idle thread comes first, so that it shares one or
    // two cache lines: with 2,000 threads, the loads of fields scattered over the object
    // were most of the tick's own time.
    let tid: Int32
    var pid: Int32
    /// This thread's row in the profile's thread table (its index in `allThreads`): a
    /// thread id the kernel reuses gets a new `TracedThread`, so a new row.
    var row: Int32 = -1
    var phase: Phase
    /// The last in-place sample of this thread while blocked, reused at ticks where the
    /// thread provably has not run since (see `ReusableSample`).
    var reusable: ReusableSample?
    /// The last drain of the scheduler events that saw this thread woken or put on a CPU.
    var lastActive: UInt64 = 0
    /// The open run of samples reused on the events (`RawStore.Run`): its sample, the pid
    /// then, and its first and last ticks.
    var runOf: ReusableSample?
    var runFirstTick: Int32 = 0
    var runLastTick: Int32 = -1
    var runPid: Int32 = 0
    /// The latest tick at which the thread was known not to have run since its last
    /// schedstat read (a reused sample): the end of its `account` window, if later.
    var quietAtNs: UInt64 = 0
    var name = ""
    /// When `name` was last read (since the recording's start, like `startNs`).
    var nameReadAt: UInt64 = 0
    let startNs: UInt64
    var endNs: UInt64?
    var files: TaskFiles?
    /// The thread's schedstat at its latest read. Every read also feeds `account`.
    var lastSched: SchedStat? {
        didSet { if let lastSched { account.note(lastSched, at: Clock.now()) } }
    }
    /// The kernel's accounting over the recording window (first to last schedstat read,
    /// or `quietAtNs`).
    var account = SchedAccount()
    /// The sample being taken: set when the interrupt is sent, completed at the stop.
    var pending: PendingSample?
    /// Registers read at this thread's last sampling stop: a blocked thread whose stack
    /// needs more than pc/sp (a frame-pointer caller above the syscall) is unwound with
    /// them, without stopping it again, while it blocks at the same pc and sp.
    var stoppedRegisters: Unwinder.Registers?

    init(tid: Int32, pid: Int32, phase: Phase, startNs: UInt64) {
        self.tid = tid
        self.pid = pid
        self.phase = phase
        self.startNs = startNs
    }
}

struct PendingSample {
    var timeNs: UInt64
    var state: ThreadState
    var requestedAt: UInt64
    /// What a blocked thread waits on, when it was stopped only to read its registers.
    var wait: WaitInfo? = nil
    /// Tracer time spent reading /proc and sending the interrupt.
    var requestCostNs: UInt64 = 0
    var unwindStartedAt: UInt64?
    /// Ticks that passed while the thread was on its way to this stop (bounded: a thread
    /// that never stops is completed without a stack when it exits or at detach).
    var laterTicks: [UInt64] = []
}

/// A traced process.
final class TracedProcess {
    let pid: Int32
    var ppid: Int32
    var origin: String
    let startNs: UInt64
    var endNs: UInt64?
    var exit: ExitInfo?
    var command: [String] = []
    var executable = ""
    var threads = Set<Int32>()
    var addressSpace: Int32 = 0
    var unwinder: Unwinder?
    var execCount = 0
    /// "CPython 3.11.7" once detected.
    var runtime: String?
    /// Mappings, unwinder and Python detection warmed, blocked threads read (WarmUp.swift).
    var warm = false
    /// A launched root before its first exec is still a copy of Forkcast: not sampled.
    var awaitingExec = false

    init(pid: Int32, ppid: Int32, origin: String, startNs: UInt64) {
        self.pid = pid
        self.ppid = ppid
        self.origin = origin
        self.startNs = startNs
    }
}

/// A thread's kernel CPU accounting between its first and last schedstat read: what
/// the scheduler measured, free of the sampler's timing (a sampler that looks at its own
/// wake-up sees a biased picture when the CPUs are saturated; see docs/analysis.md).
struct SchedAccount {
    private(set) var first: (sched: SchedStat, ns: UInt64)?
    private(set) var last: (sched: SchedStat, ns: UInt64)?

    mutating func note(_ sched: SchedStat, at ns: UInt64) {
        // Counters that go backwards belong to another task (a tid taken over at exec).
        if let l = last, sched.runNs < l.sched.runNs || sched.waitNs < l.sched.waitNs { first = nil }
        if first == nil { first = (sched, ns) }
        last = (sched, ns)
    }

    /// (on-CPU ns, run-queue ns, wall ns between the reads); nil until two reads apart
    /// in time, or on a kernel that reports no scheduler statistics (all zeros).
    /// `quietUntil`: a later time at which the counters were known unchanged since the
    /// last read (the thread provably did not run): the window ends there.
    func totals(quietUntil: UInt64 = 0) -> (cpuNs: UInt64, runqueueNs: UInt64, accountedNs: UInt64)? {
        guard let f = first, let l = last, l.sched.slices > 0 || l.sched.runNs > 0 else { return nil }
        let end = max(l.ns, quietUntil)
        guard end > f.ns else { return nil }
        return (l.sched.runNs - f.sched.runNs, l.sched.waitNs - f.sched.waitNs, end - f.ns)
    }
}

