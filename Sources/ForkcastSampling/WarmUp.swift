import Foundation
import ForkcastModel
import ForkcastSystem

/// Warming a process before its threads are sampled, so that no tick pays for a cold
/// process (docs/recording.md, "Warm-up").
///
/// What is cold in a process Forkcast has just met: its mappings, the unwinder's view of
/// its ELF images (unwind tables, libunwind's caches), whether it runs CPython, and the
/// stacks of its blocked threads. Attaching to a 14-process server used to pay all of
/// that inside the first ticks, which then ran seconds late. Now:
///
/// - `record --pid`: every process of the tree is warmed after it is seized and before
///   the first tick; the recording's clock starts once they are warm.
/// - processes that appear later (fork, exec) are warmed in the tracer's idle time before
///   the next tick, oldest first, one per gap (lazily, but ahead of need); a tick that
///   comes first samples the process as it is.
///
/// Warming a process: re-read its mappings, try Python detection once, and read each of
/// its blocked threads in place (syscall, stack) exactly as a tick would. A consistent
/// read is kept as the thread's reusable sample, so the first tick reuses it when the
/// thread has not run since (the reuse rule is what makes this exact), and the unwinder's
/// caches hold the images those stacks go through.
extension TraceSession {
    /// Warms every process not warmed yet (attach, before the first tick).
    func warmAll() {
        for pid in processOrder {
            if let process = processes[pid], !process.warm { warmUp(process) }
        }
    }

    /// Warms the oldest process not warmed yet, if there is one and there is time
    /// (`budgetNs` until the next tick). Returns whether it did anything.
    func warmNext(budgetNs: UInt64) -> Bool {
        guard budgetNs > 2_000_000 else { return false }
        while let pid = coldProcesses.first {
            coldProcesses.removeFirst()
            guard let process = processes[pid], !process.warm, process.endNs == nil else { continue }
            if process.awaitingExec {
                continue  // still a copy of Forkcast; warmed after its exec
            }
            warmUp(process)
            return true
        }
        return false
    }

    func warmUp(_ process: TracedProcess) {
        process.warm = true
        guard process.endNs == nil, !process.awaitingExec else { return }
        if Clock.now() &- addressSpaces[Int(process.addressSpace)].lastRefreshNs > 10_000_000 {
            addressSpaces[Int(process.addressSpace)].refresh()  // older than 10 ms: re-read
        }
        warmPythonDetection(process)
        // Reads here are not samples: what they count is put back.
        let (inconsistent, pythonErrorsBefore) = (stats.inconsistentStacks, stats.pythonReadErrors)
        defer { (stats.inconsistentStacks, stats.pythonReadErrors) = (inconsistent, pythonErrorsBefore) }
        for tid in process.threads.sorted() {
            guard let thread = threads[tid], thread.phase == .running, thread.reusable == nil,
                  let files = thread.files, let stat = files.stat() else { continue }
            guard stat.state == UInt8(ascii: "S") || stat.state == UInt8(ascii: "D"), let sched = files.schedstat() else { continue }
            guard case .read(let read) = readBlocked(thread, files: files, uninterruptible: stat.state == UInt8(ascii: "D")),
                  read.consistent else { continue }
            let pythonErrors = stats.pythonReadErrors
            let python = pythonSample(thread)
            guard stats.pythonReadErrors == pythonErrors else { continue }
            let stack = intern(read.stack, python: python?.frames, in: process)
            let wait = store.intern(read.wait)
            keepForReuse(thread, read, state: Self.refine(read.state, wait: read.wait, python: python), sched: sched,
                         stack: stack, wait: wait, python: python)
            thread.lastSched = sched
        }
    }

    /// One Python detection attempt now (with the interpreter's tick begun, so the
    /// threads read next get their Python frames). A process that was already running
    /// when Forkcast attached has its interpreter loaded, if any: one attempt is enough.
    private func warmPythonDetection(_ process: TracedProcess) {
        guard python.enabled else { return }
        let pid = process.pid
        var state = python.processes[pid] ?? PythonSampling.ProcessState()
        if state.inspector == nil, !state.done {
            state.attempts += 1
            state.lastAttemptNs = Clock.now()
            detectPython(process, &state)
            if process.origin == "attached" { state.done = true }
        }
        if let inspector = state.inspector {
            state.readable = (try? inspector.beginTick()) != nil
        }
        python.processes[pid] = state
    }

    /// Marks a process met after the start as cold, to be warmed in idle time.
    func noteCold(_ process: TracedProcess) {
        process.warm = false
        coldProcesses.append(process.pid)
    }
}
