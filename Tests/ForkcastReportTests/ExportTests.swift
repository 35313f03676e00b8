import Foundation
import XCTest
import ForkcastModel
@testable import ForkcastReport
import ForkcastTestSupport

/// Each export read back by its real consumer (or, where none is packaged, by the
/// consumer's own parsing rule) and checked against the profile's totals.
final class ExportTests: XCTestCase {
    let period: UInt64 = 10_000_000  // 100 Hz

    // MARK: speedscope

    func testSpeedscopeIsValidAgainstTheSchemaAndKeepsEveryThreadsTime() throws {
        for profile in [SyntheticProfiles.mutexContention(ticks: 300), SyntheticProfiles.pythonWorkers(ticks: 200), SyntheticProfiles.hostile()] {
            let data = try SpeedscopeReporter().render(ReportInput(profile: profile))
            let file = try Tools.write(data, name: "out.speedscope.json")
            let schema = Tools.testsDirectory.appendingPathComponent("Fixtures/speedscope-file-format-schema.json").path
            let out = try Tools.python("""
                import json, sys, jsonschema
                schema = json.load(open(sys.argv[1])); doc = json.load(open(sys.argv[2]))
                jsonschema.Draft7Validator.check_schema(schema)
                jsonschema.validate(doc, schema, cls=jsonschema.Draft7Validator)
                frames = doc["shared"]["frames"]
                for p in doc["profiles"]:
                    assert len(p["samples"]) == len(p["weights"]), "samples and weights differ in length"
                    assert all(0 <= i < len(frames) for s in p["samples"] for i in s), "frame index out of range"
                    print(json.dumps({"name": p["name"], "total": sum(p["weights"]), "end": p["endValue"],
                                      "first": [frames[i]["name"] for i in p["samples"][0]]}))
                """, [schema, file.path])
            let rows = out.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
            XCTAssertEqual(rows.count, profile.threads.count)
            for (row, thread) in zip(rows, profile.threads) {
                let n = profile.samples.filter { $0.tid == thread.tid }.count
                XCTAssertEqual(row["total"] as? Int, n * Int(period), "\(thread.name)")
                XCTAssertEqual(row["end"] as? Int, n * Int(period))
                XCTAssertTrue((row["name"] as! String).hasPrefix(thread.name))
                // Outermost first: the first frame is the root of the recorded stack.
                let firstSample = profile.samples.first { $0.tid == thread.tid }!
                let expected = profile.stacks[Int(firstSample.stack)].frames.reversed().map { profile.frames[Int($0)].name }
                XCTAssertEqual(row["first"] as? [String], expected)
            }
        }
    }

    // MARK: folded

    /// flamegraph.pl's own parse of a folded line: `/^(.*)\\s+?(\\d+(?:\\.\\d*)?)$/`, then split on `;`.
    static let flamegraphParse = """
        import re, sys, json
        total = 0; stacks = []
        for line in open(sys.argv[1], encoding="utf-8"):
            line = line.rstrip("\\n")
            m = re.match(r"^(.*)\\s+?(\\d+(?:\\.\\d*)?)$", line)
            assert m, "unparseable line: %r" % line
            total += int(m.group(2)); stacks.append([m.group(1).split(";"), int(m.group(2))])
        print(json.dumps({"total": total, "stacks": stacks}))
        """

    func testFoldedStacksParseAsFlameGraphDoesAndSumToTheSamples() throws {
        let profile = SyntheticProfiles.mutexContention(ticks: 500)
        let data = try FoldedReporter().render(ReportInput(profile: profile))
        let out = try Tools.python(Self.flamegraphParse, [try Tools.write(data, name: "a.folded").path])
        let doc = try JSONSerialization.jsonObject(with: Data(out.utf8)) as! [String: Any]
        XCTAssertEqual(doc["total"] as? Int, profile.samples.count)
        let stacks = doc["stacks"] as! [[Any]]
        XCTAssertEqual(stacks.count, 2, "one line per distinct stack")
        for entry in stacks {
            let frames = entry[0] as! [String]
            XCTAssertEqual(frames.first, "start_thread", "outermost first")
            XCTAssertTrue(["__futex_abstimed_wait_common", "clock_nanosleep"].contains(frames.last!))
        }
        let lockCount = stacks.first { ($0[0] as! [String]).last == "__futex_abstimed_wait_common" }![1] as! Int
        XCTAssertEqual(lockCount, profile.samples.filter { $0.state == .lockWait }.count)
    }

