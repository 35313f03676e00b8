import ForkcastModel
import ForkcastTestSupport
import Foundation
import XCTest

/// docs/writing-plugins.md stays true: its manifest and code, taken from the document,
/// make a plugin that passes `plugins check` and whose finding appears in `analyze`.
final class PluginTutorialTests: XCTestCase {
    func testTheGuidesPluginWorks() throws {
        let doc = try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("docs/writing-plugins.md"), encoding: .utf8)
        var blocks: [(lang: String, code: String)] = []
        let parts = doc.components(separatedBy: "```")
        for i in stride(from: 1, to: parts.count, by: 2) {
            let body = parts[i]
            let nl = body.firstIndex(of: "\n") ?? body.startIndex
            blocks.append((String(body[..<nl]), String(body[body.index(after: nl)...])))
        }
        let manifest = try XCTUnwrap(blocks.first { $0.lang == "json" }?.code)
        let python = blocks.filter { $0.lang == "python" }.map(\.code)
        XCTAssertEqual(python.count, 3, "the plugin in two parts, then the same plugin on the SDK")

        let root = FileManager.default.temporaryDirectory.appendingPathComponent("forkcast-tutorial-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("sleepy-threads")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try manifest.write(to: folder.appendingPathComponent("plugin.json"), atomically: true, encoding: .utf8)
        try python[0...1].joined().write(to: folder.appendingPathComponent("sleepy.py"), atomically: true, encoding: .utf8)

        try checkAndAnalyze(folder: folder, root: root)

        // Section 8: the same analyzer on the SDK forkcast puts on PYTHONPATH.
        try python[2].write(to: folder.appendingPathComponent("sleepy.py"), atomically: true, encoding: .utf8)
        try checkAndAnalyze(folder: folder, root: root)
    }

    func checkAndAnalyze(folder: URL, root: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let binary = try Fixtures.forkcastBinary()
        var env = Foundation.ProcessInfo.processInfo.environment
        env["FORKCAST_PLUGIN_PATH"] = root.path
        env["HOME"] = root.path
        env["FORKCAST_PLUGINS"] = nil
        let check = try Fixtures.run(binary, ["plugins", "check", folder.path], environment: env)
        XCTAssertEqual(check.status, 0, check.stdout + check.stderr, file: file, line: line)
        XCTAssertTrue(check.stdout.contains("ok   sample analyzer request: 0 findings on the sample profile"), check.stdout, file: file, line: line)

        // A poller that sleeps 9 ticks in 10, next to a busy main thread.
        let sleepStack = [SyntheticProfiles.native("clock_nanosleep"), SyntheticProfiles.python("poller", file: "/tmp/poll.py", line: 5)]
        let work = [SyntheticProfiles.python("<module>", file: "/tmp/poll.py", line: 7)]
        let profile = SyntheticProfiles.make(threads: [
            .init(name: "python3", pid: 50, tid: 50, cycle: [(.onCPU, work, nil, true)]),
            .init(name: "poller", pid: 50, tid: 51, cycle: Array(repeating: (.sleep, sleepStack, nil, false), count: 9) + [(.onCPU, sleepStack, nil, true)]),
        ], ticks: 200)
        let path = root.appendingPathComponent("poll.json")
        try profile.encoded(gzip: false).write(to: path)
        let r = try Fixtures.run(binary, ["analyze", path.path, "--plugin", "sleepy-threads"], environment: env)
        XCTAssertEqual(r.status, 0, r.stderr, file: file, line: line)
        XCTAssertTrue(r.stdout.contains("[warning] Thread poller (51) slept 90% of its life"), r.stdout, file: file, line: line)
        XCTAssertTrue(r.stderr.contains("[plugin sleepy-threads] looked at 2 threads"), r.stderr, file: file, line: line)
    }
}
