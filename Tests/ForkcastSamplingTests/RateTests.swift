import Foundation
import XCTest
import ForkcastModel
import ForkcastSampling
import ForkcastTestSupport

/// Issue 13 parts 2 and 3, functionally (the timings are in benchmarks/rate): a thread
/// that has not run reuses its previous sample exactly, a thread that moved gets its new
/// stack at the next tick, and attaching to a process tree samples every process from
/// the first ticks, leaving nothing stopped and the profile written.
final class RateTests: XCTestCase {
    func names(_ profile: Profile, _ sample: Sample) -> [String] {
        profile.stacks[Int(sample.stack)].frames.map { profile.frames[Int($0)].name }
    }

    /// Both ways of knowing a thread has not run: the kernel's scheduler events (no read at
    /// all; needs root or CAP_PERFMON) and, without them, /proc's syscall line + schedstat.
    func testThreadsThatNeverRunReuseTheirSampleExactly() throws {
        try checkReuse(schedulerEvents: true)
        try checkReuse(schedulerEvents: false)
    }

    func checkReuse(schedulerEvents: Bool) throws {
        let program = try Fixtures.cProgram("idle_waiters")
        let env = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
        var options = RecordOptions(rateHz: 100)
        options.schedulerEvents = schedulerEvents
        let outcome = try Recorder(options: options)
            .record(.launch(executable: program, arguments: [program, "1.6", "6", "0.8"], environment: env,
                            io: LaunchIO(standardOutput: open("/dev/null", O_WRONLY))))
        let profile = outcome.profile
        XCTAssertNoThrow(try profile.validate())
        XCTAssertEqual(outcome.rootExit?.code, 0)
        XCTAssertGreaterThan(profile.stats.reusedSamples, 0, "parked threads never run: their samples are reused")
        let unavailable = profile.recording.notes.first { $0.contains("scheduler events unavailable") }
        if !schedulerEvents {
            XCTAssertEqual(profile.stats.reusedOnEvents, 0)
        } else if let unavailable {
            // Only where system-wide tracing is not permitted to this user.
            XCTAssertNotEqual(geteuid(), 0, "as root the scheduler events must open: \(unavailable)")
        } else {
            // Six parked threads over ~1.2 s at 100 Hz: nearly all reused with no read.
            XCTAssertGreaterThan(profile.stats.reusedOnEvents, 400, "\(profile.stats)")
        }

        // Each parked thread: every sample taken while it was parked has one and the same
        // stack, in park_forever, as a lock wait (the wake-up at the very end aside).
        let parked = profile.threads.filter { $0.name == "parked" }
        XCTAssertEqual(parked.count, 6, "\(profile.threads.map(\.name))")
        for thread in parked {
            // Between the start-up (the threads take the mutex in turn) and the release at
            // 1.6 s, a parked thread does not run.
            let samples = profile.samples.filter {
                $0.tid == thread.tid && $0.timeNs > 300_000_000 && $0.timeNs < 1_400_000_000
            }
            XCTAssertGreaterThan(samples.count, 80, "a parked thread is sampled at every tick: \(samples.count)")
            XCTAssertTrue(samples.allSatisfy { $0.state == .lockWait }, "\(samples.map(\.state))")
            let stacks = Set(samples.map(\.stack))
            XCTAssertEqual(stacks.count, 1, "one stack for a thread that never ran: \(stacks.map { names(profile, Sample(timeNs: 0, pid: 0, tid: 0, stack: $0, state: .other, wait: -1)) })")
            if let first = samples.first {
                XCTAssertTrue(names(profile, first).contains("park_forever"), "\(names(profile, first))")
                XCTAssertFalse(profile.stacks[Int(first.stack)].truncated, "\(names(profile, first))")
            }
            XCTAssertEqual(Set(samples.map(\.wait)).count, 1, "the same wait (futex) every time")
        }

        // The mover: in wait_before until it is woken, then in wait_after from the next
        // tick on — never the old stack again once the new one was seen.
        let mover = try XCTUnwrap(profile.threads.first { $0.name == "mover" })
        let moverSamples = profile.samples.filter { $0.tid == mover.tid }.sorted { $0.timeNs < $1.timeNs }
        let phases = moverSamples.map { s -> Int in
            let n = names(profile, s)
            return n.contains("wait_before") ? 0 : n.contains("wait_after") ? 1 : -1
        }
        let before = phases.filter { $0 == 0 }.count, after = phases.filter { $0 == 1 }.count
        XCTAssertGreaterThan(before, 30, "samples in wait_before: \(before)")
        XCTAssertGreaterThan(after, 30, "samples in wait_after: \(after)")
        if let firstAfter = phases.firstIndex(of: 1) {
            XCTAssertFalse(phases[firstAfter...].contains(0), "the old stack came back after the thread moved: \(phases)")
            XCTAssertTrue(phases[..<firstAfter].allSatisfy { $0 != 1 })
            // At most one tick between the last sample of the old stack and the first of
            // the new one (the tick that saw it running, if any).
            if let lastBefore = phases.lastIndex(of: 0) {
                XCTAssertLessThanOrEqual(firstAfter - lastBefore, 2, "ticks between the two stacks: \(phases)")
            }
        }
    }

