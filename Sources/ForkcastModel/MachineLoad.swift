/// What the whole machine's CPUs did while the program was recorded (`/proc/stat`, all
/// CPUs summed), so the analysis can tell CPU starvation the program causes itself from
/// starvation by other programs sharing the machine. Optional within format version 2
/// (`recording.machine`): absent in profiles written before it, or where `/proc/stat`
/// could not be read.
///
/// Other programs' CPU = `busyNs` − the recorded threads' CPU (`ThreadInfo.cpuNs`) − the
/// recorder's own (`RecordingStats.tracerCPUNs`).
public struct MachineLoad: Codable, Sendable, Equatable {
    /// CPUs the figures are summed over (online CPUs).
    public var cores: Int
    /// Wall time between the first and last read of `/proc/stat` (≈ the recording).
    public var windowNs: UInt64
    /// CPU time of all CPUs over the window: busy (user + nice + system + irq + softirq +
    /// steal), idle, I/O wait, and steal (time a hypervisor gave to other guests; also in busy).
    public var busyNs: UInt64
    public var idleNs: UInt64
    public var iowaitNs: UInt64
    public var stealNs: UInt64
    /// The machine over time: one entry per read (about every 100 ms), each for the
    /// interval since the previous read.
    public var samples: [MachineLoadSample]

    public init(cores: Int, windowNs: UInt64, busyNs: UInt64, idleNs: UInt64, iowaitNs: UInt64, stealNs: UInt64,
                samples: [MachineLoadSample] = []) {
        self.cores = cores
        self.windowNs = windowNs
        self.busyNs = busyNs
        self.idleNs = idleNs
        self.iowaitNs = iowaitNs
        self.stealNs = stealNs
        self.samples = samples
    }

    /// Busy CPUs on average over the window (0…cores).
    public var busyCores: Double { windowNs > 0 ? Double(busyNs) / Double(windowNs) : 0 }
    /// Stolen CPUs on average over the window.
    public var stealCores: Double { windowNs > 0 ? Double(stealNs) / Double(windowNs) : 0 }
}

/// The machine during one interval of the recording.
public struct MachineLoadSample: Codable, Sendable, Equatable {
    /// End of the interval, ns since the recording started.
    public var timeNs: UInt64
    /// Length of the interval (since the previous read).
    public var intervalNs: UInt64
    /// All CPUs' busy and stolen time in the interval.
    public var busyNs: UInt64
    public var stealNs: UInt64
    /// Threads running or runnable on the machine at the read (`procs_running`), when known.
    public var running: Int?

    public init(timeNs: UInt64, intervalNs: UInt64, busyNs: UInt64, stealNs: UInt64, running: Int? = nil) {
        self.timeNs = timeNs
        self.intervalNs = intervalNs
        self.busyNs = busyNs
        self.stealNs = stealNs
        self.running = running
    }
}
