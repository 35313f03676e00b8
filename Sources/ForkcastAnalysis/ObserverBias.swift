import ForkcastModel

/// Observer bias: the sampled states checked against the kernel's own accounting.
///
/// A sampler reads a thread's state when it wakes up. When every core is busy, its wake-up
/// preempts something: if that is the program's peer (a load generator), the program drains
/// its work in microseconds and is back in `epoll_wait` by the time the sampler looks —
/// a thread that uses 85% of a CPU is sampled on a CPU 1% of the time. The kernel's
/// schedstat (`ThreadInfo.cpuNs`/`runqueueNs` over `accountedNs`) is not timed by the
/// sampler, so where the two disagree beyond sampling error the kernel's shares win for
/// running and runnable, and the sampled off-CPU states are scaled into the rest (their
/// mix, and every stack, still come from the samples).
enum ObserverBias {
    /// Disagreement always allowed, on top of the binomial interval: the accounting window
    /// and the samples do not cover exactly the same instants, and samples of one thread are
    /// not independent draws.
    static let floor = 0.10
    /// A check needs this many samples of the thread and this long an accounted window.
    static let minSamples = 20
    static let minWindowSeconds = 0.2
    /// A thread the kernel saw on a CPU at least this share of the time is never idle,
    /// whatever its samples show. (On a CPU, not runnable: on a saturated machine a thread
    /// woken for nothing can wait on a run queue a long time without doing any work.)
    static let maxMeasuredIdleOnCPU = 0.10

    /// A gap between two shares, in percentage points.
    static func points(_ gap: Double) -> String { "\(Int((gap * 100).rounded())) points" }

    /// The check for one thread with `samples` samples, `running` of them on a CPU or
    /// runnable, `onCPU` of them on a CPU; nil when the profile has no accounting for it or
    /// too little to judge. Both shares are checked: a sampler that shares the thread's CPU
    /// can see it running about as often as it ran, but on a CPU far more often.
    static func check(_ info: ThreadInfo, samples: Int, running: Int, onCPU: Int) -> MeasuredCPU? {
        guard let shares = info.measuredShares, let window = info.accountedNs else { return nil }
        let seconds = Double(window) / 1e9
        guard samples >= minSamples, seconds >= minWindowSeconds else { return nil }
        var on = shares.onCPU, rq = shares.runnable
        if on + rq > 1 {  // reads a few µs apart: renormalize
            let s = on + rq
            on /= s
            rq /= s
        }
        let sampled = Double(running) / Double(samples), sampledOn = Double(onCPU) / Double(samples)
        // The wider of the two binomial intervals.
        let variance = [on + rq, on].map { x -> Double in
            let p = min(0.98, max(0.02, x))
            return p * (1 - p)
        }.max()!
        let tolerance = floor + 1.96 * (variance / Double(samples)).squareRoot()
        let biased = abs(sampled - (on + rq)) > tolerance || abs(sampledOn - on) > tolerance
        return MeasuredCPU(onCPU: on, runnable: rq, windowSeconds: seconds, sampledRunning: sampled, sampledOnCPU: sampledOn,
                           tolerance: tolerance, biased: biased)
    }

    /// A thread row's sample counts per state code (`counts`) corrected to the kernel's
    /// shares: on-CPU and runnable from the accounting, the off-CPU states scaled by the
    /// returned factor into the rest of the time. When the samples show no off-CPU state at
    /// all, the time the kernel saw the thread off a CPU goes to `other` (factor 0).
    static func corrected(_ counts: ArraySlice<Int>, _ m: MeasuredCPU) -> (counts: [Double], offCPUScale: Double) {
        let base = counts.startIndex
        let n = Double(counts.reduce(0, +))
        let on = Int(ThreadState.onCPU.code), rq = Int(ThreadState.runnable.code)
        let off = n - Double(counts[base + on] + counts[base + rq])
        let rest = n * max(0, 1 - m.onCPU - m.runnable)
        var out = counts.map(Double.init)
        let k = off > 0 ? rest / off : 0
        for i in out.indices where i != on && i != rq { out[i] *= k }
        out[on] = n * m.onCPU
        out[rq] = n * m.runnable
        if off == 0 { out[Int(ThreadState.other.code)] += rest }
        return (out, k)
    }
}

