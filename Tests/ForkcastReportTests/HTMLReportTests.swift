import Foundation
import XCTest
import ForkcastModel
@testable import ForkcastReport
import ForkcastTestSupport

/// The HTML report: escaping and self-containment checked on the bytes, behaviour checked
/// in headless Chromium through a self-test the tests inject into the page (browser/
/// selftest.js drives the page's controls and writes what it then shows into
/// `<pre id="forkcast-selftest">`; the assertions on what that must be are here, against
/// the profile). Reports themselves carry no test hook.
final class HTMLReportTests: XCTestCase {

    // MARK: bytes

    func testHostileNamesCannotEscapeTheDataElement() throws {
        let profile = SyntheticProfiles.hostile()
        let html = try HTMLReporter().render(ReportInput(profile: profile))
        let text = String(decoding: html, as: UTF8.self)
        XCTAssertEqual(text.components(separatedBy: "<script").count - 1, 2, "only the data element and the page's own script")
        XCTAssertEqual(text.components(separatedBy: "</script>").count - 1, 2)
        XCTAssertFalse(text.contains("<img"), "markup from names never reaches the page as markup")
        XCTAssertFalse(text.contains("\u{1b}"), "no raw ANSI escapes")
        XCTAssertFalse(text.contains("\u{2028}") || text.contains("\u{2029}"))
        // The title is HTML-escaped.
        XCTAssertTrue(text.contains("<title>Forkcast — "))
        // The embedded data decodes back to the exact names.
        let start = try XCTUnwrap(text.range(of: "<script type=\"application/json\" id=\"forkcast-data\">"))
        let end = try XCTUnwrap(text.range(of: "</script>", range: start.upperBound..<text.endIndex))
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text[start.upperBound..<end.lowerBound].utf8)) as? [String: Any])
        let names = try XCTUnwrap((json["frames"] as? [String: Any])?["name"] as? [String])
        XCTAssertEqual(Array(names.prefix(profile.frames.count)), profile.frames.map(\.name))
        let threads = try XCTUnwrap(json["threads"] as? [[String: Any]])
        XCTAssertEqual(threads.map { $0["name"] as? String }, profile.threads.map(\.name))
    }

    func testThePageLoadsNothingFromTheNetwork() throws {
        let html = String(decoding: try HTMLReporter().render(ReportInput(profile: SyntheticProfiles.pythonWorkers(ticks: 50),
                                                                         experiment: SyntheticProfiles.sampleExperiment())), as: UTF8.self)
        for pattern in ["src=\"http", "href=\"http", "@import", "url(http", "<link", "fetch(", "XMLHttpRequest"] {
            XCTAssertFalse(html.contains(pattern), pattern)
        }
        XCTAssertTrue(html.contains("prefers-color-scheme: dark"))
    }

    /// The self-test lives with the tests (browser/selftest.js), not in users' reports; the
    /// page keeps its CSP, and its script and the self-test pass `node --check`.
    func testTheReportShipsNoTestHookAndKeepsItsCSP() throws {
        let html = String(decoding: try HTMLReporter().render(ReportInput(profile: SyntheticProfiles.pythonWorkers(ticks: 50))), as: UTF8.self)
        for hook in ["selftest", "forkcastSelfTest", "forkcast-selftest"] { XCTAssertFalse(html.contains(hook), hook) }
        XCTAssertTrue(html.contains("content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\""))
        let assets = Fixtures.repositoryRoot.appendingPathComponent("assets/report")
        XCTAssertTrue(html.contains(try String(contentsOf: assets.appendingPathComponent("report.js"), encoding: .utf8)),
                      "the page inlines assets/report/report.js as it is")
        XCTAssertTrue(html.contains(try String(contentsOf: assets.appendingPathComponent("report.css"), encoding: .utf8)))
        XCTAssertEqual(try Linters.javaScript([assets.appendingPathComponent("report.js").path, Self.selfTestScript.path]), [])
    }

    func testFlameDataCountsEverySampleOnce() throws {
        let profile = SyntheticProfiles.pythonWorkers(ticks: 120)
        let bytes = try HTMLReportData().build(ReportInput(profile: profile))
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        let flame = try XCTUnwrap(json["flame"] as? [String: Any])
        let cells = try XCTUnwrap(flame["cells"] as? [Int])
        let parent = try XCTUnwrap(flame["parent"] as? [Int])
        XCTAssertEqual(stride(from: 3, to: cells.count, by: 4).reduce(0) { $0 + cells[$1] }, profile.samples.count)
        for (i, p) in parent.enumerated().dropFirst() { XCTAssertLessThan(p, i, "parents come before children") }
        var lockWait = 0
        for i in stride(from: 0, to: cells.count, by: 4) where cells[i + 2] == Int(ThreadState.lockWait.code) { lockWait += cells[i + 3] }
        XCTAssertEqual(lockWait, profile.samples.filter { $0.state == .lockWait }.count)
    }

    func testTimelineLanesAreBoundedAndCoverTheRecording() throws {
        let profile = SyntheticProfiles.mutexContention(ticks: 5000)  // 1000 state changes per thread
        let bytes = try HTMLReportData(maxLaneBins: 200).build(ReportInput(profile: profile))
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        let lanes = try XCTUnwrap((json["timeline"] as? [String: Any])?["lanes"] as? [[String: Any]])
        XCTAssertEqual(lanes.count, 4)
        for lane in lanes {
            let runs = try XCTUnwrap(lane["runs"] as? [Int])
            XCTAssertEqual(lane["resampled"] as? Bool, true)
            XCTAssertLessThanOrEqual(runs.count / 4, 200)
            // Dominant state per bin: lock waits (70% of the time) dominate the lane.
            var byState = [Int: Int]()
            for i in stride(from: 0, to: runs.count, by: 4) { byState[runs[i + 2], default: 0] += runs[i + 1] - runs[i] }
            XCTAssertGreaterThan(byState[Int(ThreadState.lockWait.code)] ?? 0, byState[Int(ThreadState.sleep.code)] ?? 0)
        }
        let small = try HTMLReportData().build(ReportInput(profile: SyntheticProfiles.mutexContention(ticks: 100)))
        let smallJSON = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(small)) as? [String: Any])
        let lane0 = try XCTUnwrap(((smallJSON["timeline"] as? [String: Any])?["lanes"] as? [[String: Any]])?.first)
        let runs = try XCTUnwrap(lane0["runs"] as? [Int])
        XCTAssertEqual(lane0["resampled"] as? Bool, false)
        XCTAssertEqual(runs.first, 0)
        XCTAssertEqual(runs[runs.count - 3], 1_000_000, "the last run ends one period after the last sample (µs)")
    }

    func testPageSizeDoesNotGrowWithTheRecordingsLength() throws {
        // Same threads and stacks, 10× the samples: the page carries counts, not samples.
        let short = try HTMLReporter().render(ReportInput(profile: SyntheticProfiles.large(samples: 20_000, threads: 16)))
        let long = try HTMLReporter().render(ReportInput(profile: SyntheticProfiles.large(samples: 200_000, threads: 16)))
        XCTAssertLessThan(Double(long.count), Double(short.count) * 1.5, "\(short.count) → \(long.count) bytes")
        XCTAssertLessThan(long.count, 10_000_000)
    }

    // MARK: headless Chromium

    static let selfTestScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("browser/selftest.js")

    /// The report with browser/selftest.js added as an inline script after the page's own
    /// (the report's CSP allows inline scripts and nothing else).
    static func withSelfTest(_ html: Data) throws -> Data {
        let text = String(decoding: html, as: UTF8.self)
        let script = try String(contentsOf: selfTestScript, encoding: .utf8)
        let end = try XCTUnwrap(text.range(of: "</body>", options: .backwards), "the report has no </body>")
        return Data(text.replacingCharacters(in: end, with: "<script>\n\(script)</script>\n</body>").utf8)
    }

    /// Loads a report in headless Chromium and returns what its self-test saw.
    func browse(_ input: ReportInput, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        guard let chromium = Tools.which("chromium") ?? Tools.which("chromium-browser") else {
            throw XCTSkip("chromium is not installed: run Tests/ForkcastReportTests/browser/ensure-chromium.sh")
        }
        let html = try Self.withSelfTest(try HTMLReporter().render(input))
        let page = try Tools.write(html, name: "report.html")
        let profileDir = try Tools.tempDir()
        let r = try Tools.run(chromium, [
            "--headless=new", "--disable-gpu", "--no-sandbox", "--no-first-run", "--disable-extensions",
            "--user-data-dir=\(profileDir.path)", "--window-size=1280,1600", "--run-all-compositor-stages-before-draw",
            "--virtual-time-budget=5000", "--enable-logging=stderr", "--v=0", "--dump-dom",
            page.absoluteString,
        ])
        try? FileManager.default.removeItem(at: profileDir)
        XCTAssertEqual(r.status, 0, r.stderr, file: file, line: line)
        XCTAssertFalse(r.stderr.contains("Uncaught"), "script error in the console: \(r.stderr)", file: file, line: line)
        guard let start = r.stdout.range(of: "<pre id=\"forkcast-selftest\">"),
              let end = r.stdout.range(of: "</pre>", range: start.upperBound..<r.stdout.endIndex) else {
            XCTFail("the page did not run its self-test (a script error?): \(r.stderr.suffix(2000))", file: file, line: line)
            return [:]
        }
        let escaped = String(r.stdout[start.upperBound..<end.lowerBound])
        let text = escaped.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&amp;", with: "&")
        let result = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], file: file, line: line)
        XCTAssertEqual(result["errors"] as? [String], [], "script errors", file: file, line: line)
        return result
    }

    func testReportRendersAndRespondsInChromium() throws {
        let profile = SyntheticProfiles.pythonWorkers(ticks: 400)
        let r = try browse(ReportInput(profile: profile, analysis: SyntheticProfiles.sampleAnalysis(), experiment: SyntheticProfiles.sampleExperiment()))
        XCTAssertEqual(r["headline"] as? String, "Use processes: 4 worker processes.high confidence · 90%")

        // Flame graph: the profile's top frames are nodes.
        let flame = try XCTUnwrap(r["flame"] as? [String: Any])
        let names = try XCTUnwrap(flame["names"] as? [String])
        var leafCounts: [String: Int] = [:], rootCounts: [String: Int] = [:]
        for s in profile.samples {
            let frames = profile.stacks[Int(s.stack)].frames
            leafCounts[profile.frames[Int(frames.first!)].name, default: 0] += 1
            rootCounts[profile.frames[Int(frames.last!)].name, default: 0] += 1
        }
        let topLeaves = leafCounts.sorted { $0.value > $1.value }.prefix(3).map(\.key)
        for name in topLeaves + Array(rootCounts.keys) { XCTAssertTrue(names.contains(name), "\(name) is drawn") }
        XCTAssertEqual(names.first, "all")

        // Zooming into the widest outermost frame hides its sibling subtree.
        let zoom = try XCTUnwrap(flame["zoom"] as? [String: Any])
        let target = try XCTUnwrap(zoom["target"] as? String)
        XCTAssertEqual(target, rootCounts.max { $0.value < $1.value }!.key)
        let zoomedNames = try XCTUnwrap(zoom["names"] as? [String])
        XCTAssertTrue(zoomedNames.contains(target))
        XCTAssertTrue(names.contains("<module>") && !zoomedNames.contains("<module>"), "the main thread's stack is outside the zoom")
        XCTAssertTrue((zoom["info"] as? String)?.contains("zoomed into \(target)") ?? false)

        // The state filter changes what is shown.
        let byState = try XCTUnwrap(flame["byState"] as? [String: [String: Any]])
        func shown(_ state: String) -> Set<String> { Set((byState[state]?["names"] as? [String]) ?? []) }
        XCTAssertEqual(byState["all"]?["total"] as? Int, profile.samples.count)
        for state in ThreadState.allCases where profile.samples.contains(where: { $0.state == state }) {
            XCTAssertEqual(byState[state.rawValue]?["total"] as? Int, profile.samples.filter { $0.state == state }.count, state.rawValue)
        }
        XCTAssertTrue(shown("lock_wait").contains("acquire") && !shown("lock_wait").contains("crunch"))
        XCTAssertTrue(shown("on_cpu").contains("crunch") && !shown("on_cpu").contains("acquire") && !shown("on_cpu").contains("take_gil"))
        XCTAssertTrue(shown("gil_wait").contains("take_gil") && !shown("gil_wait").contains("recv_bytes"))
        XCTAssertTrue(shown("io_wait").contains("recv_bytes") && shown("io_wait").contains("<module>"))
        XCTAssertGreaterThan(flame["searchMatches"] as? Int ?? 0, 0)

        // Timeline: one lane per thread, grouped by process; zooming narrows the view.
        let tl = try XCTUnwrap(r["timeline"] as? [String: Any])
        XCTAssertEqual(tl["lanes"] as? Int, profile.threads.count)
        XCTAssertEqual(Set((tl["laneTids"] as? [Int]) ?? []), Set(profile.threads.map { Int($0.tid) }))
        XCTAssertEqual(tl["groups"] as? Int, profile.processes.count)
        let before = try XCTUnwrap(tl["viewBefore"] as? [Double]), zoomed = try XCTUnwrap(tl["viewZoomed"] as? [Double])
        XCTAssertLessThan(zoomed[1] - zoomed[0], (before[1] - before[0]) * 0.75)

        try checkExperimentChart(r)
    }

    /// One series per strategy with a point per configuration; when the experiment's JSON
    /// carries scaling fits (the extended contract) a fitted curve and two hollow predicted
    /// points per fitted strategy; stacked wait bars when it carries wait breakdowns.
    func checkExperimentChart(_ r: [String: Any], file: StaticString = #filePath, line: UInt = #line) throws {
        let experimentJSON = try JSONSerialization.jsonObject(with: JSONEncoder().encode(SyntheticProfiles.sampleExperiment())) as! [String: Any]
        let fitted = Set(((experimentJSON["scaling"] as? [[String: Any]]) ?? []).compactMap { $0["strategy"] as? String })
        let hasWaits = ((experimentJSON["summary"] as? [[String: Any]]) ?? []).contains { $0["wait_breakdown"] != nil }
        let exp = try XCTUnwrap(r["experiment"] as? [String: Any], file: file, line: line)
        let series = try XCTUnwrap(exp["series"] as? [[String: Any]], file: file, line: line)
        XCTAssertEqual(series.map { $0["strategy"] as? String }, ["serial", "threads", "processes"], file: file, line: line)
        let measured = ["serial": 1, "threads": 3, "processes": 3]
        for s in series {
            let name = s["strategy"] as! String
            let isFitted = fitted.contains(name)
            XCTAssertEqual(s["points"] as? Int, measured[name]! + (isFitted ? 2 : 0), name, file: file, line: line)
            XCTAssertEqual(s["predicted"] as? Int, isFitted ? 2 : 0, name, file: file, line: line)
            XCTAssertEqual(s["fits"] as? Int, isFitted ? 1 : 0, name, file: file, line: line)
        }
        XCTAssertEqual(exp["rows"] as? Int, 7, file: file, line: line)
        XCTAssertEqual((exp["waitBars"] as? Int ?? 0) > 0, hasWaits, file: file, line: line)
    }

    func testHostileNamesRunNoScriptInChromium() throws {
        let r = try browse(ReportInput(profile: SyntheticProfiles.hostile()))
        XCTAssertTrue(r["pwned"] is NSNull, "a name's markup ran: \(String(describing: r["pwned"]))")
        let names = try XCTUnwrap((r["flame"] as? [String: Any])?["names"] as? [String])
        XCTAssertTrue(names.contains(SyntheticProfiles.hostileNames[0]), "names are shown as text: \(names)")
    }

    /// A thread whose samples disagreed with the kernel's accounting shows both CPU shares,
    /// marked corrected; the others show the sampled share alone.
    func testObserverBiasShowsTheKernelsShareInChromium() throws {
        let profile = SyntheticProfiles.pythonWorkers(ticks: 400)
        var analysis = SyntheticProfiles.sampleAnalysis()
        let biased = profile.threads[1]
        var row = ThreadBreakdown(pid: biased.pid, tid: biased.tid, name: biased.name, samples: 400, states: StateShares())
        row.measured = MeasuredCPU(onCPU: 0.83, runnable: 0.05, windowSeconds: 3.9, sampledRunning: 0.02, tolerance: 0.11, biased: true)
        row.states.onCPU = 0.83
        row.states.runnable = 0.05
        row.states.ioWait = 0.12
        row.sampledStates = StateShares()
        var agreeing = ThreadBreakdown(pid: profile.threads[0].pid, tid: profile.threads[0].tid, name: profile.threads[0].name,
                                       samples: 400, states: StateShares())
        agreeing.measured = MeasuredCPU(onCPU: 0.5, runnable: 0, windowSeconds: 3.9, sampledRunning: 0.5, tolerance: 0.14, biased: false)
        analysis.threads = [agreeing, row]
        analysis.recommendation = nil  // so the headline's numbers are the profile's totals
        let r = try browse(ReportInput(profile: profile, analysis: analysis))
        // The page's totals count the corrected thread at its corrected shares.
        let n = profile.samples.filter { $0.tid == biased.tid }.count
        let onCPU = Double(profile.samples.filter { $0.tid != biased.tid && $0.state == .onCPU }.count) + 0.83 * Double(n)
        let expected = "\(Int((onCPU / Double(profile.samples.count) * 100).rounded()))%of thread time on CPU"
        XCTAssertTrue((r["numbers"] as? [String])?.contains(expected) ?? false, "\(r["numbers"] ?? "none") lacks \(expected)")
        let threads = try XCTUnwrap(r["threads"] as? [[String: Any]])
        XCTAssertEqual(threads.count, profile.threads.count)
        let shown = try XCTUnwrap(threads.first { $0["tid"] as? Int == Int(biased.tid) })
        XCTAssertTrue((shown["name"] as? String)?.hasSuffix("corrected") ?? false, "\(shown)")
        XCTAssertTrue((shown["onCPU"] as? String)?.hasSuffix("kernel 83%") ?? false, "\(shown)")
        for t in threads where t["tid"] as? Int != Int(biased.tid) {
            XCTAssertFalse((t["onCPU"] as? String)?.contains("kernel") ?? true, "\(t)")
        }
        XCTAssertTrue((r["threadsNote"] as? String)?.contains("observer bias") ?? false)
    }

    /// The machine's load next to the program's, one line under the thread table; none
    /// without the analysis's `machine`.
    func testMachineLoadLineInChromium() throws {
        let profile = SyntheticProfiles.pythonWorkers(ticks: 200)
        var analysis = SyntheticProfiles.sampleAnalysis()
        XCTAssertTrue(try browse(ReportInput(profile: profile, analysis: analysis))["machineLoad"] is NSNull)
        analysis.machine = MachineUsage(cores: 2, windowSeconds: 3, busyCores: 1.98, programCores: 0.35, forkcastCores: 0.04, otherCores: 1.59,
                                        stealCores: 0.2, otherShare: 0.795, runnableShare: 0.86, ownRunnableShare: 0.09,
                                        externalRunnableShare: 0.79, external: true)
        let line = try XCTUnwrap(try browse(ReportInput(profile: profile, analysis: analysis))["machineLoad"] as? String)
        XCTAssertEqual(line, "Machine: 1.98 of 2 cores busy on average — this program 0.35, forkcast 0.040, other programs 1.59 (steal 0.20); "
                       + "they kept the working threads from a CPU 79% of their time.")
    }

    func testExperimentOnlyReportInChromium() throws {
        let r = try browse(ReportInput(experiment: SyntheticProfiles.sampleExperiment()))
        XCTAssertTrue(r["flame"] is NSNull)
        try checkExperimentChart(r)
        XCTAssertEqual(r["headline"] as? String, "Use processes: 4 worker processes.high confidence · 90%")
    }

    /// The headline names every outcome in words that fit it: no "Use undecided with 0
    /// workers", an experiment's undecided says between what and how many rounds would
    /// likely decide it, an equivalence tie names what it tied with, a hybrid shows its
    /// processes × threads split, and a recording's keep/undecided reads as a recording's.
    func testHeadlineWordingForEveryOutcomeInChromium() throws {
        let reason = Reason(factor: .measured, text: "why")
        func experiment(_ rec: ExperimentRecommendation, varied: Bool? = nil) -> ReportInput {
            var e = SyntheticProfiles.sampleExperiment()
            var hybrid = e.summary.first { $0.strategy == "processes" && $0.workers == 4 }!
            hybrid.strategy = "hybrid"
            hybrid.hybridProcesses = 2
            hybrid.hybridThreads = 2
            e.summary.append(hybrid)
            e.recommendation = rec
            if let v = varied { e.varied = v }
            return ReportInput(experiment: e)
        }
        let t4 = ConfigurationRef(strategy: "threads", workers: 4), p2 = ConfigurationRef(strategy: "processes", workers: 2)
        let h4 = ConfigurationRef(strategy: "hybrid", workers: 4)
        let separated = ExperimentRecommendation(strategy: .undecided, workers: 0, margin: 0, decisive: false, confidence: 0, reasons: [reason],
            equivalence: 0.05, undecided: UndecidedComparison(kind: "not_separated", reason: "noise", candidates: [t4, p2],
                                                              ratio: PairedInterval(median: 1.04, low: 0.97, high: 1.12, pairs: 20), roundsLikelyNeeded: 6))
        let notVaried = ExperimentRecommendation(strategy: .undecided, workers: 0, margin: 0, decisive: false, confidence: 0, reasons: [reason],
            undecided: UndecidedComparison(kind: "not_varied", reason: "nothing swapped"))
        let tie = ExperimentRecommendation(strategy: .processes, workers: 2, margin: -0.02, decisive: false, tiedWith: [ConfigurationRef(strategy: "processes", workers: 4)],
                                           confidence: 0.5, reasons: [reason], equivalence: 0.05)
        let hybridWin = ExperimentRecommendation(strategy: .hybrid, workers: 4, margin: 0.3, decisive: true, runnerUp: t4, confidence: 0.85, reasons: [reason])
        let settled = ExperimentRecommendation(strategy: .processes, workers: 2, margin: 0.01, decisive: false, runnerUp: ConfigurationRef(strategy: "processes", workers: 4),
                                               confidence: 0.6, reasons: [reason])
        func analysis(_ strategy: RecommendedStrategy) -> ReportInput {
            var a = SyntheticProfiles.sampleAnalysis()
            a.recommendation = Recommendation(strategy: strategy, workers: 0, confidence: 0.4, reasons: [reason])
            return ReportInput(profile: SyntheticProfiles.pythonWorkers(ticks: 50), analysis: a)
        }
        let cases: [(String, ReportInput, String, String?)] = [
            ("undecided, not separated", experiment(separated),
             "Undecided between threads×4 and processes×2: the runs could not tell them apart.",
             "Paired time ratio 1.04× (95% interval 0.97–1.12, 20 rounds); about 6 more rounds would likely decide it."),
            ("undecided, not varied", experiment(notVaried, varied: false),
             "No advice: the experiment could not vary the program's concurrency, so every run measured the same code.", nil),
            ("equivalence tie", experiment(tie), "Use processes: 2 worker processes.medium confidence · 50%",
             "Practically equivalent to processes×4 (within ±5.0%): the cheaper configuration is chosen."),
            ("hybrid, decisive", experiment(hybridWin), "Use a hybrid: 2 processes × 2 threads (4 workers).high confidence · 85%",
             "A clear win: the runner-up (threads×4) takes 30% longer, outside the confidence intervals."),
            ("worker count open", experiment(settled), "Use processes: 2 worker processes.medium confidence · 60%",
             "The strategy is settled; the worker count is not (processes×4 could not be told apart)."),
            ("recording: keep", analysis(.keep), "Keep the current design: its concurrency model is not what limits this program.low confidence · 40%", nil),
            ("recording: undecided", analysis(.undecided), "Undecided: this recording cannot tell what would help.", nil),
        ]
        for (name, input, headline, detail) in cases {
            let r = try browse(input)
            let shown = r["headline"] as? String
            XCTAssertEqual(shown, headline, name)
            XCTAssertEqual(r["headlineDetail"] as? String, detail, name)
            for wrong in ["Use undecided", "Use keep", "0 workers", "tie within measurement noise"] {
                XCTAssertFalse((shown ?? "").contains(wrong) || ((r["headlineDetail"] as? String) ?? "").contains(wrong), "\(name): \(wrong)")
            }
        }
    }
}

/// Writes the example inputs behind docs/report-screenshot.png (a profile, an analysis and
/// an experiment) when FORKCAST_EXAMPLE_DIR is set; see benchmarks/report/screenshot.sh.
final class ExampleInputs: XCTestCase {
    func testWriteExampleInputs() throws {
        guard let dir = ProcessInfo.processInfo.environment["FORKCAST_EXAMPLE_DIR"] else {
            throw XCTSkip("set FORKCAST_EXAMPLE_DIR to write the example report's inputs")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try SyntheticProfiles.pythonWorkers(ticks: 600, dwell: 6).encoded(gzip: false).write(to: URL(fileURLWithPath: "\(dir)/example.profile.json"))
        var analysis = try JSONSerialization.jsonObject(with: encoder.encode(SyntheticProfiles.sampleAnalysis())) as! [String: Any]
        analysis["format"] = "forkcast-analysis"
        try JSONSerialization.data(withJSONObject: analysis).write(to: URL(fileURLWithPath: "\(dir)/example.analysis.json"))
        try encoder.encode(SyntheticProfiles.sampleExperiment()).write(to: URL(fileURLWithPath: "\(dir)/example.experiment.json"))
    }
}
