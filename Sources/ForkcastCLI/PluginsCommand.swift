import ArgumentParser
import ForkcastAnalysis
import ForkcastModel
import ForkcastPlugins
import Foundation

/// `forkcast plugins list|info|check` — the built-in and external plugins (docs/plugins.md).
public struct Plugins: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "List, describe and check plugins: strategies, analyzers, recommender rules and reporters.",
        discussion: """
        External plugins are folders with a plugin.json, found in $FORKCAST_PLUGIN_PATH (colon-separated), \
        ~/.local/share/forkcast/plugins, and the plugins/ folder of the Forkcast checkout. They run only when \
        selected: `forkcast analyze --plugin NAME` (or --plugin all, or FORKCAST_PLUGINS=NAME,…). See docs/plugins.md.
        """,
        subcommands: [List.self, Info.self, Check.self, Sample.self, SDKPath.self]
    )
    public init() {}

    /// The registry every command uses: built-ins plus what is found on disk.
    static func registry() -> PluginRegistry {
        PluginRegistry.standard(log: Terminal.pluginLog)
    }

    static func fail(_ command: String, _ message: String) -> Never {
        Terminal.error(message)
        Plugins.exit(withError: ExitCode(2))
    }

    /// A row of `plugins list`.
    struct Row: Codable {
        var name: String
        var kind: String
        var version: String
        /// "builtin", or "external".
        var origin: String
        /// For external plugins: the folder, and where it was found.
        var folder: String?
        var source: String?
        var protocolVersion: Int
        var summary: String
        var status: String
        enum CodingKeys: String, CodingKey {
            case name, kind, version, origin, folder, source, protocolVersion = "protocol_version", summary, status
        }
    }

    static func rows(_ r: PluginRegistry) -> [Row] {
        var rows = r.descriptors.map { d -> Row in
            if let e = r.external[d.name] {
                return Row(name: d.name, kind: d.kind.rawValue, version: d.version, origin: "external", folder: e.folder,
                           source: e.source.rawValue, protocolVersion: d.protocolVersion, summary: d.summary, status: "ok")
            }
            return Row(name: d.name, kind: d.kind.rawValue, version: d.version, origin: "builtin", folder: nil, source: nil,
                       protocolVersion: d.protocolVersion, summary: d.summary, status: "ok")
        }
        rows += r.problems.map { p in
            Row(name: p.plugin, kind: "?", version: "?", origin: "external", folder: nil, source: nil, protocolVersion: 0,
                summary: p.reason, status: "broken")
        }
        return rows
    }

    public struct List: ParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "List every plugin: kind, version, origin.")
        @Flag(help: "Print the list as JSON (an array of objects).")
        public var json = false
        public init() {}

        public func run() throws {
            let rows = Plugins.rows(Plugins.registry())
            if json {
                let e = JSONEncoder()
                e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                var data = try e.encode(rows)
                data.append(0x0a)
                FileHandle.standardOutput.write(data)
                return
            }
            var table = [["NAME", "KIND", "VERSION", "ORIGIN", "DESCRIPTION"]]
            for r in rows {
                let origin = r.origin == "builtin" ? "builtin" : r.status == "broken" ? "external (BROKEN)" : "external \(r.folder ?? "")"
                table.append([r.name, r.kind, r.version, origin, r.status == "broken" ? r.summary : r.summary])
            }
            print(TextTable.render(table), terminator: "")
            let externals = rows.filter { $0.origin == "external" && $0.status == "ok" }.count
            print("\n\(rows.count - externals) built-in, \(externals) external. External plugins run when selected: --plugin NAME (or all).")
        }
    }

    public struct Info: ParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Describe one plugin.")
        @Argument(help: "The plugin's name (see `forkcast plugins list`).")
        public var name: String
        public init() {}

        public func run() throws {
            let r = Plugins.registry()
            if let p = r.problems.first(where: { $0.plugin == name }), r.descriptor(named: name) == nil {
                Plugins.fail("info", "\(p)")
            }
            let matches = r.descriptors.filter { $0.name == name }
            guard !matches.isEmpty else {
                Plugins.fail("info", "no plugin named \(name) (see `forkcast plugins list`)")
            }
            var lines: [String] = []
            for d in matches {
                if !lines.isEmpty { lines.append("") }
                lines += ["name:      \(d.name)", "kind:      \(d.kind.rawValue)", "version:   \(d.version)",
                          "summary:   \(d.summary)", "protocol:  \(d.protocolVersion)"]
                if let e = r.external[name] {
                    lines.append("origin:    external, \(e.folder) (from \(e.source.rawValue))")
                    lines.append("command:   \(e.manifest.command.joined(separator: " ")) (in its folder)")
                    lines.append("timeout:   \(Plugins.formatted(e.timeoutSeconds)) s")
                    if let s = e.manifest.strategies { lines.append("strategies: \(s.joined(separator: ", "))") }
                    if let x = e.manifest.fileExtension { lines.append("extension: \(x)") }
                    let readme = (e.folder as NSString).appendingPathComponent("README.md")
                    if FileManager.default.fileExists(atPath: readme) { lines.append("readme:    \(readme)") }
                    let command = switch d.kind {
                    case .analyzer, .recommenderRule: "forkcast analyze PROFILE --plugin \(d.name)"
                    case .reporter: "forkcast report PROFILE --plugin \(d.name) -o FILE"
                    case .strategy: "forkcast experiment --plugin \(d.name) -- CMD"
                    }
                    lines.append("run it:    \(command)")
                } else {
                    lines.append("origin:    builtin" + (d.kind == .analyzer || d.kind == .recommenderRule ? " (runs by default; --no-plugin \(d.name) skips it)" : ""))
                }
            }
            print(lines.joined(separator: "\n"))
        }
    }

    static func formatted(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(x) }

    public struct Sample: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Print the messages forkcast would send a plugin of a kind (hello, then the request), to feed it by hand.",
            discussion: "forkcast plugins sample analyzer --profile run.json.gz | python3 my_plugin.py")
        @Argument(help: "The plugin kind: analyzer, recommender-rule, reporter or strategy.")
        public var kind: String
        @Option(help: "Use this profile (analyzed here) instead of the built-in sample.")
        public var profile: String?
        @Option(help: "The name sent in the hello.")
        public var name = "my-plugin"
        public init() {}

        public func run() throws {
            guard let k = PluginKind(rawValue: kind) else {
                Plugins.fail("sample", "unknown kind \(kind) (analyzer, recommender-rule, reporter, strategy)")
            }
            var p = SampleInputs.profile()
            if let profile {
                do { p = try Analyze.load(path: profile) } catch { Plugins.fail("sample", "\(error)") }
            }
            let analysis = Analyzer.analyze(p)
            var lines = [try pluginHello(kind: k, name: name)]
            switch k {
            case .analyzer:
                var before = Analyzer.analyze(p, rules: [])
                before.recommendation = nil
                lines.append(try ExternalAnalyzer.request(p, before))
            case .recommenderRule:
                lines.append(try ExternalRecommenderRule.request(RecommendationInput(analysis: analysis, experiment: profile == nil ? SampleInputs.experiment() : nil)))
            case .reporter:
                lines.append(try ExternalReporter.request(ReportInput(profile: p, analysis: analysis), fileExtension: "txt"))
            case .strategy:
                lines.append(try ExternalStrategy.request(SampleInputs.workload, strategy: "threads", workers: 2))
            }
            for var l in lines {
                l.append(0x0a)
                FileHandle.standardOutput.write(l)
            }
        }
    }

    public struct SDKPath: ParsableCommand {
        public static let configuration = CommandConfiguration(
            commandName: "sdk-path",
            abstract: "Print the folder holding forkcast_plugin.py, the Python plugin SDK forkcast puts on every plugin's PYTHONPATH.",
            discussion: "forkcast plugins sample analyzer | PYTHONPATH=$(forkcast plugins sdk-path) python3 my_plugin.py")
        public init() {}

        public func run() throws {
            do { print(try PluginSDK.folder()) } catch { Plugins.fail("sdk-path", "\(error)") }
        }
    }

    public struct Check: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Validate a plugin under development: manifest, handshake, and a sample request of its kind.")
        @Argument(help: "The plugin's folder (holding plugin.json).")
        public var dir: String
        public init() {}

        public func run() throws {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
                Plugins.fail("check", "\(dir): not a folder")
            }
            let folder = URL(fileURLWithPath: dir).standardizedFileURL.path
            let steps = PluginCheck.run(folder: folder, log: Terminal.pluginLog)
            for s in steps { print("\(s.ok ? "ok  " : "FAIL") \(s.name): \(s.detail)") }
            if steps.contains(where: { !$0.ok }) {
                Plugins.exit(withError: ExitCode(1))
            }
            print("\((folder as NSString).lastPathComponent): all checks passed")
        }
    }
}
