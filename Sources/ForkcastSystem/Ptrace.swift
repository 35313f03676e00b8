import CForkcastSys
import Foundation

/// Thin typed wrappers over ptrace and waitpid. Every call must come from the one OS
/// thread that attached (the tracer thread); see shared LINUX-NOTES.
public enum Ptrace {
    /// The options Forkcast seizes with: follow clone, fork, vfork and exec.
    public static let followOptions = UInt(FC_PTRACE_O_TRACECLONE | FC_PTRACE_O_TRACEFORK | FC_PTRACE_O_TRACEVFORK | FC_PTRACE_O_TRACEEXEC)

    public static func seize(_ tid: Int32, options: UInt = followOptions) throws {
        let r = fc_ptrace_seize(tid, options)
        if r < 0 { throw SystemError("ptrace(SEIZE, \(tid))", negated: r) }
    }
    public static func interrupt(_ tid: Int32) throws {
        let r = fc_ptrace_interrupt(tid)
        if r < 0 { throw SystemError("ptrace(INTERRUPT, \(tid))", negated: r) }
    }
    public static func cont(_ tid: Int32, signal: Int32 = 0) throws {
        let r = fc_ptrace_cont(tid, signal)
        if r < 0 { throw SystemError("ptrace(CONT, \(tid))", negated: r) }
    }
    public static func listen(_ tid: Int32) throws {
        let r = fc_ptrace_listen(tid)
        if r < 0 { throw SystemError("ptrace(LISTEN, \(tid))", negated: r) }
    }
    public static func detach(_ tid: Int32, signal: Int32 = 0) throws {
        let r = fc_ptrace_detach(tid, signal)
        if r < 0 { throw SystemError("ptrace(DETACH, \(tid))", negated: r) }
    }
    public static func eventMessage(_ tid: Int32) throws -> UInt {
        var message: UInt = 0
        let r = fc_ptrace_geteventmsg(tid, &message)
        if r < 0 { throw SystemError("ptrace(GETEVENTMSG, \(tid))", negated: r) }
        return message
    }
}

/// A decoded wait status.
public enum WaitEvent: Equatable, Sendable {
    case exited(tid: Int32, code: Int32)
    case killed(tid: Int32, signal: Int32, coreDumped: Bool)
    /// A ptrace stop: `signal` is WSTOPSIG, `event` the PTRACE_EVENT_* (0 for a
    /// signal-delivery stop).
    case stopped(tid: Int32, signal: Int32, event: Int32)

    public var tid: Int32 {
        switch self {
        case .exited(let t, _), .killed(let t, _, _), .stopped(let t, _, _): t
        }
    }

    public enum PtraceEvent {
        public static let fork = Int32(FC_PTRACE_EVENT_FORK)
        public static let vfork = Int32(FC_PTRACE_EVENT_VFORK)
        public static let clone = Int32(FC_PTRACE_EVENT_CLONE)
        public static let exec = Int32(FC_PTRACE_EVENT_EXEC)
        public static let vforkDone = Int32(FC_PTRACE_EVENT_VFORK_DONE)
        public static let stop = Int32(FC_PTRACE_EVENT_STOP)
    }
}

public enum Wait {
    /// waitpid(-1 or `which`, __WALL [| WNOHANG]). nil when nothing is ready (non-blocking)
    /// or nothing is left to wait for.
    public static func next(_ which: Int32 = -1, block: Bool) throws -> WaitEvent? {
        var s = fc_wait_status()
        let r = fc_wait(which, block ? 0 : 1, &s)
        if r == -ECHILD { return nil }
        if r < 0 { throw SystemError("waitpid", negated: r) }
        if r == 0 { return nil }
        return decode(s)
    }

    /// What a non-blocking waitpid(-1, __WALL | WNOHANG) found.
    public enum Polled {
        case event(WaitEvent)
        /// Tracees are left, none has news.
        case nothingReady
        /// ECHILD: no tracee and no child is left at all.
        case noneLeft
    }

    /// One non-blocking wait that tells "nothing ready" from "nothing left".
    public static func poll() throws -> Polled {
        var s = fc_wait_status()
        let r = fc_wait(-1, 1, &s)
        if r == -ECHILD { return .noneLeft }
        if r < 0 { throw SystemError("waitpid", negated: r) }
        if r == 0 { return .nothingReady }
        return .event(decode(s))
    }

