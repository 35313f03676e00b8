import Foundation
import ForkcastModel
import ForkcastTestSupport
import XCTest
@testable import ForkcastAnalysis

/// Other programs on the machine (ExternalLoad): the thresholds on synthetic profiles with
/// a machine record (`recording.machine`) whose figures are set by hand.
final class ExternalLoadTests: XCTestCase {
    typealias Step = SyntheticProfiles.Step
    static func f(_ name: String) -> Frame { SyntheticProfiles.native(name, module: "/usr/bin/fixture") }
    static let cpu: Step = (.onCPU, [f("compute"), f("worker"), f("start_thread")], nil, nil)
    static let queued: Step = (.runnable, [f("compute"), f("worker"), f("start_thread")], nil, nil)
    static let read: Step = (.ioWait, [f("read"), f("fetch"), f("worker"), f("start_thread")],
                             WaitInfo(syscall: "read", fd: 3, fdKind: .socket, target: "10.0.0.1:80"), nil)

    /// `threads` threads of one process repeating `cycle` (shifted by one step per thread),
    /// 4 s at 100 Hz on 2 cores, each with the kernel's accounting of its sampled shares.
    static func program(_ threads: Int, _ cycle: [Step], ticks: Int = 400) -> Profile {
        let scripts = (0..<threads).map { i -> SyntheticProfiles.ThreadScript in
            let k = i % cycle.count
            return .init(name: "worker", pid: 500, tid: 501 + Int32(i), cycle: Array(cycle[k...] + cycle[..<k]))
        }
        var p = SyntheticProfiles.make(threads: scripts, ticks: ticks)
        p.recording.cores = 2
        let window = p.recording.durationNs
        for i in p.threads.indices {
            let on = Double(cycle.filter { $0.state == .onCPU }.count) / Double(cycle.count)
            let rq = Double(cycle.filter { $0.state == .runnable }.count) / Double(cycle.count)
            p.threads[i].cpuNs = UInt64(on * Double(window))
            p.threads[i].runqueueNs = UInt64(rq * Double(window))
            p.threads[i].accountedNs = window
        }
        return p
    }

    /// Adds the machine's record: the recorded threads' CPU plus `other` cores of other programs.
    static func machine(_ p: Profile, other: Double, steal: Double = 0) -> Profile {
        var p = p
        let window = p.recording.durationNs
        let program = p.threads.reduce(0) { $0 + ($1.cpuNs ?? 0) }
        let busy = program + UInt64(other * Double(window))
        p.recording.machine = MachineLoad(cores: 2, windowNs: window, busyNs: busy, idleNs: UInt64(2 * Double(window)) - min(busy, 2 * window),
                                          iowaitNs: 0, stealNs: UInt64(steal * Double(window)))
        return p
    }

    func reasons(_ a: Analysis) -> String { (a.recommendation?.reasons ?? []).map(\.text).joined(separator: "\n") }

    /// Two CPU-bound threads, each on a CPU half the time and runnable the other half, never
    /// more than the cores between them: with other programs holding a core, the queueing is theirs.
    func testStarvationByOtherProgramsIsNamedAndLeftOutOfTheDemand() throws {
        let p = Self.machine(Self.program(2, [Self.cpu, Self.queued]), other: 1.0)
        let a = Analyzer.analyze(p)
        let m = try XCTUnwrap(a.machine)
        XCTAssertTrue(m.external)
        XCTAssertEqual(m.otherCores, 1.0, accuracy: 0.02)
        XCTAssertEqual(m.ownRunnableShare, 0, accuracy: 0.001, "two threads never exceeded two cores")
        XCTAssertEqual(m.externalRunnableShare, 0.5, accuracy: 0.02)
        let f = try XCTUnwrap(a.findings.first { $0.id == "recording.external-load" })
        XCTAssertEqual(f.severity, .warning)
        XCTAssertEqual(f.metrics["other_share"] ?? 0, 0.5, accuracy: 0.01)
        let w = WorkMix(a)
        XCTAssertEqual(w.runnable, 0, accuracy: 0.01, "the others' queueing is not the program's demand")
        XCTAssertEqual(w.onCPU, 1, accuracy: 0.01, "the mix a quiet machine shows: on a CPU all the time")
        let r = try XCTUnwrap(a.recommendation)
        XCTAssertEqual(r.strategy, .keep, reasons(a))
        XCTAssertEqual(r.workers, 2)
        XCTAssertTrue(reasons(a).contains("Other programs on the machine held the CPUs: they used 1.0 of the 2 cores (50%)"), reasons(a))
        XCTAssertFalse(reasons(a).contains("More runnable work than cores"), reasons(a))
        XCTAssertFalse(reasons(a).contains("a load generator?"), "measured, not guessed")
        // Less sure than the same recording on a quiet machine.
        let quiet = Analyzer.analyze(Self.machine(Self.program(2, [Self.cpu, Self.cpu]), other: 0))
        XCTAssertLessThan(r.confidence, try XCTUnwrap(quiet.recommendation).confidence)
    }

