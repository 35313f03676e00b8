import Foundation
import XCTest
import ForkcastModel
import ForkcastTestSupport

/// `forkcast report` of the hostile fixture's profile (HostileTargetTests): every export
/// stays valid for its consumer, and the HTML report runs none of the target's text.
final class HostileReportTests: XCTestCase {
    func report(_ format: String, ext: String, extra: [String] = []) throws -> (path: String, result: Fixtures.RunResult) {
        let forkcast = try Fixtures.forkcastBinary()
        let recording = try HostileTargetTests.recordHostile()
        XCTAssertEqual(recording.record.status, 0, recording.record.stderr)
        let out = Fixtures.scratch.appendingPathComponent("hostile-\(UUID().uuidString.prefix(6)).\(ext)").path
        let r = try Fixtures.run(forkcast, ["report", recording.profilePath, "-f", format, "-o", out] + extra)
        XCTAssertEqual(r.status, 0, "report -f \(format): \(r.stderr)")
        HostileTargetTests.assertNoRawControls(r.stdout + r.stderr, "report -f \(format) terminal output")
        return (out, r)
    }

    func testJSONSpeedscopeAndChromeExportsParse() throws {
        for (format, ext) in [("json", "json"), ("speedscope", "speedscope.json"), ("chrome", "trace.json")] {
            let (path, _) = try report(format, ext: ext)
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            XCTAssertNoThrow(try JSONSerialization.jsonObject(with: data), "\(format) export is not JSON")
            let text = String(decoding: data, as: UTF8.self)
            // Hostile text (a command line, thread or function name) is in there, escaped as JSON requires.
            XCTAssertTrue(text.contains("alert("), "\(format): the hostile text is missing")
            XCTAssertFalse(text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" && $0 != "\t" && $0 != "\r" },
                           "\(format): a raw control character inside the JSON")
        }
    }

    /// Folded stacks are one `frame;frame;frame COUNT` per line: a newline or ';' in a name
    /// must not break a line or add a frame.
    func testFoldedExportKeepsOneStackPerLine() throws {
        for extra in [[], ["--thread-roots"]] {
            let (path, _) = try report("folded", ext: "folded", extra: extra)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
            XCTAssertFalse(lines.isEmpty)
            for line in lines {
                let parts = line.split(separator: " ")
                XCTAssertNotNil(parts.last.flatMap { Int($0) }, "not 'stack count': \(line.debugDescription)")
            }
            XCTAssertTrue(text.contains("document.title"), "folded: the hostile names are missing")
            XCTAssertFalse(text.unicodeScalars.contains { $0.value == 0x1b }, "folded: a raw ESC")
        }
    }

    func testPprofExportOpensInPprof() throws {
        let (path, _) = try report("pprof", ext: "pb.gz")
        guard let go = ["/usr/bin/go", "/usr/local/go/bin/go"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("go is not installed (Tests/ForkcastReportTests/browser/ensure-chromium.sh installs it)")
        }
        var env = ProcessInfo.processInfo.environment
        env["HOME"] = env["HOME"] ?? "/root"
        env["GOFLAGS"] = "-mod=mod"
        let r = try Fixtures.run(go, ["tool", "pprof", "-raw", path], environment: env)
        XCTAssertEqual(r.status, 0, "pprof could not read the export: \(r.stderr)")
        XCTAssertTrue(r.stdout.contains("document.title"), "pprof: the hostile names are missing")
    }

    /// The HTML report in headless Chromium: the payloads would set `document.title` to
    /// "pwned-…" (function names), or create real <img>/<svg> elements with handlers
    /// (command line, paths, thread names). After load, the title is the report's own and
    /// the DOM holds no element the target's text created.
    func testHTMLReportRunsNoneOfTheTargetText() throws {
        guard let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("chromium is not installed: run Tests/ForkcastReportTests/browser/ensure-chromium.sh")
        }
        let (path, _) = try report("html", ext: "html")
        let html = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(html.contains("document.title"), "the hostile names are not in the report at all")
        let userData = Fixtures.scratch.appendingPathComponent("chromium-\(UUID().uuidString.prefix(6))").path
        let r = try Fixtures.run(chromium, [
            "--headless=new", "--disable-gpu", "--no-sandbox", "--no-first-run", "--disable-extensions",
            "--user-data-dir=\(userData)", "--virtual-time-budget=5000", "--dump-dom",
            URL(fileURLWithPath: path).absoluteString,
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        let dom = r.stdout
        XCTAssertFalse(dom.isEmpty, "chromium dumped no DOM: \(r.stderr.suffix(1000))")
        for injected in ["<img src=\"x\"", "<svg onload", "<script>alert", "<script>document.title"] {
            XCTAssertFalse(dom.lowercased().contains(injected.lowercased()), "the DOM holds an element from the target's text: \(injected)")
        }
        if let start = dom.range(of: "<title>"), let end = dom.range(of: "</title>", range: start.upperBound..<dom.endIndex) {
            let title = dom[start.upperBound..<end.lowerBound]
            XCTAssertFalse(title.contains("pwned"), "title: \(title)")
        }
    }
}