    /// waitpid(pid, WUNTRACED) for a child not yet traced.
    public static func untraced(_ pid: Int32) throws -> WaitEvent {
        var s = fc_wait_status()
        let r = fc_wait_untraced(pid, &s)
        if r < 0 { throw SystemError("waitpid(\(pid))", negated: r) }
        return decode(s)
    }

    private static func decode(_ s: fc_wait_status) -> WaitEvent {
        if s.exited != 0 { return .exited(tid: s.pid, code: s.exit_code) }
        if s.signaled != 0 { return .killed(tid: s.pid, signal: s.signal, coreDumped: s.core_dumped != 0) }
        return .stopped(tid: s.pid, signal: s.signal, event: s.event)
    }
}

/// Signals the tracer receives synchronously.
public enum TracerSignals {
    /// Block SIGCHLD/SIGINT/SIGTERM/SIGHUP/SIGQUIT in the calling thread (and so in threads
    /// it creates later), and install record-only handlers for threads that did not.
    public static func takeOver() {
        fc_install_stop_handlers()
        _ = fc_block_tracer_signals()
    }

    public static func release() {
        _ = fc_unblock_tracer_signals()
    }

    /// True when the calling thread already blocks every tracer signal.
    public static var areBlocked: Bool { fc_tracer_signals_blocked() == 1 }

    /// Blocks SIGCHLD in the calling thread, and so in every thread it creates later. Called
    /// first thing by a program before it has other threads (the `forkcast` executable
    /// does), every SIGCHLD then reaches the tracer's sigtimedwait and no other thread
    /// swallows it, so the recorder waits for ptrace events only when told of them
    /// (`childSignalIsBlocked`). Children never inherit it: every launch resets the mask.
    /// Its default action being to ignore, blocking it changes nothing else.
    public static func blockChildSignalInEveryThread() { _ = fc_block_sigchld() }

    /// SIGCHLD is blocked in the calling thread.
    public static var childSignalIsBlocked: Bool { fc_sigchld_blocked() == 1 }

    /// Takes a pending SIGCHLD, if any, without waiting. nil when none was pending; else
    /// the thread it was sent for (its `si_pid`), or -1 when it named none.
    public static func takePendingChildSignal() -> Int32? {
        let r = fc_take_pending_sigchld()
        return r == 0 ? nil : r
    }

    /// Waits up to `timeoutNs` for a tracer signal; returns it, or nil on timeout. Also
    /// returns a stop signal that a handler recorded in another thread.
    public static func wait(timeoutNs: Int64) -> Int32? { receive(timeoutNs: timeoutNs)?.signal }

    /// `wait`, with the signal's sender: for SIGCHLD, the thread whose state changed (its
    /// `si_pid`; 0 when unknown, e.g. for a stop signal recorded by a handler). Standard
    /// signals do not queue: a second SIGCHLD while one is pending is merged into it, so the
    /// sender is one of the threads with news, not necessarily the only one.
    public static func receive(timeoutNs: Int64) -> (signal: Int32, sender: Int32)? {
        let pending = fc_take_pending_stop_signal()
        if pending != 0 { return (pending, 0) }
        var sender: pid_t = 0
        let r = fc_wait_signal(timeoutNs, &sender)
        if r > 0 { return (r, sender) }
        let late = fc_take_pending_stop_signal()
        return late != 0 ? (late, 0) : nil
    }
}

public enum Clock {
    /// CLOCK_MONOTONIC in nanoseconds.
    @inline(__always) public static func now() -> UInt64 { fc_monotonic_ns() }
    /// CPU time of the calling thread, nanoseconds.
    public static func threadCPU() -> UInt64 { fc_thread_cpu_ns() }
}

extension Wait {
    /// Waits for an untraced child to end. Returns its exit, or nil when a stop signal
    /// (SIGINT, SIGTERM, SIGHUP, SIGQUIT) arrived first or it is not our child.
    public static func forExit(_ pid: Int32) -> ExitInfoValue? {
        while true {
            switch (try? next(pid, block: false)) ?? nil {
            case .exited(_, let code)?: return .code(code)
            case .killed(_, let signal, let core)?: return .signal(signal, core)
            case .stopped?: continue
            case nil:
                if !ProcFS.exists(pid: pid) { return nil }
                if let s = TracerSignals.wait(timeoutNs: 100_000_000), s != SIGCHLD { return nil }
            }
        }
    }

    public enum ExitInfoValue: Equatable {
        case code(Int32)
        case signal(Int32, Bool)
    }
}
