import Foundation
import CForkcastSys

#if canImport(Glibc)
import Glibc
#endif

/// The threads the kernel woke or put on a CPU, machine-wide, read from the
/// `sched:sched_waking` and `sched:sched_switch` tracepoints through one perf ring per CPU
/// (`perf_event_open`).
///
/// A thread asleep in the kernel can run again only after it is woken (`try_to_wake_up`
/// fires `sched_waking` for every sleeping → runnable transition: a wake-up, a signal, a
/// ptrace interrupt, a timer) and then put on a CPU (`sched_switch` names it as `next_pid`).
/// So a thread whose tid did not appear in these events since it was read asleep has
/// neither run nor been woken since: the recorder reuses its sample without reading
/// anything (docs/recording.md, "Cost proportional to activity").
///
/// Needs what system-wide tracing needs (root, CAP_PERFMON, or perf_event_paranoid ≤ -1),
/// tracefs for the tracepoint's id and layout, and the tracer in the initial pid namespace
/// (the tracepoint reports kernel-wide tids). `open()` says in one line why it cannot be
/// used; the recorder then falls back to reading `/proc` for each idle thread.
public final class SchedActivity {
    private var rings: [fc_perf_ring]
    /// The second tracepoint's fds (their samples go to `rings`).
    private var extraFDs: [Int32]
    private let fields: [fc_perf_field]
    private var buffer: [Int32]

    private init(rings: [fc_perf_ring], extraFDs: [Int32], fields: [fc_perf_field]) {
        self.rings = rings
        self.extraFDs = extraFDs
        self.fields = fields
        buffer = [Int32](repeating: 0, count: 1 << 16)
    }

    deinit { close() }

    /// Opens a ring on every possible CPU, or returns why it cannot (one line).
    /// `pagesPerCPU`: ring size in pages (a power of two); 128 pages (512 KiB) hold ~6,500
    /// events, 30 ms of a CPU switching 100,000 times a second; nil: 128 pages up to 16 CPUs,
    /// 32 beyond (more CPUs share the switches; the memory is locked).
    public static func open(pagesPerCPU: UInt32? = nil) -> Result<SchedActivity, Failure> {
        guard inInitialPidNamespace() else {
            return .failure(Failure("forkcast runs in a pid namespace of its own: the kernel's thread ids are not ours"))
        }
        guard let waking = tracepoint("sched_waking", field: "pid"),
              let switching = tracepoint("sched_switch", field: "next_pid") else {
            return .failure(Failure("no sched:sched_waking / sched:sched_switch tracepoints in tracefs (/sys/kernel/tracing)"))
        }
        guard let cpus = possibleCPUs(), !cpus.isEmpty else {
            return .failure(Failure("cannot read /sys/devices/system/cpu/possible"))
        }
        let pages = pagesPerCPU ?? (cpus.count <= 16 ? 128 : 32)
        var rings: [fc_perf_ring] = []
        var extra: [Int32] = []
        func fail(_ code: Int32, cpu: Int) -> Result<SchedActivity, Failure> {
            for i in rings.indices { fc_perf_ring_close(&rings[i]) }
            for fd in extra { _ = fc_close_fd(fd) }
            let e = Errno(-code)
            let why = e == .EACCES || e == .EPERM
                ? "system-wide tracing is not permitted (perf_event_paranoid \(paranoid() ?? "?"); root or CAP_PERFMON needed)"
                : "perf_event_open on CPU \(cpu): \(e.message)"
            return .failure(Failure(why))
        }
        for cpu in cpus {
            var ring = fc_perf_ring(fd: -1, base: nil, data_size: 0, map_size: 0)
            let r = fc_perf_ring_open(waking.id, Int32(cpu), pages, &ring)
            if r < 0 { return fail(r, cpu: cpu) }
            rings.append(ring)
            let fd = fc_perf_ring_add(switching.id, Int32(cpu), &ring)
            if fd < 0 { return fail(fd, cpu: cpu) }
            extra.append(fd)
        }
        let fields = [fc_perf_field(type: UInt32(waking.id), offset: waking.offset),
                      fc_perf_field(type: UInt32(switching.id), offset: switching.offset)]
        return .success(SchedActivity(rings: rings, extraFDs: extra, fields: fields))
    }