    func testFoldedEscapesSeparatorsAndLineBreaksAndWritesPythonFramesWithTheirFile() throws {
        let profile = SyntheticProfiles.hostile()
        let data = try FoldedReporter().render(ReportInput(profile: profile))
        let out = try Tools.python(Self.flamegraphParse, [try Tools.write(data, name: "h.folded").path])
        let doc = try JSONSerialization.jsonObject(with: Data(out.utf8)) as! [String: Any]
        XCTAssertEqual(doc["total"] as? Int, profile.samples.count)
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertEqual(text.split(separator: "\n", omittingEmptySubsequences: false).count, profile.stacks.count + 1)
        for entry in doc["stacks"] as! [[Any]] {
            let frames = entry[0] as! [String]
            let stack = profile.stacks.first { $0.frames.count == frames.count }
            XCTAssertNotNil(stack, "the escaped names keep the frame count: \(frames)")
        }
        XCTAssertTrue(text.contains("\\x1b[31mred\\x1b[0m\\x3bsemi\\x3bcolon"))
        XCTAssertTrue(text.contains("line\\nbreak"))
        XCTAssertTrue(text.contains("<img src=x onerror=\"window.__pwned=2\"> (/app/\"x\".py:2)"), "Python frames read name (file:line)")
    }

    func testFoldedPerStateSplitsTheSamplesByState() throws {
        let profile = SyntheticProfiles.pythonWorkers(ticks: 100)
        let parts = try FoldedReporter().renderPerState(ReportInput(profile: profile))
        XCTAssertEqual(Set(parts.map(\.state)), Set(profile.samples.map(\.state)))
        for part in parts {
            let out = try Tools.python(Self.flamegraphParse, [try Tools.write(part.data, name: "\(part.state.rawValue).folded").path])
            let doc = try JSONSerialization.jsonObject(with: Data(out.utf8)) as! [String: Any]
            XCTAssertEqual(doc["total"] as? Int, profile.samples.filter { $0.state == part.state }.count, part.state.rawValue)
        }
    }

    // MARK: Chrome trace

