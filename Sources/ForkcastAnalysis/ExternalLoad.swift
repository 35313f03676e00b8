import ForkcastModel

/// Other programs on the machine: who held the CPUs while the program was recorded.
///
/// A thread runnable without a CPU waits either for its own siblings (the program has more
/// runnable work than cores) or for other programs (a build, a load generator, another VM
/// on the host). The samples alone cannot tell which: the profile's `recording.machine`
/// (`/proc/stat` over the recording) can. Other programs' CPU = the machine's busy time −
/// the recorded threads' CPU (the kernel's accounting) − forkcast's tracer. When they held
/// a substantial share of the cores, the runnable time the recorded threads do not explain
/// themselves (at each tick: those on a CPU or runnable beyond the cores) is theirs:
///
/// - finding `recording.external-load` (their share of the cores, steal);
/// - `WorkMix` leaves that runnable time out of the working time (the mix a quiet machine
///   would show: the program's CPU, I/O and lock shares without the queueing others caused),
///   so no rule reads it as the program's CPU demand or advises fewer workers for it;
/// - the limiter says other programs held the CPUs, with the figure, instead of guessing;
/// - the recommendation's confidence drops, and a change of model resting on time shares
///   alone (no GIL, IPC or start-up evidence) is `undecided` when a quarter or more of the
///   working time was lost to them and the program's own threads explain less than half of
///   its queueing (Recommender).
///
/// Without the record (older profiles) nothing changes.
public enum ExternalLoad {
    /// Other programs must have used this share of the cores for runnable time the program
    /// does not explain to be put on them. Measured on the 2-core build machine: a
    /// recording on a quiet machine puts 0.00–0.05 of the cores on others (daemons, the
    /// shell, timing between the reads); two to three CPU burners beside a 2-thread program
    /// 0.5–0.7. A quarter of the machine is far from both.
    static let otherShareThreshold = 0.25
    /// External runnable time (share of the working time) from which the limiter names
    /// other programs: the same bar as the program's own CPU starvation.
    static let limiterShare = 0.15
    /// External runnable time from which a change of model is `undecided`: with a quarter
    /// of the working time spent queued behind other programs, lock holders and I/O
    /// completions were delayed too, and the waits the rules weigh are the machine's.
    static let undecidedShare = 0.25
    /// …unless the program's own threads explain at least this share of its runnable
    /// samples: then the queueing is mostly its own (8 CPU threads on 2 cores beside
    /// builds using 1 core: 0.77 measured), and advice resting on it stands.
    static let ownDominates = 0.5
    /// The machine record must cover this much wall time.
    static let minWindowSeconds = 0.5

    /// The program starves itself: its threads on a CPU or runnable exceeded the cores at a
    /// quarter of the ticks — unless other programs held a substantial share of the machine
    /// and the program's own excess explains under half of its runnable samples (starved
    /// threads that would have finished overlap on a loaded machine, and push the count over).
    static func ownStarvation(_ a: Analysis) -> Bool {
        guard let o = a.overall, o.starvedTickShare >= 0.25 else { return false }
        if let m = a.machine, m.external, m.ownRunnableShare < ownDominates { return false }
        return true
    }

    /// The machine's load next to the program's; nil without `recording.machine`.
    public static func usage(_ profile: Profile, _ b: TimeBreakdown) -> MachineUsage? {
        guard let m = profile.recording.machine, m.windowNs > 0 else { return nil }
        let window = Double(m.windowNs) / 1e9
        // The recorded threads' CPU: the kernel's accounting where the thread has it, else
        // its on-CPU samples (a thread read once: a short-lived compiler under make).
        var sampledCPU: [SIMD2<Int32>: Double] = [:]
        for t in b.threads { sampledCPU[SIMD2(t.pid, t.tid)] = t.states.onCPU * t.seconds }
        var program = 0.0
        for t in profile.threads {
            if let cpu = t.cpuNs { program += Double(cpu) / 1e9 } else { program += sampledCPU[SIMD2(t.pid, t.tid)] ?? 0 }
        }
        let cores = Double(max(1, m.cores))
        let busy = m.busyCores
        let programCores = program / window
        let forkcastCores = Double(profile.stats.tracerCPUNs) / 1e9 / window
        let other = max(0, busy - programCores - forkcastCores)
        let otherShare = min(1, other / cores)
        var bare = Analysis()
        bare.threads = b.threads
        bare.processes = b.processes
        let runnable = WorkMix(bare).runnable
        let external = window >= minWindowSeconds && otherShare >= otherShareThreshold
        let own = min(1, max(0, b.ownRunnableShare))
        return MachineUsage(cores: m.cores, windowSeconds: window, busyCores: busy, programCores: programCores,
                            forkcastCores: forkcastCores, otherCores: other, stealCores: m.stealCores, otherShare: otherShare,
                            runnableShare: runnable, ownRunnableShare: own,
                            externalRunnableShare: external ? runnable * (1 - own) : 0, external: external)
    }

    /// `recording.external-load`, when other programs used a substantial share of the machine.
    static func finding(_ m: MachineUsage, source: String) -> Finding? {
        guard m.external else { return nil }
        let steal = m.stealCores >= 0.05 ? ", \(Text.num(m.stealCores)) of it stolen by the hypervisor for other guests" : ""
        let starved = m.externalRunnableShare
        var detail = "The machine's CPUs were busy \(Text.num(m.busyCores)) of \(m.cores) on average: the recorded program "
            + "\(Text.num(m.programCores)), forkcast \(Text.num(m.forkcastCores)), other programs \(Text.num(m.otherCores))\(steal). "
        if starved >= 0.01 {
            detail += "The working threads were runnable without a CPU \(Text.pct(m.runnableShare)) of their time, "
                + "\(Text.pct(1 - m.ownRunnableShare)) of it not explained by the program's own threads (they did not exceed the cores): "
                + "\(Text.pct(starved)) of the working time waited for other programs. It is left out of the program's CPU demand; "
                + "re-record on a quieter machine, or run `forkcast experiment`, to judge a change of design."
        } else {
            detail += "The working threads were seldom kept from a CPU by them (\(Text.pct(starved)) of their working time)."
        }
        return Finding(source: source, id: "recording.external-load", severity: starved >= limiterShare ? .warning : .info,
                       factor: .cpuStarvation,
                       title: "Other programs used \(Text.pct(m.otherShare)) of the \(m.cores) cores while recording",
                       detail: detail,
                       metrics: ["other_share": m.otherShare, "other_cores": m.otherCores, "steal_cores": m.stealCores,
                                 "busy_cores": m.busyCores, "program_cores": m.programCores,
                                 "external_runnable_share": starved, "own_runnable_share": m.ownRunnableShare])
    }
}