    /// Under a quarter of the cores used by others: no finding, and the same advice as
    /// without the record; without the record, today's behaviour (no `machine` at all).
    func testLittleOtherLoadAndNoRecordChangeNothing() throws {
        let base = Self.program(2, [Self.cpu, Self.queued])
        let none = Analyzer.analyze(base)
        XCTAssertNil(none.machine)
        XCTAssertTrue(reasons(none).contains("a load generator?"), "without the record the old guess stays: \(reasons(none))")
        let little = Analyzer.analyze(Self.machine(base, other: 0.4))
        let m = try XCTUnwrap(little.machine)
        XCTAssertFalse(m.external, "0.4 of 2 cores is under the 0.25 share")
        XCTAssertEqual(m.externalRunnableShare, 0)
        XCTAssertNil(little.findings.first { $0.id == "recording.external-load" })
        XCTAssertEqual(little.recommendation?.strategy, none.recommendation?.strategy)
        XCTAssertEqual(little.recommendation?.confidence, none.recommendation?.confidence)
        XCTAssertTrue(reasons(little).contains("other programs used only 0.4 of the 2 on average (measured), too little to put the queueing on them"), reasons(little))
        // The threshold itself: just above a quarter of the cores is external.
        XCTAssertTrue(try XCTUnwrap(Analyzer.analyze(Self.machine(base, other: 0.52)).machine).external)
    }

    /// Eight CPU-bound threads on 2 cores, two on a CPU and six queued at every tick: the
    /// program's own queue, whatever else the machine runs.
    func testOwnOversubscriptionStaysOwn() throws {
        let cycle = [Self.cpu] + Array(repeating: Self.queued, count: 3)
        for other in [0.0, 0.6] {
            let a = Analyzer.analyze(Self.machine(Self.program(8, cycle), other: other))
            let m = try XCTUnwrap(a.machine)
            XCTAssertEqual(m.ownRunnableShare, 1, accuracy: 0.001, "6 runnable beyond 2 cores at each tick")
            XCTAssertEqual(m.externalRunnableShare, 0, accuracy: 0.001)
            XCTAssertNotNil(a.findings.first { $0.id == "cpu.starvation" })
            let r = try XCTUnwrap(a.recommendation)
            XCTAssertNotEqual(r.strategy, .undecided, reasons(a))
            XCTAssertLessThanOrEqual(r.workers, 2, reasons(a))
            XCTAssertTrue(reasons(a).contains("more CPU-bound workers than cores (2) only queue"), reasons(a))
        }
    }