    /// Checked field by field against the Trace Event Format document: the JSON Object
    /// Format has `traceEvents` and optional `displayTimeUnit` ("ms" or "ns"); complete
    /// events have `ph` "X", `name`, `cat`, `ts` and `dur` in microseconds, `pid`, `tid`,
    /// optional `args`; metadata events have `ph` "M" with `name` process_name /
    /// thread_name / process_sort_index and their value in `args`.
    func testChromeTraceFollowsTheTraceEventFormat() throws {
        let profile = SyntheticProfiles.pythonWorkers(ticks: 250)
        let data = try ChromeTraceReporter().render(ReportInput(profile: profile))
        let top = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(top["displayTimeUnit"] as? String, "ms")
        let events = try XCTUnwrap(top["traceEvents"] as? [[String: Any]])
        var processNames: [Int: String] = [:], threadNames: [Int: String] = [:]
        var spans: [Int: [(ts: Double, dur: Double, name: String)]] = [:]
        for e in events {
            let ph = try XCTUnwrap(e["ph"] as? String)
            let pid = try XCTUnwrap(e["pid"] as? Int), tid = try XCTUnwrap(e["tid"] as? Int)
            let name = try XCTUnwrap(e["name"] as? String)
            switch ph {
            case "M":
                let args = try XCTUnwrap(e["args"] as? [String: Any])
                switch name {
                case "process_name": processNames[pid] = try XCTUnwrap(args["name"] as? String)
                case "thread_name": threadNames[tid] = try XCTUnwrap(args["name"] as? String)
                case "process_sort_index": XCTAssertNotNil(args["sort_index"] as? Int)
                default: XCTFail("unknown metadata event \(name)")
                }
                XCTAssertNil(e["ts"], "metadata events carry no timestamp here")
            case "X":
                XCTAssertEqual(e["cat"] as? String, "state")
                XCTAssertNotNil(ThreadState(rawValue: name), "named after a thread state: \(name)")
                let ts = try XCTUnwrap((e["ts"] as? NSNumber)?.doubleValue), dur = try XCTUnwrap((e["dur"] as? NSNumber)?.doubleValue)
                XCTAssertGreaterThanOrEqual(ts, 0)
                XCTAssertGreaterThan(dur, 0)
                XCTAssertNotNil(e["args"] as? [String: Any])
                spans[tid, default: []].append((ts, dur, name))
            default:
                XCTFail("unexpected phase \(ph)")
            }
        }
        XCTAssertEqual(Set(processNames.keys), Set(profile.processes.map { Int($0.pid) }))
        for t in profile.threads {
            XCTAssertEqual(threadNames[Int(t.tid)], t.name)
            let mine = try XCTUnwrap(spans[Int(t.tid)]).sorted { $0.ts < $1.ts }
            let samples = profile.samples.filter { $0.tid == t.tid }
            // One span per run of equal states, covering the thread's sampled time exactly.
            var runs = 0
            var last: ThreadState?
            for s in samples where s.state != last { runs += 1; last = s.state }
            XCTAssertEqual(mine.count, runs, t.name)
            XCTAssertEqual(mine.reduce(0) { $0 + $1.dur }, Double(samples.count) * Double(period) / 1000, accuracy: 0.01)
            for (a, b) in zip(mine, mine.dropFirst()) { XCTAssertLessThanOrEqual(a.ts + a.dur, b.ts + 0.001, "spans do not overlap") }
            XCTAssertEqual(mine.first?.name, samples.first?.state.rawValue)
        }
    }

    // MARK: pprof

