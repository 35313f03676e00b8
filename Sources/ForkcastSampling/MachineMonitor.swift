import ForkcastModel
import ForkcastSystem

/// The machine's CPU use while recording (`/proc/stat`), read at the start, about every
/// `intervalNs` from the recorder's loop (not every tick: one read costs about what one
/// thread's stat does, and the machine's load changes slowly), and at the end. What the
/// analysis needs to tell starvation by other programs from the program's own.
struct MachineMonitor {
    static let intervalNs: UInt64 = 100_000_000
    /// Past this many intervals (100 minutes at 100 ms) neighbours are merged in pairs, so
    /// the profile stays small however long the recording.
    static let maxSamples = 60_000

    private let file = MachineStatFile()
    private var first: (ns: UInt64, cpu: MachineCPU)?
    private var last: (ns: UInt64, cpu: MachineCPU)?
    private var samples: [MachineLoadSample] = []
    private var startNs: UInt64 = 0

    /// The first read; `startNs` is the recording's start (sample times are relative to it).
    mutating func start(now: UInt64, startNs: UInt64) {
        self.startNs = startNs
        guard let cpu = file?.read() else { return }
        first = (now, cpu)
        last = first
    }

    /// A read when the interval has passed since the last one (cheap to call every tick).
    mutating func poll(now: UInt64) {
        guard let l = last, now >= l.ns + MachineMonitor.intervalNs else { return }
        read(now: now)
    }

    /// The last read, at the end of the recording.
    mutating func finish(now: UInt64) {
        guard let l = last, now > l.ns else { return }
        read(now: now)
    }

    private mutating func read(now: UInt64) {
        guard let l = last, let cpu = file?.read() else { return }
        samples.append(MachineLoadSample(timeNs: now &- min(now, startNs), intervalNs: now - l.ns,
                                         busyNs: cpu.busyNs.subtractingClamped(l.cpu.busyNs),
                                         stealNs: min(cpu.stealNs.subtractingClamped(l.cpu.stealNs), cpu.busyNs.subtractingClamped(l.cpu.busyNs)),
                                         running: cpu.procsRunning))
        last = (now, cpu)
        if samples.count > MachineMonitor.maxSamples { samples = MachineMonitor.halved(samples) }
    }

    /// Neighbouring intervals merged in pairs.
    static func halved(_ s: [MachineLoadSample]) -> [MachineLoadSample] {
        stride(from: 0, to: s.count, by: 2).map { i in
            guard i + 1 < s.count else { return s[i] }
            let a = s[i], b = s[i + 1]
            return MachineLoadSample(timeNs: b.timeNs, intervalNs: a.intervalNs + b.intervalNs, busyNs: a.busyNs + b.busyNs,
                                     stealNs: a.stealNs + b.stealNs, running: b.running)
        }
    }

    /// The record for the profile; nil when /proc/stat was not readable twice.
    func load(cores: Int) -> MachineLoad? {
        guard let f = first, let l = last, l.ns > f.ns else { return nil }
        let busy = l.cpu.busyNs.subtractingClamped(f.cpu.busyNs)
        return MachineLoad(cores: max(1, cores), windowNs: l.ns - f.ns, busyNs: busy,
                           idleNs: l.cpu.idleNs.subtractingClamped(f.cpu.idleNs), iowaitNs: l.cpu.iowaitNs.subtractingClamped(f.cpu.iowaitNs),
                           stealNs: min(busy, l.cpu.stealNs.subtractingClamped(f.cpu.stealNs)), samples: samples)
    }
}

extension UInt64 {
    /// self − other, or 0 when other is larger (a counter that went backwards).
    fileprivate func subtractingClamped(_ other: UInt64) -> UInt64 { self > other ? self - other : 0 }
}
