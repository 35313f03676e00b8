import Glibc

/// The machine's CPU time so far, from the first line of `/proc/stat` (all CPUs summed),
/// in nanoseconds, plus `procs_running` (threads runnable or running right now).
///
/// `busyNs` = user + nice + system + irq + softirq + steal (guest time is already inside
/// user and nice); `stealNs` is also kept apart: a VM's stolen time is CPU other programs
/// (other guests) took. `idleNs` and `iowaitNs` are the rest.
public struct MachineCPU: Sendable, Equatable {
    public var busyNs: UInt64
    public var idleNs: UInt64
    public var iowaitNs: UInt64
    public var stealNs: UInt64
    /// `procs_running`; nil when the line is missing.
    public var procsRunning: Int?

    public init(busyNs: UInt64, idleNs: UInt64, iowaitNs: UInt64, stealNs: UInt64, procsRunning: Int? = nil) {
        self.busyNs = busyNs
        self.idleNs = idleNs
        self.iowaitNs = iowaitNs
        self.stealNs = stealNs
        self.procsRunning = procsRunning
    }
}

extension ProcParse {
    /// `/proc/stat`'s aggregate `cpu` line (and `procs_running`, wherever it is), with
    /// the kernel's USER_HZ ticks converted by `nsPerTick`. Nil when the first line is not
    /// a `cpu ` line with at least the four classic fields.
    public static func machineCPU(bytes b: UnsafeBufferPointer<UInt8>, nsPerTick: UInt64) -> MachineCPU? {
        // "cpu  user nice system idle iowait irq softirq steal guest guest_nice"
        guard b.count > 4, b[0] == 0x63, b[1] == 0x70, b[2] == 0x75, b[3] == 0x20 else { return nil }
        var p = ProcBytes(b, at: 4)
        var v = [UInt64](repeating: 0, count: 8)
        var fields = 0
        while fields < 8 {
            // Stop at the end of the line: older kernels print fewer fields.
            var j = p.i
            while j < b.count, b[j] == 0x20 { j += 1 }
            guard j < b.count, b[j] != 0x0a, let x = p.decimal() else { break }
            v[fields] = UInt64(max(0, x))
            fields += 1
        }
        guard fields >= 4 else { return nil }
        let busy = v[0] &+ v[1] &+ v[2] &+ v[5] &+ v[6] &+ v[7]
        var running: Int?
        // procs_running follows the (long) intr and softirq lines.
        let key: [UInt8] = Array("\nprocs_running ".utf8)
        var i = 0
        while i + key.count < b.count {
            if b[i] == 0x0a && b[i + 1] == 0x70 {
                var match = true
                for k in 0..<key.count where b[i + k] != key[k] { match = false; break }
                if match {
                    var q = ProcBytes(b, at: i + key.count)
                    running = q.decimal().map { Int($0) }
                    break
                }
            }
            i += 1
        }
        return MachineCPU(busyNs: busy &* nsPerTick, idleNs: v[3] &* nsPerTick, iowaitNs: v[4] &* nsPerTick,
                          stealNs: v[7] &* nsPerTick, procsRunning: running)
    }
}

/// `/proc/stat`, kept open and re-read with pread: what the whole machine's CPUs did, to
/// tell the recorded program's CPU use from every other program's. Cheap enough for a few
/// reads a second (one read of a few KB on a small machine).
public final class MachineStatFile {
    private var fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 65536)
    private let nsPerTick: UInt64

    /// Nil when /proc/stat cannot be opened (no /proc).
    public init?() {
        fd = open("/proc/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        let hz = sysconf(Int32(_SC_CLK_TCK))
        nsPerTick = UInt64(1_000_000_000 / (hz > 0 ? hz : 100))
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    /// The machine's CPU time so far; nil when the read fails or the file is not as expected.
    public func read() -> MachineCPU? {
        guard fd >= 0 else { return nil }
        return buffer.withUnsafeMutableBufferPointer { buf -> MachineCPU? in
            // /proc/stat is generated whole at offset 0; a bigger file than the buffer only
            // loses procs_running's line, never the cpu line.
            var n = 0
            while n < buf.count {
                let r = pread(fd, buf.baseAddress! + n, buf.count - n, off_t(n))
                if r < 0 && errno == EINTR { continue }
                if r <= 0 { break }
                n += r
            }
            guard n > 0 else { return nil }
            return ProcParse.machineCPU(bytes: UnsafeBufferPointer(rebasing: buf[0..<n]), nsPerTick: nsPerTick)
        }
    }
}