    /// The one change of state that needs no CPU: a sleeping thread that is woken but kept
    /// off its CPU (another process computes there at real-time priority) is runnable from
    /// the first tick after the wake-up — not still waiting (its schedstat does not move),
    /// not on CPU — with the exact stack it slept with.
    func testAWokenThreadKeptOffTheCPUIsRunnableWithTheStackItSleptWith() throws {
        let program = try Fixtures.cProgram("woken_starved")
        // The CPU to keep busy: the highest this process may use (a cpuset may skip some).
        let allowed = try Fixtures.run(program, ["cpu"]).stdout.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard allowed.count == 2, allowed[1] >= 2 else { throw XCTSkip("needs 2 CPUs: one kept busy, one for the recorder") }
        let cpu = String(allowed[0])
        let forkcast = try Fixtures.forkcastBinary()
        let path = Fixtures.scratch.appendingPathComponent("starved-\(UUID().uuidString.prefix(6)).profile.json").path
        let recorder = try BackgroundProgram([forkcast, "record", "-q", "--rate", "100", "-o", path, "--", program, "sleeper", cpu],
                                             stdout: .pipe)
        let ready = recorder.readLine()
        let sleeper = try XCTUnwrap(Int32(ready.dropFirst("ready ".count)), ready)
        var woken = false
        defer {
            if !woken { kill(sleeper, SIGUSR1) }  // it ends once woken
            recorder.wait()
        }
        usleep(500_000)  // asleep in read(), sampled
        let hog = try BackgroundProgram([program, "hog", cpu, "0.8"], stdout: .pipe)
        defer { hog.wait() }
        let hogging = hog.readLine()
        if hogging == "no-fifo" { throw XCTSkip("woken_starved's hog needs SCHED_FIFO (root or RLIMIT_RTPRIO)") }
        XCTAssertEqual(hogging, "hogging")
        kill(sleeper, SIGUSR1)
        woken = true
        let rest = recorder.readToEnd()
        XCTAssertEqual(recorder.wait(), 0)
        let starvedMs = try XCTUnwrap(rest.split(separator: "\n").first { $0.hasPrefix("starved_ms=") }
            .flatMap { Int($0.dropFirst("starved_ms=".count)) }, rest)
        XCTAssertGreaterThanOrEqual(starvedMs, 400, "the hog kept the woken thread off its CPU for \(starvedMs) ms only")

        let profile = try Profile.decode(Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertNoThrow(try profile.validate())
        let row = try XCTUnwrap(profile.threads.firstIndex { $0.name == "starved" })
        let samples = profile.samples.filter { $0.thread == Int32(row) }.sorted { $0.timeNs < $1.timeNs }
        // Asleep in read() (ioWait), then runnable from the first tick after the wake-up
        // until it ran (starved_ms, at 100 Hz), on the same stack, with no wait.
        // (The first tick may see the thread still starting up, before its read.)
        let fromSleep = samples.drop { $0.state != .ioWait }
        let asleep = fromSleep.prefix { $0.state == .ioWait }
        XCTAssertGreaterThan(asleep.count, 20, "\(samples.map(\.state.rawValue))")
        let slept = try XCTUnwrap(asleep.last)
        XCTAssertTrue(names(profile, slept).contains("wait_in_read"), "\(names(profile, slept))")
        let after = fromSleep.dropFirst(asleep.count)
        XCTAssertEqual(after.first?.state, .runnable, "the first sample after the wake-up: \(after.prefix(3).map(\.state))")
        // Until it runs: runnable, on the stack it slept with, with no wait. (Once it ran, the
        // next tick may still say runnable — it waited far longer than it ran — on a new
        // stack: those are not counted.) A rule on schedstat alone would say io_wait here.
        let starved = after.prefix { $0.state == .runnable && $0.stack == slept.stack }
        // (Not one per 10 ms: the busy CPU leaves the recorder and everything else one CPU.)
        XCTAssertGreaterThanOrEqual(starved.count, 10, "\(samples.map(\.state.rawValue))")
        XCTAssertTrue(starved.allSatisfy { $0.wait == -1 }, "a woken thread waits for nothing but a CPU")
    }

    func testAttachingToAProcessTreeSamplesEveryProcessFromTheFirstTicks() throws {
        let program = try Fixtures.cProgram("process_tree")
        let forkcast = try Fixtures.forkcastBinary()
        // 5 processes with 4 threads each (plus the parent's): a small server's shape.
        let tree = try BackgroundProgram([program, "4", "3", "20"], stdout: .pipe, ownGroup: true)
        defer { tree.stop() }
        let line = tree.readLine()
        XCTAssertTrue(line.hasPrefix("ready"), line)
        let root = tree.pid
        let pids = [root] + RealServers.descendants(of: root)
        XCTAssertEqual(pids.count, 5)

        let path = Fixtures.scratch.appendingPathComponent("tree-\(UUID().uuidString.prefix(6)).profile.json").path
        let r = try Fixtures.run(forkcast, ["record", "-q", "--pid", String(root), "--rate", "100", "--duration", "1", "-o", path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let profile = try Profile.decode(Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertNoThrow(try profile.validate())
        XCTAssertEqual(Set(profile.processes.map(\.pid)), Set(pids))

        // Every process has samples in the first 200 ms, of every one of its threads.
        for pid in pids {
            let early = profile.samples.filter { $0.pid == pid && $0.timeNs < 200_000_000 }
            let threads = Set(profile.threads.filter { $0.pid == pid }.map(\.tid))
            XCTAssertEqual(threads.count, 4, "threads of \(pid)")
            XCTAssertEqual(Set(early.map(\.tid)), threads, "process \(pid): threads sampled in the first 200 ms")
        }
        // The first tick is at the start: the warm-up happened before it, not in it.
        let firstTick = profile.samples.map(\.timeNs).min() ?? .max
        XCTAssertLessThan(firstTick, 20_000_000, "first sample at \(firstTick) ns")
        XCTAssertGreaterThan(profile.stats.reusedSamples, 0)
        let waits = profile.samples.filter { $0.state == .lockWait }
        XCTAssertTrue(waits.contains { names(profile, $0).contains("blocked_worker") })

        // Nothing left stopped or traced.
        for pid in pids {
            for tid in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? [] {
                let status = (try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/status", encoding: .utf8)) ?? ""
                XCTAssertTrue(status.contains("TracerPid:\t0\n"), "\(pid)/\(tid) still traced")
                XCTAssertFalse(status.contains("State:\tt") || status.contains("State:\tT"), "\(pid)/\(tid) left stopped")
            }
        }
    }

    /// A descendant that cannot be traced (here: gdb holds it) is left out with a note; the
    /// rest of the tree is recorded and the profile written. (A backend that is exiting
    /// as Forkcast attaches refuses the same way and is skipped silently.)
    func testAttachingLeavesOutADescendantItMayNotTrace() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/gdb") else { throw XCTSkip("gdb is not installed") }
        let parent = try BackgroundProgram(["/bin/sh", "-c", "sleep 6 & wait"], stdout: .inherit, ownGroup: true)
        defer { parent.stop() }
        var child: Int32?
        for _ in 0..<100 where child == nil {
            child = RealServers.descendants(of: parent.pid).first
            if child == nil { usleep(20_000) }
        }
        let held = try XCTUnwrap(child, "sh started no child")
        let gdb = try BackgroundProgram(["/usr/bin/gdb", "-q", "-nx", "-batch", "-p", String(held), "-ex", "shell sleep 3"],
                                        stdout: .null, stderr: .null)
        defer { gdb.wait() }
        func tracer(_ pid: Int32) -> String? {
            (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8))?
                .split(separator: "\n").first { $0.hasPrefix("TracerPid:") }.map { String($0.dropFirst(10)).trimmingCharacters(in: .whitespaces) }
        }
        for _ in 0..<200 where tracer(held) == "0" { usleep(20_000) }
        XCTAssertNotEqual(tracer(held), "0", "gdb did not attach")

        let path = Fixtures.scratch.appendingPathComponent("held-\(UUID().uuidString.prefix(6)).profile.json").path
        let r = try Fixtures.run(try Fixtures.forkcastBinary(),
                                 ["record", "-q", "--pid", String(parent.pid), "--duration", "0.5", "-o", path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let profile = try Profile.decode(Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertNoThrow(try profile.validate())
        XCTAssertTrue(profile.samples.contains { $0.pid == parent.pid }, "the parent is recorded")
        XCTAssertFalse(profile.samples.contains { $0.pid == held }, "the held child has no samples")
        XCTAssertFalse(profile.processes.contains { $0.pid == held }, "nor a process row: it was not recorded")
        XCTAssertTrue(profile.recording.notes.contains { $0.contains("process \(held)") && $0.contains("not recorded") },
                      "\(profile.recording.notes)")
    }

    /// The same on Debian's PostgreSQL 15 under pgbench (the server of issue 13): every
    /// process alive at the start has a sample in the first 200 ms, the server is left
    /// running and untraced, the profile is written.
    func testAttachingToPostgresSamplesEveryProcessFromTheFirstTicks() throws {
        let pg: RealServers.Server
        do { pg = try RealServers.postgres() } catch let e as RealServers.Unavailable { throw XCTSkip(e.description) }
        defer { pg.stop() }
        let load = try pg.load(seconds: 4)
        defer { load.wait() }
        usleep(500_000)  // pgbench's backends exist
        let forkcast = try Fixtures.forkcastBinary()
        let path = Fixtures.scratch.appendingPathComponent("pg-\(UUID().uuidString.prefix(6)).profile.json").path
        let r = try Fixtures.run(forkcast, ["record", "-q", "--pid", String(pg.mainPID), "--rate", "100", "--duration", "1.5", "-o", path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let profile = try Profile.decode(Data(contentsOf: URL(fileURLWithPath: path)))
        let atStart = profile.processes.filter { $0.startNs == 0 }
        XCTAssertGreaterThanOrEqual(atStart.count, 6, "postmaster, its background processes and pgbench's backends")
        for p in atStart where p.endNs.map({ $0 > 200_000_000 }) ?? true {
            XCTAssertTrue(profile.samples.contains { $0.pid == p.pid && $0.timeNs < 200_000_000 },
                          "process \(p.pid) \(p.command.first ?? ""): no sample in the first 200 ms")
        }
        for pid in pg.pids {
            let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            guard !status.isEmpty else { continue }  // a backend that ended with its client
            XCTAssertTrue(status.contains("TracerPid:\t0\n"), "\(pid) still traced")
            XCTAssertFalse(status.contains("State:\tt"), "\(pid) left stopped")
        }
        XCTAssertTrue(RealServers.accepts(port: pg.port), "the server still answers")
    }
}
