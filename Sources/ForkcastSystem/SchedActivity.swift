import Foundation
import CForkcastSys

#if canImport(Glibc)
import Glibc
#endif

/// The threads the kernel woke or put on a CPU, machine-wide, read from perf rings on
/// every CPU (`perf_event_open`): the scheduler's own context-switch records
/// (`PERF_RECORD_SWITCH_CPU_WIDE`, every switch in and out, idle included) and the
/// `sched:sched_waking` and `sched:sched_wakeup` tracepoints.
///
/// A thread asleep in the kernel can run again only after it is woken (`try_to_wake_up`
/// fires `sched_waking` for every sleeping → runnable transition, and `sched_wakeup` once
/// the thread is queued on its CPU: a wake-up, a signal, a ptrace interrupt, a timer) and
/// then put on a CPU (a switch record names it). So a thread whose tid did not appear
/// since it was read asleep has neither run nor been woken since: the recorder reuses its
/// sample without reading anything (docs/recording.md, "Cost proportional to activity").
///
/// Why switch records and not the `sched_switch` tracepoint: on this project's test
/// machine (a Firecracker VM, kernel 6.18) the tracepoint misses every switch out of the
/// idle task on one CPU — `perf record -e sched:sched_switch -a` shows it too — while the
/// switch records do not. Each CPU's switch records must chain (every switch starts from
/// the task the previous one put on that CPU); a record that does not is a switch the
/// kernel did not report, and the drain says events were lost.
///
/// Needs what system-wide tracing needs (root, CAP_PERFMON, or perf_event_paranoid ≤ -1),
/// tracefs for the tracepoints' ids and layouts, and the tracer in the initial pid
/// namespace (the records give the kernel's thread ids). `open()` says in one line why it
/// cannot be used; the recorder then reads `/proc` for each idle thread.
public final class SchedActivity {
    /// Per CPU: the wake-up tracepoints' ring.
    private var wakeRings: [fc_perf_ring]
    /// Per CPU: the context-switch records' ring, and the tid last put on that CPU.
    private var switchRings: [fc_perf_ring]
    private var lastIn: [Int32]
    /// The second tracepoint's fds (their samples go to `wakeRings`).
    private var extraFDs: [Int32]
    private let fields: [fc_perf_field]
    private var buffer: [Int32]

    private init(wakeRings: [fc_perf_ring], switchRings: [fc_perf_ring], extraFDs: [Int32], fields: [fc_perf_field]) {
        self.wakeRings = wakeRings
        self.switchRings = switchRings
        lastIn = Array(repeating: -1, count: switchRings.count)
        self.extraFDs = extraFDs
        self.fields = fields
        buffer = [Int32](repeating: 0, count: 1 << 16)
    }

    deinit { close() }

    /// Opens the rings on every possible CPU, or returns why it cannot (one line).
    /// `pagesPerCPU`: each ring's size in pages (a power of two); 64 pages (256 KiB) hold
    /// ~8,000 switch records; nil: 64 up to 16 CPUs, 16 beyond (the memory is locked).
    public static func open(pagesPerCPU: UInt32? = nil) -> Result<SchedActivity, Failure> {
        guard inInitialPidNamespace() else {
            return .failure(Failure("forkcast runs in a pid namespace of its own: the kernel's thread ids are not ours"))
        }
        guard let waking = tracepoint("sched_waking", field: "pid"),
              let wakeup = tracepoint("sched_wakeup", field: "pid") else {
            return .failure(Failure("no sched:sched_waking / sched:sched_wakeup tracepoints in tracefs (/sys/kernel/tracing)"))
        }
        guard let cpus = possibleCPUs(), !cpus.isEmpty else {
            return .failure(Failure("cannot read /sys/devices/system/cpu/possible"))
        }
        let pages = pagesPerCPU ?? (cpus.count <= 16 ? 64 : 16)
        var wakeRings: [fc_perf_ring] = []
        var switchRings: [fc_perf_ring] = []
        var extra: [Int32] = []
        func fail(_ code: Int32, cpu: Int) -> Result<SchedActivity, Failure> {
            for i in wakeRings.indices { fc_perf_ring_close(&wakeRings[i]) }
            for i in switchRings.indices { fc_perf_ring_close(&switchRings[i]) }
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
            wakeRings.append(ring)
            let fd = fc_perf_ring_add(wakeup.id, Int32(cpu), &ring)
            if fd < 0 { return fail(fd, cpu: cpu) }
            extra.append(fd)
            var switches = fc_perf_ring(fd: -1, base: nil, data_size: 0, map_size: 0)
            let s = fc_perf_switch_ring_open(Int32(cpu), pages, &switches)
            if s < 0 { return fail(s, cpu: cpu) }
            switchRings.append(switches)
        }
        let fields = [fc_perf_field(type: UInt32(waking.id), offset: waking.offset),
                      fc_perf_field(type: UInt32(wakeup.id), offset: wakeup.offset)]
        return .success(SchedActivity(wakeRings: wakeRings, switchRings: switchRings, extraFDs: extra, fields: fields))
    }

    /// Why the events cannot be used.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// Calls `active` with the tid of every thread woken or put on a CPU since the
    /// previous drain (in no particular order, possibly repeated). Returns false when
    /// some events were lost — a ring overflowed, the kernel throttled the tracepoints, or
    /// a CPU's switches did not chain — and any thread may have run unseen.
    public func drain(_ active: (Int32) -> Void) -> Bool {
        var complete = true
        func note(_ lost: Int32) {
            guard lost != 0 else { return }
            complete = false
            losses[Int(lost), default: 0] += 1
        }
        for i in wakeRings.indices {
            var lost: Int32 = 0
            let n = fields.withUnsafeBufferPointer { fields in
                buffer.withUnsafeMutableBufferPointer { out in
                    fc_perf_ring_drain(&wakeRings[i], fields.baseAddress, Int32(fields.count), out.baseAddress, Int64(out.count), &lost)
                }
            }
            note(lost)
            for j in 0..<Int(n) { active(buffer[j]) }
        }
        for i in switchRings.indices {
            var lost: Int32 = 0
            let n = buffer.withUnsafeMutableBufferPointer { out in
                fc_perf_switch_drain(&switchRings[i], out.baseAddress, Int64(out.count), &lastIn[i], &lost)
            }
            note(lost)
            for j in 0..<Int(n) { active(buffer[j]) }
        }
        return complete
    }

    /// How many drains could not account for every event, by cause (one line each).
    public var lossSummary: [String] {
        let causes = [Int(FC_PERF_LOST_RECORD): "a ring was full", Int(FC_PERF_LOST_TRUNCATED): "a record made no sense",
                      Int(FC_PERF_LOST_UNKNOWN_SAMPLE): "an unknown sample", Int(FC_PERF_LOST_CAPACITY): "too many events at once",
                      Int(FC_PERF_LOST_OTHER_RECORD): "the kernel throttled the events",
                      Int(FC_PERF_LOST_CHAIN): "a CPU's switches did not chain"]
        return losses.sorted { $0.key < $1.key }.map { "\(causes[$0.key] ?? "cause \($0.key)") (\($0.value)×)" }
    }
    private var losses: [Int: Int] = [:]

    public func close() {
        for fd in extraFDs { _ = fc_close_fd(fd) }
        extraFDs = []
        for i in wakeRings.indices { fc_perf_ring_close(&wakeRings[i]) }
        for i in switchRings.indices { fc_perf_ring_close(&switchRings[i]) }
        wakeRings = []
        switchRings = []
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
