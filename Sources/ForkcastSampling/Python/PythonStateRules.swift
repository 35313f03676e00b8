import ForkcastModel

/// CPython-specific refinements of a blocked thread's state, applied after the native
/// stack is symbolized.
public enum PythonStateRules {
    /// A thread waiting (futex, condition variable) under `take_gil` is waiting for the
    /// GIL: `.gilWait`. One waiting under `PyThread_acquire_lock_timed` — a
    /// `threading.Lock`, `Queue.get`, `Event.wait`, `Condition.wait` — stays (or
    /// becomes) `.lockWait`. The frame nearest the leaf decides, so a thread that took
    /// a lock and now waits for the GIL to return is GIL wait. Other states (on CPU,
    /// runnable, I/O, sleep, child wait) are left alone.
    public static func refine(_ state: ThreadState, nativeStack: [Frame]) -> ThreadState {
        guard state == .lockWait || state == .other else { return state }
        for frame in nativeStack where frame.kind == .native {
            if PythonStackMerger.hasName(frame.name, "take_gil") { return .gilWait }
            if PythonStackMerger.hasName(frame.name, "PyThread_acquire_lock_timed") { return .lockWait }
            // Reaching the interpreter loop means the wait was not in either path.
            if PythonStackMerger.isEvalFrame(frame) { break }
        }
        return state
    }
}