    /// Why the events cannot be used.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// Calls `active` with the tid of every thread woken or put on a CPU since the
    /// previous drain (in no particular order, possibly repeated). Returns false when
    /// some events were lost — a ring overflowed — and any thread may have run unseen.
    public func drain(_ active: (Int32) -> Void) -> Bool {
        var complete = true
        for i in rings.indices {
            var lost: Int32 = 0
            let n = fields.withUnsafeBufferPointer { fields in
                buffer.withUnsafeMutableBufferPointer { out in
                    fc_perf_ring_drain(&rings[i], fields.baseAddress, Int32(fields.count), out.baseAddress, Int64(out.count), &lost)
                }
            }
            if lost != 0 {
                complete = false
                losses[Int(lost), default: 0] += 1
            }
            for j in 0..<Int(n) { active(buffer[j]) }
        }
        return complete
    }

    /// How many drains could not account for every event, by cause (one line each).
    public var lossSummary: [String] {
        let causes = [Int(FC_PERF_LOST_RECORD): "a ring was full", Int(FC_PERF_LOST_TRUNCATED): "a record made no sense",
                      Int(FC_PERF_LOST_UNKNOWN_SAMPLE): "an unknown sample", Int(FC_PERF_LOST_CAPACITY): "too many events at once",
                      Int(FC_PERF_LOST_OTHER_RECORD): "the kernel throttled the events"]
        return losses.sorted { $0.key < $1.key }.map { "\(causes[$0.key] ?? "cause \($0.key)") (\($0.value)×)" }
    }
    private var losses: [Int: Int] = [:]

    public func close() {
        for fd in extraFDs { _ = fc_close_fd(fd) }
        extraFDs = []
        for i in rings.indices { fc_perf_ring_close(&rings[i]) }
        rings = []
    }

    // MARK: - Set-up reads

    /// A sched tracepoint's id and the offset of one of its 4-byte fields, from tracefs.
    static func tracepoint(_ name: String, field: String) -> (id: UInt64, offset: UInt32)? {
        for root in ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"] {
            let dir = root + "/events/sched/" + name
            guard let idText = ProcFS.readText(dir + "/id"),
                  let id = UInt64(idText.trimmingCharacters(in: .whitespacesAndNewlines)), id <= UInt64(UInt16.max),
                  let format = ProcFS.readText(dir + "/format"),
                  let offset = fieldOffset(format: format, field: field) else { continue }
            return (id, offset)
        }
        return nil
    }

    /// The offset of a 4-byte field in a tracefs `format` file
    /// (`field:pid_t pid;	offset:24;	size:4;	signed:1;`).
    static func fieldOffset(format: String, field: String) -> UInt32? {
        for line in format.split(separator: "\n") {
            let parts = line.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count >= 3, parts[0].hasPrefix("field:"),
                  parts[0].split(separator: " ").last.map(String.init) == field,
                  parts[2] == "size:4", parts[1].hasPrefix("offset:") else { continue }
            return UInt32(parts[1].dropFirst("offset:".count))
        }
        return nil
    }

    /// CPUs from `/sys/devices/system/cpu/possible` ("0-3,5"): a CPU brought online
    /// during the recording must have its ring already.
    static func possibleCPUs() -> [Int]? {
        guard let text = ProcFS.readText("/sys/devices/system/cpu/possible") else { return nil }
        return parseCPUList(text)
    }

    static func parseCPUList(_ text: String) -> [Int]? {
        var cpus: [Int] = []
        for part in text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",") {
            let bounds = part.split(separator: "-").map { Int($0) }
            guard let first = bounds.first ?? nil, bounds.count <= 2, bounds.allSatisfy({ $0 != nil }) else { return nil }
            let last = bounds.count == 2 ? bounds[1]! : first
            guard first <= last, last < 4096 else { return nil }
            cpus.append(contentsOf: first...last)
        }
        return cpus
    }

    private static func inInitialPidNamespace() -> Bool {
        guard let status = ProcFS.readText("/proc/self/status"),
              let nspid = ProcParse.statusField(status, "NSpid") else { return true }  // old kernels: no pid namespaces listed
        return nspid.split(whereSeparator: { $0 == " " || $0 == "\t" }).count == 1
    }

    private static func paranoid() -> String? {
        ProcFS.readText("/proc/sys/kernel/perf_event_paranoid")?.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