extension ObserverBias {
    /// `recording.observer-bias`: the threads whose samples disagreed with the kernel, both
    /// figures, and the likely cause; nil when none did.
    static func finding(_ b: TimeBreakdown, source: String) -> Finding? {
        let biased = b.threads.filter { $0.measured?.biased == true }.sorted { $0.measured!.gap > $1.measured!.gap }
        guard !biased.isEmpty else { return nil }
        // The direction of the larger disagreement.
        let under = biased.filter { t in
            let m = t.measured!
            let onGap = m.sampledOnCPU.map { $0 - m.onCPU } ?? 0, runGap = m.sampledRunning - m.running
            return (abs(runGap) >= abs(onGap) ? runGap : onGap) < 0
        }
        let worst = biased.map { $0.measured!.gap }.max() ?? 0
        let shown = biased.prefix(4).map { t -> String in
            let m = t.measured!
            return "tid \(t.tid) \(t.name): on a CPU or runnable in \(Text.pct(m.sampledRunning)) of its \(t.samples) samples"
                + (m.sampledOnCPU.map { " (on a CPU \(Text.pct($0)))" } ?? "") + ", "
                + "\(Text.pct(m.running)) by the kernel's accounting (on a CPU \(Text.pct(m.onCPU)), runnable \(Text.pct(m.runnable)))"
        }.joined(separator: "; ") + (biased.count > 4 ? "; +\(biased.count - 4) more" : "")
        var cause = ""
        if !under.isEmpty {
            cause += "The samples saw \(under.count == biased.count ? "them" : "\(under.count) of them") run less than they did. Likely cause: all "
                + "\(b.summary.cores) cores were busy, so each wake-up of the sampler preempted something — often the program's own "
                + "clients — and the program, its work served in microseconds, was back waiting by the time it was read. "
        }
        if under.count < biased.count {
            cause += "The samples saw \(under.isEmpty ? "them" : "\(biased.count - under.count) of them") run more than they did. Likely cause: "
                + "the sampler shared their CPU, so it looked at them as they ran more often than chance, or stopped them to read "
                + "their stacks (time in a ptrace stop is neither on a CPU nor waiting for one). "
        }
        return Finding(
            source: source, id: "recording.observer-bias", severity: worst >= 0.3 ? .warning : .info, factor: .other,
            title: "Observer bias: the samples disagree with the kernel's CPU accounting for \(biased.count) thread\(biased.count == 1 ? "" : "s")"
                + " (by up to \(points(worst))); shares corrected",
            detail: shown + ". " + cause
                + "The time shares of these threads use the kernel's figures for on-CPU and runnable time, and scale the sampled waits "
                + "into the rest; their stacks still come from the samples. For unbiased samples, leave a core free for forkcast "
                + "(run the load elsewhere, or pin it away with taskset).",
            metrics: ["biased_threads": Double(biased.count), "undersampled_threads": Double(under.count), "max_gap": worst,
                      "sampled_running": biased[0].measured!.sampledRunning, "measured_running": biased[0].measured!.running])
    }
}

extension ObserverBias {
    /// How much of the workload's working time is on threads corrected for observer bias,
    /// with the reason the recommender gives; nil when none was.
    static func weight(_ a: Analysis) -> (share: Double, reason: Reason)? {
        let helpers = Set(a.processes.filter { $0.role == .helper }.map(\.pid))
        let workload = a.threads.filter { !helpers.contains($0.pid) && $0.role != .helper && !$0.idle }
        func work(_ t: ThreadBreakdown) -> Double { Double(t.samples) * (1 - t.idleShare) }
        let total = workload.reduce(0.0) { $0 + work($1) }
        let biased = workload.filter { $0.measured?.biased == true }
        guard total > 0, !biased.isEmpty else { return nil }
        let share = biased.reduce(0.0) { $0 + work($1) } / total
        let worst = biased.map { $0.measured!.gap }.max() ?? 0
        return (share, Reason(
            factor: .other,
            text: "Observer bias: \(Text.pct(share)) of the working time is on threads whose samples disagreed with the kernel's CPU "
                + "accounting (by up to \(points(worst))); their time shares were corrected, but which waits they had and where "
                + "comes from the biased samples, so advice from this recording is less certain. `forkcast experiment` measures it; "
                + "a recording with a core left free for forkcast samples it without the bias.",
            metrics: ["biased_share": share, "max_gap": worst]))
    }
}