    func testPprofIsReadByGoToolPprofWithTheProfilesTotals() throws {
        guard let go = Tools.which("go") else { throw XCTSkip("go is not installed (apt-get install -y golang-go; see browser/ensure-chromium.sh)") }
        let profile = SyntheticProfiles.pythonWorkers(ticks: 300)
        let data = try PprofReporter().render(ReportInput(profile: profile))
        XCTAssertTrue(Gzip.isGzip(data))
        let file = try Tools.write(data, name: "p.pb.gz")
        let home = try Tools.tempDir().path
        func pprof(_ args: [String]) throws -> String {
            let r = try Tools.run(go, ["tool", "pprof"] + args + [file.path], environment: ["HOME": home, "PPROF_TMPDIR": home])
            XCTAssertEqual(r.status, 0, r.stderr)
            return r.stdout
        }
        func total(_ text: String) -> String? {
            guard let range = text.range(of: #"of ([0-9.]+[a-z]*) total"#, options: .regularExpression) else { return nil }
            return String(text[range]).replacingOccurrences(of: "of ", with: "").replacingOccurrences(of: " total", with: "")
        }
        XCTAssertEqual(total(try pprof(["-top", "-sample_index=samples"])), "\(profile.samples.count)")
        XCTAssertEqual(total(try pprof(["-top", "-sample_index=wall", "-unit=ms"])), "\(profile.samples.count * 10)ms")
        for state in [ThreadState.onCPU, .gilWait, .ioWait, .lockWait] {
            let n = profile.samples.filter { $0.state == state }.count
            XCTAssertEqual(total(try pprof(["-top", "-sample_index=\(state.rawValue)", "-unit=ms"])), "\(n * 10)ms", state.rawValue)
        }
        // The hottest on-CPU function is the Python frame the workers compute in.
        let top = try pprof(["-top", "-sample_index=on_cpu"])
        let lines = top.split(separator: "\n")
        let header = try XCTUnwrap(lines.firstIndex { $0.contains("flat%") }, top)
        let firstRow = lines.dropFirst(header + 1).first
        XCTAssertTrue(firstRow?.hasSuffix("crunch") ?? false, top)
        // Labels: thread, tid, pid and state, filterable.
        let tags = try pprof(["-tags"])
        for key in ["thread:", "tid:", "pid:", "state:"] { XCTAssertTrue(tags.contains(key), "\(key) in \(tags)") }
        let worker0 = profile.samples.filter { $0.tid == 410 }.count
        let focused = try pprof(["-top", "-nodefraction=0", "-sample_index=samples", "-tagfocus=thread=worker-0$"])
        XCTAssertTrue(focused.contains("accounting for \(worker0), "), focused)
    }

    // MARK: JSON

    func testJSONReportCarriesTheCountsTheAnalysisAndTheExperiment() throws {
        let profile = SyntheticProfiles.mutexContention(ticks: 200)
        let input = ReportInput(profile: profile, analysis: SyntheticProfiles.sampleAnalysis(), experiment: SyntheticProfiles.sampleExperiment())
        let data = try JSONReporter().render(input)
        let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(doc["format"] as? String, "forkcast-report")
        XCTAssertEqual(doc["format_version"] as? Int, 1)
        let rec = try XCTUnwrap(doc["recording"] as? [String: Any])
        XCTAssertEqual(rec["samples"] as? Int, profile.samples.count)
        let states = try XCTUnwrap(rec["states"] as? [String: Int])
        XCTAssertEqual(states["lock_wait"], profile.samples.filter { $0.state == .lockWait }.count)
        XCTAssertEqual(states.values.reduce(0, +), profile.samples.count)
        XCTAssertEqual((rec["per_thread"] as? [Any])?.count, 4)
        let analysis = try XCTUnwrap(doc["analysis"] as? [String: Any])
        XCTAssertEqual((analysis["recommendation"] as? [String: Any])?["strategy"] as? String, "processes")
        let experiment = try XCTUnwrap(doc["experiment"] as? [String: Any])
        XCTAssertEqual((experiment["summary"] as? [Any])?.count, 7)
    }

    // MARK: errors

    func testProfileFormatsRefuseAnInputWithoutAProfile() {
        let input = ReportInput(experiment: SyntheticProfiles.sampleExperiment())
        for reporter in [SpeedscopeReporter() as any ReporterPlugin, FoldedReporter(), ChromeTraceReporter(), PprofReporter()] {
            XCTAssertThrowsError(try reporter.render(input)) { error in
                XCTAssertEqual(error as? ReportError, .needsProfile(format: reporter.descriptor.name))
            }
        }
        XCTAssertThrowsError(try HTMLReporter().render(ReportInput()))
        XCTAssertNoThrow(try HTMLReporter().render(input))
        XCTAssertNoThrow(try JSONReporter().render(input))
    }

    func testWritingToAMissingDirectoryOrADirectoryIsOneClearError() throws {
        let input = ReportInput(profile: SyntheticProfiles.mutexContention(ticks: 20))
        XCTAssertThrowsError(try ReportWriter.write(input, reporter: JSONReporter(), to: "/nonexistent-forkcast-dir/r.json")) { error in
            XCTAssertEqual("\(error)", "cannot write the report to /nonexistent-forkcast-dir/r.json: the directory /nonexistent-forkcast-dir does not exist")
        }
        let dir = try Tools.tempDir()
        XCTAssertThrowsError(try ReportWriter.write(input, reporter: JSONReporter(), to: dir.path)) { error in
            XCTAssertTrue("\(error)".hasSuffix("it is a directory"), "\(error)")
        }
        let written = try ReportWriter.write(input, reporter: JSONReporter(), to: dir.appendingPathComponent("ok.json").path)
        XCTAssertTrue(FileManager.default.fileExists(atPath: written))
    }

    func testDefaultPathNamesTheProgramAndTime() {
        let input = ReportInput(profile: SyntheticProfiles.pythonWorkers(ticks: 5))
        let path = ReportWriter.defaultPath(for: input, fileExtension: "html", now: Date(timeIntervalSince1970: 1_767_225_600))
        XCTAssertEqual(path, "reports/work-20260101-000000.html")
    }
}