    /// Three CPU-bound threads on 2 cores, on a CPU a quarter of the time: they exceed the
    /// cores at every tick, but their own excess explains under half of their queueing
    /// (4/9). Beside other programs holding 1.2 cores, that is not the program starving
    /// itself: no "fewer workers" from the CPU-starvation rule or the limiter. Without the
    /// machine's figures, as before.
    func testOverlapOnALoadedMachineIsNotOwnStarvation() throws {
        let cycle: [Step] = [Self.queued, Self.queued, Self.queued, Self.cpu]
        let blind = Analyzer.analyze(Self.program(3, cycle))
        XCTAssertTrue(reasons(blind).contains("more CPU-bound workers than cores (2) only queue"), reasons(blind))
        let a = Analyzer.analyze(Self.machine(Self.program(3, cycle), other: 1.2))
        let m = try XCTUnwrap(a.machine)
        XCTAssertEqual(m.ownRunnableShare, 4.0 / 9, accuracy: 0.01)
        XCTAssertEqual(a.overall?.starvedTickShare ?? 0, 1, accuracy: 0.01)
        XCTAssertFalse(reasons(a).contains("more CPU-bound workers than cores"), reasons(a))
        XCTAssertFalse(reasons(a).contains("More runnable work than cores"), reasons(a))
        XCTAssertTrue(reasons(a).contains("Other programs on the machine held the CPUs"), reasons(a))
    }

    /// A change of model read from a machine other programs kept busy: one thread that reads
    /// a socket 40% of its time and queues 40% behind other programs would be advised
    /// threads; that rests on a machine that was not the program's alone → undecided.
    func testChangeOfModelOnALoadedMachineIsUndecided() throws {
        let cycle: [Step] = [Self.cpu, Self.read, Self.read, Self.queued, Self.queued]
        let quiet = Analyzer.analyze(Self.machine(Self.program(1, cycle), other: 0.1))
        XCTAssertEqual(quiet.recommendation?.strategy, .threads, reasons(quiet))
        let loaded = Analyzer.analyze(Self.machine(Self.program(1, cycle), other: 1.4))
        let r = try XCTUnwrap(loaded.recommendation)
        XCTAssertEqual(r.strategy, .undecided, reasons(loaded))
        XCTAssertTrue(r.reasons.first?.text.hasPrefix("Undecided: other programs held the CPUs — they used 1.4 of 2 cores") == true, reasons(loaded))
        XCTAssertTrue(reasons(loaded).contains("re-record on a quieter machine, or run `forkcast experiment`")
                      || reasons(loaded).contains("Re-record on a quieter machine, or run `forkcast experiment`"), reasons(loaded))
    }

    /// The record round-trips through the file format, is absent from older profiles, and
    /// absurd figures are refused with one line.
    func testMachineRecordInTheProfileFormat() throws {
        var p = Self.machine(Self.program(2, [Self.cpu, Self.queued]), other: 1.0, steal: 0.1)
        p.recording.machine?.samples = [MachineLoadSample(timeNs: 100_000_000, intervalNs: 100_000_000, busyNs: 200_000_000, stealNs: 0, running: 4)]
        let back = try Profile.decode(p.encoded(gzip: true))
        XCTAssertEqual(back.recording.machine, p.recording.machine)
        p.recording.machine = nil
        let text = String(decoding: try p.encoded(gzip: false), as: UTF8.self)
        XCTAssertFalse(text.contains("\"machine\""), "absent, not null")
        XCTAssertNil(try Profile.decode(Data(text.utf8)).recording.machine)
        var bad = Self.machine(Self.program(2, [Self.cpu]), other: 0)
        let busy = bad.recording.machine?.busyNs ?? 0
        bad.recording.machine?.stealNs = busy + 1
        XCTAssertThrowsError(try bad.encoded(gzip: false)) { error in
            XCTAssertTrue("\(error)".contains("recording.machine"), "\(error)")
        }
    }

    /// Steal (a VM's other guests) is other programs' load too, and the finding says so.
    func testStealCountsAsExternal() throws {
        let a = Analyzer.analyze(Self.machine(Self.program(2, [Self.cpu, Self.queued]), other: 0.8, steal: 0.5))
        let f = try XCTUnwrap(a.findings.first { $0.id == "recording.external-load" })
        XCTAssertTrue(f.detail.contains("0.5 of it stolen by the hypervisor"), f.detail)
        XCTAssertEqual(f.metrics["steal_cores"] ?? 0, 0.5, accuracy: 0.01)
    }
}
