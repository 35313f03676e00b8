import ForkcastCLI
import ForkcastModel
import ForkcastTestSupport
import Foundation
import XCTest

/// Observer bias reproduced on purpose (docs/analysis.md, "Observer bias"): a request/
/// response pair (Tests/Fixtures/c/pingpong.c), the server pinned to CPU 0 and its client
/// to CPU 1, recorded by `forkcast record --pid` pinned to CPU 1, where each of its wake-ups
/// preempts the client. Whatever the samples saw, the analysis must end with the server's
/// CPU share the kernel measured — read here independently from /proc/PID/task/TID/stat.
final class ObserverBiasCLITests: XCTestCase {
    /// utime + stime of a thread, in seconds.
    static func cpuSeconds(pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is the state (field 3); utime and stime are fields 14 and 15.
        guard fields.count > 13, let u = Double(fields[11]), let s = Double(fields[12]) else { return nil }
        return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The summary marks a corrected thread and shows both figures under the table.
    func testSummaryShowsSampledAndKernelShares() throws {
        var a = Analysis()
        var t = ThreadBreakdown(pid: 40, tid: 41, name: "redis-server", samples: 300, states: StateShares())
        t.states.onCPU = 0.85
        t.measured = MeasuredCPU(onCPU: 0.85, runnable: 0.05, windowSeconds: 3, sampledRunning: 0.01, tolerance: 0.11, biased: true)
        var sampled = StateShares()
        sampled.onCPU = 0.01
        sampled.ioWait = 0.99
        t.sampledStates = sampled
        var other = ThreadBreakdown(pid: 40, tid: 42, name: "bio_aof", samples: 300, states: StateShares())
        other.measured = MeasuredCPU(onCPU: 0, runnable: 0, windowSeconds: 3, sampledRunning: 0, tolerance: 0.1, biased: false)
        a.threads = [t, other]
        let text = AnalysisText.render(a)
        XCTAssertTrue(text.contains("redis-server*"), text)
        XCTAssertFalse(text.contains("bio_aof*"), text)
        XCTAssertTrue(text.contains("tid 41 redis-server: on CPU + runnable sampled 1% (1% + 0%), kernel 90% (85% + 5%)"), text)
        a.threads = [other]
        XCTAssertFalse(AnalysisText.render(a).contains("observer bias"), "nothing to say when the samples agree")
    }

    func testPinnedPingPongServerGetsTheKernelsCPUShare() throws {
        guard ProcessInfo.processInfo.activeProcessorCount >= 2 else { throw XCTSkip("needs 2 CPUs to pin server and client apart") }
        guard let taskset = Fixtures.which("taskset") else { throw XCTSkip("taskset (util-linux) not installed") }
        let program = try Fixtures.cProgram("pingpong")
        let forkcast = try CLI.binary()
        let out = Fixtures.scratch.appendingPathComponent("pingpong-\(UUID().uuidString.prefix(8)).profile.json.gz").path

        // 8 s bounded by the program itself; 3 µs of CPU per request: the client, not the server,
        // sets the pace, so the server drains what is in flight as soon as the client is preempted.
        let server = try BackgroundProgram([program, "8", "0", "1", "3"])
        defer { server.stop(SIGTERM) }
        let pid = server.pid
        usleep(700_000)
        let start = (cpu: Self.cpuSeconds(pid: pid), wall: Date())
        let rec = try Fixtures.run(taskset, ["-c", "1", forkcast, "record", "-q", "--pid", "\(pid)", "--duration", "3", "-o", out])
        let end = (cpu: Self.cpuSeconds(pid: pid), wall: Date())
        XCTAssertEqual(rec.status, 0, rec.stderr)
        let c0 = try XCTUnwrap(start.cpu), c1 = try XCTUnwrap(end.cpu)
        let procShare = (c1 - c0) / end.wall.timeIntervalSince(start.wall)

        let profile = try Profile.decode(Data(contentsOf: URL(fileURLWithPath: out)))
        let row = try XCTUnwrap(profile.threads.first { $0.tid == pid })
        let accounted = try XCTUnwrap(row.measuredShares, "the recorder writes the kernel's accounting")
        let json = try CLI.run(["analyze", "--json", out])
        XCTAssertEqual(json.status, 0, json.stderr)
        let a = try Analysis.decode(Data(json.stdout.utf8))
        let t = try XCTUnwrap(a.threads.first { $0.tid == pid })
        let m = try XCTUnwrap(t.measured)
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
        print("OBSERVER-BIAS pingpong (forkcast on CPU 1, load \(load)): /proc \(Int(procShare * 100))% · accounted on CPU "
              + "\(Int(m.onCPU * 100))% + runnable \(Int(m.runnable * 100))% · sampled running \(Int(m.sampledRunning * 100))% · "
              + "corrected on CPU \(Int(t.states.onCPU * 100))% · biased \(m.biased)")

        // The recorder's accounting is the kernel's: /proc's tick-based figure agrees.
        XCTAssertEqual(accounted.onCPU, procShare, accuracy: 0.12, "schedstat vs /proc stat over the recording")
        // The analysis ends within sampling error of the kernel, biased samples or not …
        XCTAssertEqual(t.states.onCPU + t.states.runnable, m.running, accuracy: m.tolerance + 0.01)
        if m.biased {
            // … and, where it corrected, on the kernel's on-CPU share, saying so.
            XCTAssertEqual(t.states.onCPU, procShare, accuracy: 0.12)
            XCTAssertNotNil(t.sampledStates)
            let f = try XCTUnwrap(a.findings.first { $0.id == "recording.observer-bias" })
            XCTAssertTrue(f.detail.contains("tid \(pid)"), f.detail)
        }
        // A server the kernel saw running is never idle.
        if m.onCPU >= 0.1 { XCTAssertFalse(t.idle, t.idleReason ?? "") }
    }
}
