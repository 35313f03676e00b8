import Foundation
import ForkcastSystem

/// The recorder's use of the kernel's scheduler events: which traced threads were woken
/// or put on a CPU between two drains. A blocked thread's reusable sample
/// (`ReusableSample`) carries the drain before it was read (`quietSince`); while no later
/// drain names the thread, it has neither run nor been woken, and the sample is recorded
/// again without reading `/proc` (docs/recording.md, "Cost proportional to activity").
extension TraceSession {
    func openSchedulerEvents() {
        guard options.schedulerEvents else {
            notes.append("idle threads checked through /proc (two reads each per tick): scheduler events turned off (--no-sched-events)")
            return
        }
        switch SchedActivity.open() {
        case .success(let a):
            activity = a
            lastDrainNs = Clock.now()
        case .failure(let why):
            notes.append("idle threads checked through /proc (two reads each per tick): scheduler events unavailable — \(why)")
        }
    }

    /// Reads the events since the previous drain into the threads' `lastActive`. Called at
    /// every tick before any thread is read, and between ticks at least every 50 ms.
    func drainSchedulerEvents() {
        guard let activity else { return }
        activityGeneration += 1
        let generation = activityGeneration
        let complete = activity.drain { tid in
            threads[tid]?.lastActive = generation
        }
        if !complete { activityLostAt = generation }
        lastDrainNs = Clock.now()
    }

    /// Drains that lost events make the threads they cover be read through /proc once: the
    /// recording stays exact, only its cost grows. Said in a note.
    func noteSchedulerEventLosses() {
        guard let activity, !activity.lossSummary.isEmpty else { return }
        notes.append("scheduler events incomplete at some drains (\(activity.lossSummary.joined(separator: ", "))): "
                     + "idle threads were read through /proc after them")
    }

    /// Whether `thread`'s reusable sample still stands on the events alone: nothing named
    /// the thread since the drain before the sample was read (or last checked through
    /// /proc), and no events were lost since.
    /// Whether a drain named `thread` since its reusable sample was read or checked: it
    /// was woken or put on a CPU then (or just before the read: a drain names what happened
    /// up to it, so the check through /proc would find it unchanged; reading it again is exact too).
    @inline(__always)
    func namedOnEvents(_ thread: TracedThread, _ reusable: ReusableSample) -> Bool {
        activity != nil && thread.lastActive > reusable.quietSince
    }

    @inline(__always)
    func quietOnEvents(_ thread: TracedThread, _ reusable: ReusableSample) -> Bool {
        activity != nil && thread.lastActive <= reusable.quietSince && activityLostAt <= reusable.quietSince
    }
}
