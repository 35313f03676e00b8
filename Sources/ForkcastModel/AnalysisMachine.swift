/// The machine's load next to the program's, from the profile's `recording.machine`: who
/// held the CPUs while the program was recorded. Nil in analyses of profiles without it.
public struct MachineUsage: Codable, Sendable, Equatable {
    public var cores: Int
    /// Wall time the figures cover.
    public var windowSeconds: Double
    /// CPUs busy on average: the whole machine, the recorded threads (the kernel's
    /// accounting), forkcast's own tracer, and everything else (`other_cores` = busy −
    /// program − forkcast, never below 0). Steal (a hypervisor's other guests) is in busy
    /// and other, and also on its own.
    public var busyCores: Double
    public var programCores: Double
    public var forkcastCores: Double
    public var otherCores: Double
    public var stealCores: Double
    /// `other_cores` / `cores`: the share of the machine other programs used.
    public var otherShare: Double
    /// The workload's working time runnable without a CPU, as recorded (before any
    /// correction for other programs).
    public var runnableShare: Double
    /// Of those runnable samples, the share the program's own threads explain: at each tick,
    /// the recorded threads on a CPU or runnable beyond the cores.
    public var ownRunnableShare: Double
    /// The part of the working time runnable because other programs held the CPUs
    /// (`runnable_share` × (1 − `own_runnable_share`) when `external`, else 0). Left out of
    /// the program's CPU demand.
    public var externalRunnableShare: Double
    /// True when other programs used a substantial share of the machine (`other_share` ≥ 0.25):
    /// runnable time the program's own threads do not explain is theirs.
    public var external: Bool

    public init(cores: Int, windowSeconds: Double, busyCores: Double, programCores: Double, forkcastCores: Double,
                otherCores: Double, stealCores: Double, otherShare: Double, runnableShare: Double, ownRunnableShare: Double,
                externalRunnableShare: Double, external: Bool) {
        self.cores = cores
        self.windowSeconds = windowSeconds
        self.busyCores = busyCores
        self.programCores = programCores
        self.forkcastCores = forkcastCores
        self.otherCores = otherCores
        self.stealCores = stealCores
        self.otherShare = otherShare
        self.runnableShare = runnableShare
        self.ownRunnableShare = ownRunnableShare
        self.externalRunnableShare = externalRunnableShare
        self.external = external
    }

    private enum CodingKeys: String, CodingKey {
        case cores, windowSeconds = "window_seconds", busyCores = "busy_cores", programCores = "program_cores",
             forkcastCores = "forkcast_cores", otherCores = "other_cores", stealCores = "steal_cores", otherShare = "other_share",
             runnableShare = "runnable_share", ownRunnableShare = "own_runnable_share",
             externalRunnableShare = "external_runnable_share", external
    }
}
